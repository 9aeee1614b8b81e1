import EdgeVaultCore
import Logging
import ServiceLifecycle

/// Audits the fragment sets every `fragments.audit_interval_seconds` (0: never; `vault-cli
/// fragments audit` runs one now), repairing those that need it.
public struct FragmentAuditService: Service {
    let fragments: FragmentService
    let interval: Duration
    let logger: Logger

    public init(fragments: FragmentService, interval: Duration, logger: Logger) {
        self.fragments = fragments
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        guard interval > .zero else {
            try? await gracefulShutdown()
            return
        }
        await repeatUntilGracefulShutdown(every: interval) {
            do {
                let r = try await fragments.audit()
                if r.sets > 0 {
                    logger.info("fragment audit", metadata: ["sets": "\(r.sets)", "healthy": "\(r.healthy)/\(r.shares)", "repairs": "\(r.repairs.count)"])
                }
            } catch {
                logger.error("fragment audit failed; it is retried", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Pushes a fresh backup onto the peers every `fragments.push_interval_seconds` (0: never, the
/// default; `vault-cli fragments push` pushes now) with `fragments.k` and `fragments.n`.
public struct FragmentPushService: Service {
    let fragments: FragmentService
    let interval: Duration
    let input: AdminAPI.FragmentsPushInput
    let logger: Logger

    public init(fragments: FragmentService, interval: Duration, input: AdminAPI.FragmentsPushInput, logger: Logger) {
        self.fragments = fragments
        self.interval = interval
        self.input = input
        self.logger = logger
    }

    public func run() async throws {
        guard interval > .zero else {
            try? await gracefulShutdown()
            return
        }
        await repeatUntilGracefulShutdown(every: interval) {
            do {
                let r = try await fragments.push(input)
                logger.notice("fragments pushed", metadata: ["push": "\(r.push)", "bytes": "\(r.backupBytes)", "sets": "\(r.sets.count)"])
            } catch {
                logger.error("scheduled fragments push failed; it is retried", metadata: ["error": "\(error)"])
            }
        }
    }
}
