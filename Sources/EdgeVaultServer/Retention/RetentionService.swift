import EdgeVaultCore
import EdgeVaultStore
import Logging
import ServiceLifecycle

/// Applies each stream's retention `interval` after start, then `interval` after each pass
/// ends (`ingest.retention_sweep_seconds`): deletes whole expired segments, records a
/// `data.deleted` leaf per stream and signs a checkpoint over it.
public struct RetentionService: Service {
    let store: VaultStore
    let ledger: LedgerService
    let interval: Duration
    let logger: Logger

    public init(store: VaultStore, ledger: LedgerService, interval: Duration, logger: Logger) {
        self.store = store
        self.ledger = ledger
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilGracefulShutdown(every: interval) { await sweep() }
    }

    /// One pass; a stream with more expired segments than one transaction takes is continued
    /// right away.
    public func sweep(now: Int64 = Timestamp.now()) async {
        do {
            while true {
                let deletions = try await store.deleteExpiredSegments(now: now)
                for d in deletions {
                    logger.notice("retention deleted expired segments", metadata: [
                        "stream": "\(d.stream)", "segments": "\(d.segments.count)", "readings": "\(d.readings)",
                        "before": "\(Timestamp.rfc3339(milliseconds: d.before))", "leaf": "\(d.leafIndex)",
                    ])
                    try await ledger.anchor(index: d.leafIndex)
                }
                if !deletions.contains(where: { $0.segments.count >= VaultStore.retentionBatch }) { break }
            }
        } catch {
            logger.error("retention pass failed; it is retried", metadata: ["error": "\(error)"])
        }
    }
}
