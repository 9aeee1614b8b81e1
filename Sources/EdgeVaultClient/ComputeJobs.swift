import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultCompute
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension AdminClient {
    /// Modules organizations brought, with the requests and grants that name them.
    public func modules() async throws -> [AdminAPI.Module] { try await get("/v1/modules", as: AdminAPI.Modules.self).modules }

    /// A module's bytes, checked against its name: a daemon cannot hand over other code than
    /// the one the organization signed for.
    public func module(_ name: String) async throws -> [UInt8] {
        guard let digest = ComputeJob.digest(of: name) else { throw VaultError(.badRequest, "not a module name: sha256: and 64 hex digits") }
        let response = try await http.send(method: .GET, path: "/v1/modules/\(name)")
        guard response.status == 200 else { throw Self.problemError(response) }
        guard Hash.sha256(response.body) == digest else {
            throw VaultError(.scopeViolation, "vaultd sent other bytes than module \(name); nothing was run")
        }
        return response.body
    }

    /// Runs waiting for the person, without their outputs.
    /// Removes a module no live grant or pending request names (`409 module_in_use` otherwise).
    public func removeModule(_ name: String) async throws {
        let response = try await http.send(method: .DELETE, path: "/v1/modules/\(name)")
        guard response.status == 200 else { throw Self.problemError(response) }
    }

    public func pendingRuns() async throws -> [AdminAPI.PendingRun] { try await get("/v1/compute/pending", as: AdminAPI.PendingRuns.self).runs }

    /// One waiting run with its output and stderr (sealed to the person), checked to be the one asked for.
    public func pendingRun(_ summary: AdminAPI.PendingRun) async throws -> AdminAPI.PendingRun {
        let run = try await get("/v1/compute/pending/\(Self.percentEncode(summary.org))/\(Self.percentEncode(summary.grant))/\(summary.seq)",
                                as: AdminAPI.PendingRun.self)
        guard run.org == summary.org, run.grant == summary.grant, run.seq == summary.seq, run.output == summary.output else {
            throw VaultError(.scopeViolation, "vaultd sent another run than run \(summary.seq) of grant \(summary.grant); nothing was sent")
        }
        return run
    }

    public func decideRun(_ input: AdminAPI.ComputeDecisionInput) async throws -> AdminAPI.ComputeDecisionResult {
        try await post("/v1/compute/decisions", body: Array(try JSONEncoder().encode(input)), contentType: "application/json",
                       as: AdminAPI.ComputeDecisionResult.self)
    }
}

/// The person's side of compute grants (docs/PROTOCOL.md §"Compute jobs", §"Compute results"):
/// build a `once` job's stdin from the in-scope readings (decrypted here, as export does), run
/// the module in the sandbox, and sign the person's decision on a run: release (the output
/// sealed to the delivery key), withhold, or a failed run.
public struct ComputeJobs {
    let client: AdminClient
    let keys: UserKeys

    public init(client: AdminClient, keys: UserKeys) {
        self.client = client
        self.keys = keys
    }

    /// A `once` job's stdin: every reading of the segments the grant covers, stream by stream
    /// (byte order of the name), each stream's readings by `t`, equal times in stored order.
    /// Every segment is read whole and checked (bound key, every chunk) or nothing runs.
    public func input(for access: AccessRequest, progress: (any WorkProgress)? = nil) async throws -> JobInput {
        let segments = try await client.segments(streams: access.streams, from: access.from, to: access.to)
            .filter { access.scope.covers(stream: $0.stream, bucketStart: $0.startMs, bucketEnd: $0.endMs) }
        progress?.total = segments.reduce(0) { $0 + $1.chunks }
        var input = JobInput(grant: access.id, params: access.job?.params ?? .null, streams: access.streams, from: access.from, to: access.to)
        let streams = Set(segments.map(\.stream)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for stream in streams {
            var items: [Exporter.Item] = []
            for s in segments where s.stream == stream {
                items += try await client.readAll(s, keys: keys, progress: progress, consequence: "nothing was run")
            }
            let ordered = items.enumerated().sorted { ($0.element.t, $0.offset) < ($1.element.t, $1.offset) }
            for (_, item) in ordered { input.append(stream: stream, t: item.t, value: item.value) }
        }
        return input
    }

    /// Runs `job` over `input` in the sandbox; the clock the job sees is the request's `created`.
    package func run(_ job: ComputeJob, input: JobInput, created: Int64, runner: SandboxRunner = SandboxRunner()) async throws -> SandboxOutcome {
        let module = try await client.module(job.module)
        // Checked again on this side: the daemon that stored it is not trusted to have.
        do {
            let info = try WasmModuleInfo.inspect(module)
            try info.validateForUpload()
            try info.check(against: job.limits)
        } catch {
            throw VaultError(.scopeViolation, "module \(job.module) is not one a vault may run (\(error.reason)); nothing was run")
        }
        return try await runner.run(module: module, stdin: input.bytes, limits: job.limits, clockNanos: UInt64(max(0, created)) * 1_000_000)
    }

    /// Signs and sends the person's decision on a run; `output` is sealed to `deliveryKey` when
    /// released. Answers once the leaf is in a signed checkpoint.
    public func decide(_ run: ComputeRun, org: String, outcome: ComputeRun.Outcome, output: [UInt8]?, deliveryKey: [UInt8],
                       now: Int64 = Timestamp.now()) async throws -> AdminAPI.ComputeDecisionResult {
        if outcome == .released, let output, let expected = run.output, JobInput.digest(output) != expected {
            throw VaultError(.scopeViolation, "the output shown is not the one this run produced; nothing was released")
        }
        let jws = ComputeDecision.make(run, org: org, outcome: outcome, at: now, keys: keys)
        let sealed = outcome == .released ? Encoding.base64(try SealedBox.seal(bytes: output ?? [], to: deliveryKey)) : nil
        return try await client.decideRun(.init(org: org, grant: run.grant, jws: String(decoding: jws.serialized(), as: UTF8.self),
                                                sealedOutput: sealed))
    }

    /// Opens a held run's output and stderr (sealed to the person's box key by the daemon) and
    /// checks the output against the hash the run was recorded with.
    public func open(_ pending: AdminAPI.PendingRun) throws -> (output: [UInt8], stderr: [UInt8]) {
        guard let o = pending.sealedOutput.flatMap(Encoding.fromBase64), let output = try? SealedBox.openBytes(o, keyPair: keys.box),
              let e = pending.sealedStderr.flatMap(Encoding.fromBase64), let stderr = try? SealedBox.openBytes(e, keyPair: keys.box) else {
            throw VaultError(.scopeViolation, "run \(pending.seq) of grant \(pending.grant): its output does not open with your key")
        }
        guard JobInput.digest(output) == pending.output else {
            throw VaultError(.scopeViolation, "run \(pending.seq) of grant \(pending.grant): its output is not the one recorded")
        }
        return (output, stderr)
    }
}
