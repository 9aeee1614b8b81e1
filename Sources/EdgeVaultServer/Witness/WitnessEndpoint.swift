import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import Logging
import NIOCore

/// A C2SP tlog-witness (docs/PROTOCOL.md §"Witnesses"): cosigns checkpoints of the logs it
/// knows, each only when it is consistent with the last one it cosigned. The decision is
/// `WitnessCore.evaluate`; this adds the state, kept in SQLite and advanced in the same
/// transaction that reads it, so two submissions cannot both advance from one size. vaultd
/// (for its peers' logs and the logs the person added) and `vault-cli org witness serve` (an
/// organization's) run this same code.
public struct Witness: Sendable {
    public let state: any WitnessStateStore
    public let cosigner: Cosigner
    let logger: Logger

    public init(state: any WitnessStateStore, cosigner: Cosigner, logger: Logger) {
        self.state = state
        self.cosigner = cosigner
        self.logger = logger
    }

    /// Answers one add-checkpoint body. Throws only when the state cannot be read or written.
    public func addCheckpoint(body: [UInt8], now: UInt64 = UInt64(Timestamp.now() / 1000)) async throws -> WitnessOutcome {
        let request: AddCheckpointRequest
        do {
            request = try AddCheckpointRequest(body: body)
        } catch {
            return error.outcome
        }
        let origin = request.checkpoint.origin
        let cosigner = self.cosigner
        let outcome: WitnessOutcome = try await state.updateWitnessedLog(origin: origin) { known in
            guard let known, known.active, let key = try? SignedNote.Verifier(known.logKey) else {
                return (.unknownOrigin("this witness does not witness \(origin)"), nil)
            }
            let stored = known.size.flatMap { size in known.root.map { WitnessLogState(size: size, root: $0) } }
            let outcome = WitnessCore.evaluate(request: request, log: WitnessLog(origin: origin, keys: [key]), stored: stored,
                                               cosigner: cosigner, now: now)
            guard case .cosigned(_, let new) = outcome else { return (outcome, nil) }
            // The checkpoint it holds, sent again: answered, and nothing written (anyone can
            // replay a public checkpoint; it must not cost the card a write each time).
            if new.size == known.size, new.root == known.root { return (outcome, nil) }
            var next = known
            next.size = new.size
            next.root = new.root
            next.checkpoint = request.note
            next.updatedAt = Int64(now) * 1000
            return (outcome, next)
        }
        switch outcome {
        case .cosigned: break
        case .badProof(let why):
            // Either that log forked (its owner's vault raises the alarm) or someone sent a bad
            // proof with its public checkpoint: anyone can, so a warning, not an alarm, here.
            logger.warning("refused a checkpoint not proven consistent with the one cosigned before (the log forked, or a bad submission)",
                           metadata: ["origin": "\(origin)", "size": "\(request.checkpoint.size)", "reason": "\(why)"])
        default:
            logger.info("refused a checkpoint", metadata: ["origin": "\(origin)", "status": "\(outcome.status)"])
        }
        return outcome
    }
}

/// `POST /v1/witness/add-checkpoint`: unauthenticated like the log endpoints (the checkpoint's
/// own signature is what is checked), the body at most `AddCheckpointRequest.maxBodyBytes`.
struct WitnessController<Context: RequestContext>: Sendable {
    let witness: Witness

    func addRoutes(to router: some RouterMethods<Context>) {
        router.post("/v1/witness/add-checkpoint", use: add)
    }

    @Sendable func add(_ request: Request, context: Context) async throws -> Response {
        let outcome: WitnessOutcome
        if let body = try? await request.body.collect(upTo: AddCheckpointRequest.maxBodyBytes) {
            // A store failure throws: the problem middleware answers 503.
            outcome = try await witness.addCheckpoint(body: Array(buffer: body))
        } else {
            outcome = .tooLarge(limit: AddCheckpointRequest.maxBodyBytes)
        }
        return Self.response(outcome)
    }

    static func response(_ outcome: WitnessOutcome) -> Response { Response(status: .init(code: outcome.status), headers: [.contentType: outcome.contentType, .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: outcome.body)))
    }
}

/// At most `perMinute` add-checkpoint calls a minute from one network on a vault's public
/// listener (docs/PROTOCOL.md §"The vault as a witness"): each costs signature and proof checks,
/// and anyone may send them. Peers submit at most four a second each.
struct WitnessRateLimit: RouterMiddleware {
    typealias Context = PublicRequestContext
    static let perMinute = 600
    let limiter = RateLimiter(perMinute: perMinute)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let retry = limiter.take(context.network) {
            var problem = Problem(code: .rateLimited, detail: "at most \(Self.perMinute) add-checkpoint calls a minute from one network; retry in \(retry) s")
            problem.retryAfter = retry
            throw problem
        }
        return try await next(request, context)
    }
}
