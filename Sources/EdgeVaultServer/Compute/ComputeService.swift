import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultCompute
import Logging

/// Runs `per-segment` compute jobs (docs/PROTOCOL.md §"Compute jobs"): as an in-scope segment
/// closes, the segment manager hands over its key before wiping its own copy; this service
/// reads and decrypts the segment's chunks, wipes the key, builds the job's stdin and runs each
/// covering grant's module in the sandbox (a child process, docs/SECURITY.md §"The compute
/// sandbox"), one run at a time. A `review` run's output is kept sealed to the person until
/// they decide; an `auto` run's output is sealed to the delivery key and released with its
/// leaf; a failed run is a `compute.failed` leaf. Nothing here blocks ingest, and no outcome
/// of a run (fuel, memory, wall time, trap, output, exit, a sandbox that cannot start) stops
/// the daemon.
public actor ComputeService {
    /// A closed segment some live per-segment compute grant covers.
    public struct ClosedSegment: Sendable {
        public var id: String
        public var ordinal: Int64
        public var stream: String
        public var bucketStart: Int64
        public var bucketEnd: Int64
        public var dek: SecureBytes
        /// `org` and grant id of each covering grant.
        public var grants: [(org: String, id: String)]
    }

    /// At most this many closed segments wait for their runs; more are not run (logged).
    public static let maxQueued = 256
    /// Held `review` outputs: per grant, and their sealed bytes in all.
    public static let maxHeldPerGrant = 32
    public static let maxHeldBytes: Int64 = 128 << 20
    /// One organization's share of it: one cannot make the others' runs be skipped.
    public static let maxHeldBytesPerOrg: Int64 = 32 << 20

    let store: VaultStore
    let ledger: LedgerService
    let runner: SandboxRunner
    let userBoxKey: [UInt8]
    let logger: Logger
    var queue: [ClosedSegment] = []
    var running = false
    /// Finished runs, for tests and `/metrics`.
    public private(set) var completed = 0
    var idleWaiters: [CheckedContinuation<Void, Never>] = []

    package init(store: VaultStore, ledger: LedgerService, runner: SandboxRunner, userBoxKey: [UInt8], logger: Logger) {
        self.store = store
        self.ledger = ledger
        self.runner = runner
        self.userBoxKey = userBoxKey
        self.logger = logger
    }

    public func enqueue(_ segment: ClosedSegment) {
        guard queue.count < Self.maxQueued else {
            logger.error("compute queue full; a closed segment's jobs were not run", metadata: ["segment": "\(segment.id)"])
            return
        }
        queue.append(segment)
        guard !running else { return }
        running = true
        Task { await self.drain() }
    }

    /// Returns once every queued segment has been handled.
    public func idle() async {
        guard running || !queue.isEmpty else { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    func drain() async {
        while !queue.isEmpty {
            let next = queue.removeFirst()
            await handle(next)
        }
        running = false
        let waiters = idleWaiters
        idleWaiters = []
        for w in waiters { w.resume() }
    }

    func handle(_ segment: ClosedSegment) async {
        var readings: [ChunkFormat.Reading] = []
        do {
            var after: Int64 = -1
            while true {
                let page = try await store.chunks(segment: segment.ordinal, after: after, limit: 64)
                guard let last = page.last else { break }
                for c in page {
                    let plain = try ChunkFormat.open([UInt8](c.ciphertext), dek: segment.dek, segmentId: segment.id, seq: c.seq)
                    readings += try ChunkFormat.readings(in: plain)
                }
                after = last.seq
            }
        } catch {
            logger.error("cannot read a closed segment for its compute jobs", metadata: ["segment": "\(segment.id)", "error": "\(error)"])
            return
        }
        // Stable: readings at the same t keep their stored order (docs/PROTOCOL.md §"Compute jobs").
        let ordered = readings.enumerated().sorted { ($0.element.t, $0.offset) < ($1.element.t, $1.offset) }.map(\.element)
        for g in segment.grants {
            do {
                guard let grant = try await store.grant(org: g.org, id: g.id), grant.status == .live, grant.expires > Timestamp.now(),
                      let job = grant.computeJob, job.schedule == .perSegment else { continue }
                var stdin = JobInput(grant: g.id, params: job.params, streams: [segment.stream], from: segment.bucketStart, to: segment.bucketEnd)
                for r in ordered { stdin.append(stream: segment.stream, t: r.t, value: r.value) }
                try await run(job, grant: grant, input: stdin, segment: segment.id)
            } catch {
                logger.error("a compute run could not be recorded", metadata: ["grant": "\(g.id)", "segment": "\(segment.id)", "error": "\(error)"])
            }
        }
    }

    func run(_ job: ComputeJob, grant: GrantRecord, input: JobInput, segment: String) async throws {
        guard let module = try await store.module(name: job.module) else {
            logger.error("a compute grant's module is gone", metadata: ["grant": "\(grant.id)"])
            return
        }
        if job.release == .review {
            // Outputs waiting for the person are bounded: until they decide, a grant's further
            // runs are skipped (and logged), so held outputs can neither fill the disk nor
            // make the person's list too large to read (docs/PROTOCOL.md §"Where it runs").
            let held = try await store.heldRuns(org: grant.org, grant: grant.id)
            guard held.grant < Self.maxHeldPerGrant, held.orgBytes < Self.maxHeldBytesPerOrg, held.bytes < Self.maxHeldBytes else {
                logger.warning("outputs wait for the person; this segment's run of the grant is skipped",
                               metadata: ["grant": "\(grant.id)", "segment": "\(segment)", "held": "\(held.grant)"])
                return
            }
        }
        let created = (try? AccessRequest(payload: Self.payload(of: grant), origin: ledger.origin, now: nil).created) ?? grant.issuedAt
        let outcome: SandboxOutcome
        do {
            outcome = try await runner.run(module: module, stdin: input.bytes, limits: job.limits, clockNanos: UInt64(max(0, created)) * 1_000_000)
        } catch {
            logger.error("the compute sandbox could not start", metadata: ["grant": "\(grant.id)", "error": "\(error)"])
            return
        }
        let seq = try await store.nextRunSeq(org: grant.org, grant: grant.id)
        var run = ComputeRun(grant: grant.id, seq: seq, module: job.module, input: input.digest, readings: input.readings,
                             output: outcome.failure == nil ? JobInput.digest(outcome.stdout) : nil, fuel: outcome.fuelUsed,
                             exit: outcome.exit, reason: outcome.failure, segment: segment)
        let now = Timestamp.now()
        let index: Int64?
        if outcome.failure != nil {
            run.output = nil
            index = try await store.recordRun(org: grant.org, run: run, outcome: .failed, sealedOutput: nil, decisionSha256: nil, now: now)
        } else if job.release == .auto {
            let sealed = try SealedBox.seal(bytes: outcome.stdout, to: [UInt8](grant.deliveryKey))
            index = try await store.recordRun(org: grant.org, run: run, outcome: .released, sealedOutput: sealed, decisionSha256: nil, now: now)
        } else {
            try await store.holdRun(org: grant.org, run: run, heldOutput: try SealedBox.seal(bytes: outcome.stdout, to: userBoxKey),
                                    heldStderr: try SealedBox.seal(bytes: outcome.stderr, to: userBoxKey), now: now)
            index = nil
        }
        completed += 1
        logger.info("compute run", metadata: ["grant": "\(grant.id)", "seq": "\(seq)", "outcome": "\(outcome.failure?.rawValue ?? (index == nil ? "held" : "released"))"])
        if let index { _ = try? await ledger.anchor(index: index) }
    }

    static func payload(of grant: GrantRecord) -> [UInt8] {
        (try? JWS(json: [UInt8](grant.jws)).payload) ?? []
    }
}
