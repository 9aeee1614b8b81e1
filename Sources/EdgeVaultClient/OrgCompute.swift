import EdgeVaultCore
import EdgeVaultStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The organization's side of compute grants (docs/PROTOCOL.md §"Compute jobs", §"Compute
/// results"): upload a module, fetch and verify results, combine model updates.
extension OrgClient {
    /// `PUT /v1/modules/sha256:<hex>`; returns the name and whether the vault already had it.
    public func pushModule(_ bytes: [UInt8]) async throws -> (name: String, created: Bool) {
        let name = ComputeJob.name(of: bytes)
        // The key rides along, so a vault that has not seen this organization yet can check the
        // signature (its first request will name this module).
        let r = try await send(.PUT, "/v1/modules/\(name)", body: bytes, contentType: "application/wasm",
                               headers: [("EdgeVault-Org-Key", Encoding.base64url(keys.signing.publicKey.bytes))])
        guard r.status == 200 || r.status == 201 else { throw AdminClient.problemError(r) }
        return (name, r.status == 201)
    }
}

/// `vault-cli org results ID --out DIR`: verifies the grant (both signatures, its receipt, the
/// log's consistency with what was seen before), then every result: its receipt against the
/// vault's log key, that its leaf is a compute leaf of this grant and of this organization, and
/// that SHA-256 of the opened output is the leaf's `output`. Writes `DIR/<seq>.out` (the
/// output), `DIR/<seq>.leaf.json` (the exact leaf) and `DIR/<seq>.receipt.json`; runs already
/// in DIR are not fetched again (resumable).
public struct OrgResultsFetcher: Sendable {
    public struct Summary: Sendable {
        public var released = 0
        public var withheld = 0
        public var failed = 0
        public var known = 0
    }

    let fetcher: OrgFetcher

    public init(client: OrgClient, pinsPath: String, policy: TlogPolicy? = nil) {
        fetcher = OrgFetcher(client: client, pinsPath: pinsPath, policy: policy)
    }

    public func fetch(id: String, logKey: String?, directory: String) async throws -> Summary {
        try await fetcher.requireGrantedOrEnded(id: id)
        let (_, access, pins, grantReceipt) = try await fetcher.verifyWithReceipt(id: id, logKey: logKey)
        guard access.isCompute else { throw VaultError(.notGranted, "grant \(id) is a raw grant: use vault-cli org fetch") }
        let verifier = try SignedNote.Verifier(pins.logKey)
        try FileIO.makeDirectories(directory, mode: 0o700)
        try OrgFetcher.writeProof(grantReceipt, to: "\(directory)/grant.tlog-proof")
        var summary = Summary()
        // Resume after the longest run of results already kept (0, 1, … without a gap).
        var after: Int64 = -1
        while FileIO.exists("\(directory)/\(after + 1).leaf.json") { after += 1 }
        summary.known = Int(after + 1)
        var latest = pins
        while true {
            let query = after >= 0 ? "?after=\(after)" : ""
            let (page, _) = try await fetcher.get("/v1/grants/\(AdminClient.percentEncode(id))/results" + query, as: OrgAPI.ComputeResults.self)
            guard !page.results.isEmpty else { break }
            for r in page.results {
                guard r.seq > after else { throw VaultError(.protocolError, "the vault listed run \(r.seq) after \(after)") }
                let verified = try fetcher.check(r.receipt, logKey: verifier)
                try await fetcher.checkConsistency(of: verified.checkpoint, with: latest)
                latest.checkpointSize = verified.checkpoint.size
                latest.checkpointRoot = Encoding.base64(verified.checkpoint.root)
                guard r.leaf == r.receipt.leaf, let run = ComputeRun(leaf: verified.leaf), run.grant == id, run.seq == r.seq,
                      verified.leaf.org == fetcher.client.keys.keyId, run.module == access.job?.module else {
                    throw OrgFetcher.fail("result \(r.seq) is not a compute leaf of your grant \(id)")
                }
                let leafPath = "\(directory)/\(r.seq).leaf.json"
                if run.outcome == .released {
                    guard let text = r.sealedOutput, let sealed = Encoding.fromBase64(text),
                          let output = try? SealedBox.openBytes(sealed, keyPair: fetcher.client.keys.delivery) else {
                        throw OrgFetcher.fail("result \(r.seq): the output does not open with your delivery key")
                    }
                    guard JobInput.digest(output) == run.output else {
                        throw OrgFetcher.fail("result \(r.seq): the output is not the one its ledger entry names")
                    }
                    try FileIO.replace("\(directory)/\(r.seq).out", output, mode: 0o600)
                    summary.released += 1
                } else if run.outcome == .withheld {
                    summary.withheld += 1
                } else {
                    summary.failed += 1
                }
                try FileIO.replace("\(directory)/\(r.seq).receipt.json", Array(try JSONEncoder().encode(r.receipt)), mode: 0o600)
                try OrgFetcher.writeProof(r.receipt, to: "\(directory)/\(r.seq).tlog-proof")
                try FileIO.replace(leafPath, verified.leaf.bytes, mode: 0o600)
                after = r.seq
            }
        }
        try fetcher.savePins(latest)
        return summary
    }
}

extension OrgFetcher {
    /// Results stay readable after a grant ends; a pending or denied request has none.
    func requireGrantedOrEnded(id: String) async throws {
        let s = try await client.status(id: id)
        switch s.status {
        case "granted", "revoked", "expired": return
        case "pending": throw VaultError(.notGranted, "request \(id) is still pending: the person has not decided yet")
        default: throw VaultError(.notGranted, "request \(id) is \(s.status); there are no results")
        }
    }
}

/// `vault-cli org combine`: federated averaging of `linreg-sgd` updates (Modules/README.md):
/// the weights of every released output in the given result directories, averaged weighted by
/// their `samples`.
public enum ModelCombiner {
    public struct Model: Sendable, Equatable {
        public var weights: [Double]
        public var samples: Int64
        public var updates: Int
    }

    public static func combine(directories: [String]) throws -> Model {
        var sum: [Double] = []
        var samples: Int64 = 0
        var updates = 0
        for dir in directories {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".out") }.sorted()
            guard !names.isEmpty else { throw VaultError(.badRequest, "\(dir) holds no released output (vault-cli org results writes them)") }
            for name in names {
                let path = "\(dir)/\(name)"
                guard case .object(let o)? = try? JSONValue.parse(try FileIO.read(path, limit: 4 << 20)),
                      case .array(let w)? = o["weights"], let n = o["samples"]?.numberText.flatMap({ Int64($0) }), n >= 0 else {
                    throw VaultError(.badRequest, "\(path) is not a linreg-sgd update ({\"weights\":[…],\"samples\":n})")
                }
                let weights = w.compactMap(\.doubleValue)
                guard weights.count == w.count, !weights.isEmpty, weights.allSatisfy(\.isFinite) else {
                    throw VaultError(.badRequest, "\(path): weights must be finite numbers")
                }
                if sum.isEmpty { sum = Array(repeating: 0, count: weights.count) }
                guard weights.count == sum.count else { throw VaultError(.badRequest, "\(path) has \(weights.count) weights, others \(sum.count)") }
                for i in sum.indices { sum[i] += weights[i] * Double(n) }
                samples += n
                updates += 1
            }
        }
        guard samples > 0 else { throw VaultError(.badRequest, "no update was trained on any sample; nothing to combine") }
        return Model(weights: sum.map { $0 / Double(samples) }, samples: samples, updates: updates)
    }

    /// The combined model as the next round's params: `{"type":"edgevault.linreg-model/v1","weights":[…],"samples":n,"updates":k}`.
    public static func document(_ m: Model) -> [UInt8] {
        JSONValue.object([
            "type": .string("edgevault.linreg-model/v1"),
            "weights": .array(m.weights.map { .number("\($0)") }),
            "samples": .number("\(m.samples)"), "updates": .number("\(m.updates)"),
        ]).serialized() + [0x0A]
    }
}
