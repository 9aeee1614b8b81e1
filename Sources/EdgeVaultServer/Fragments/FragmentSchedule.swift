import EdgeVaultCore
import Logging
import ServiceLifecycle

/// What vaultd does with fragments by itself, every `interval` (0: never): the audit
/// (`fragments.audit_interval_seconds`, daily; `vault-cli fragments audit` runs one now) and the
/// push (`fragments.push_interval_seconds`, or `fragments.push_after_bytes` of new data, with
/// `fragments.k` and `fragments.n`; both off by default).
public struct FragmentSchedule: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    /// One pass; returns what to log, if anything.
    let work: @Sendable () async throws -> Logger.Metadata?

    public func run() async throws {
        guard interval > .zero else {
            try? await gracefulShutdown()
            return
        }
        await repeatUntilGracefulShutdown(every: interval) {
            do {
                if let metadata = try await work() { logger.info("\(name)", metadata: metadata) }
            } catch {
                logger.error("\(name) failed; it is retried", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Audits and repairs the sets this vault placed.
    public static func audit(_ fragments: FragmentService, interval: Duration, logger: Logger) -> FragmentSchedule {
        FragmentSchedule(name: "fragment audit", interval: interval, logger: logger) {
            let r = try await fragments.audit()
            return r.sets == 0 ? nil : ["sets": "\(r.sets)", "healthy": "\(r.healthy)/\(r.shares)", "repairs": "\(r.repairs.count)"]
        }
    }

    /// Pushes a fresh backup once the vault has `bytes` of new data since the last push (the
    /// database's used bytes against the last push's blob), checked every `interval`.
    public static func pushAfterGrowth(_ fragments: FragmentService, input: AdminAPI.FragmentsPushInput, bytes: Int, interval: Duration = .seconds(60),
                                       logger: Logger) -> FragmentSchedule {
        FragmentSchedule(name: "fragments push after new data", interval: bytes > 0 ? interval : .zero, logger: logger) {
            let grown = try await fragments.bytesSinceLastPush()
            guard grown >= bytes else { return nil }
            let r = try await fragments.push(input)
            return ["push": "\(r.push)", "bytes": "\(r.backupBytes)", "sets": "\(r.sets.count)", "newData": "\(grown)"]
        }
    }

    /// Pushes a fresh backup onto the peers.
    public static func push(_ fragments: FragmentService, input: AdminAPI.FragmentsPushInput, interval: Duration, logger: Logger) -> FragmentSchedule {
        FragmentSchedule(name: "fragments push", interval: interval, logger: logger) {
            let r = try await fragments.push(input)
            return ["push": "\(r.push)", "bytes": "\(r.backupBytes)", "sets": "\(r.sets.count)"]
        }
    }
}
