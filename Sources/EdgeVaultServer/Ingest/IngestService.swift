import EdgeVaultCore
import EdgeVaultStore
import Logging
import ServiceLifecycle

/// Runs the segment manager's timer (closing segments when their bucket and grace period
/// end) and, on graceful shutdown, commits what is buffered and wipes every segment key.
public struct IngestService: Service {
    let manager: SegmentManager
    let sweepInterval: Duration

    public init(manager: SegmentManager, sweepInterval: Duration = .seconds(5)) {
        self.manager = manager
        self.sweepInterval = sweepInterval
    }

    public func run() async throws {
        await repeatUntilGracefulShutdown(every: sweepInterval) { await manager.sweep() }
        await manager.shutdown()
    }
}
