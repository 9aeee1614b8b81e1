import EdgeVaultCore
import EdgeVaultStore
import Logging
import ServiceLifecycle

/// Every `sweepInterval` (5 s) asks the segment manager to close the segments whose bucket and
/// grace period have ended (`SegmentManager.sweep`; the manager runs no timer of its own) and,
/// on graceful shutdown, has it commit what is buffered and wipe every segment key.
public struct SegmentSweepService: Service {
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
