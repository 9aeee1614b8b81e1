import EdgeVaultCore
import EdgeVaultStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `vault-cli org fetch`: verify the grant and its receipt, then fetch, open and decrypt
/// exactly what was granted. Resumable: a segment is written to the output only once it is
/// complete, and the completed segments are remembered beside the output.
public struct OrgFetcher: Sendable {
    /// What the organization pinned about a vault at first contact.
    public struct Pins: Codable, Sendable, Equatable {
        public var origin: String
        public var userKeyId: String
        public var userKey: String
        public var logKey: String
        public var checkpointSize: Int64
        public var checkpointRoot: String
    }

    public struct Summary: Sendable {
        public var segments = 0
        public var chunks = 0
        public var readings = 0
        public var skipped = 0
    }

    let client: OrgClient
    let pinsPath: String
    /// The organization's C2SP tlog-policy: every receipt's checkpoint must carry its quorum of
    /// cosignatures (docs/PROTOCOL.md §"Witnesses").
    let policy: TlogPolicy?
    /// How long a grant whose checkpoint is not cosigned to the policy's quorum yet is asked
    /// for again (witnesses cosign within about a second of a checkpoint).
    static let quorumWait: Duration = .seconds(15)

    public init(client: OrgClient, pinsPath: String, policy: TlogPolicy? = nil) {
        self.client = client
        self.pinsPath = pinsPath
        self.policy = policy
    }

    /// Checks `receipt` against the vault's log key and, when the organization has a policy,
    /// its checkpoint's cosignatures.
    func check(_ receipt: Receipt, logKey: SignedNote.Verifier) throws -> Receipt.Verified {
        do {
            return try receipt.verify(logKey: logKey, policy: policy)
        } catch let e as VaultError where e.code == .verificationFailed {
            // Its own code: `verifyWithReceipt` asks again for a checkpoint not cosigned yet.
            throw VaultError(.witnessQuorum, Self.fail("the receipt's checkpoint does not satisfy your policy: \(e.message)").message)
        }
    }

    static func fail(_ m: String) -> VaultError { VaultError(.verificationFailed, "refusing the grant: " + m) }

    func get<T: Decodable>(_ path: String, as: T.Type) async throws -> (T, [UInt8]) {
        let r = try await client.send(.GET, path)
        guard (200..<300).contains(r.status) else { throw AdminClient.problemError(r) }
        guard let v = try? JSONDecoder().decode(T.self, from: Data(r.body)) else { throw VaultError(.protocolError, "unexpected answer to \(path)") }
        return (v, r.body)
    }

    /// Refuses, before anything is fetched, a request that is not (or no longer) granted: a
    /// fetch under a revoked or expired grant is recorded as a violation, and a well-behaved
    /// organization never makes one.
    public func requireGranted(id: String) async throws {
        let s = try await client.status(id: id)
        switch s.status {
        case "granted": return
        case "revoked": throw VaultError(.notGranted, "request \(id) was granted, then revoked by the person; nothing was fetched (fetching now would be recorded as a violation)")
        case "expired": throw VaultError(.notGranted, "request \(id) has expired; nothing was fetched (fetching now would be recorded as a violation)")
        case "denied":
            throw VaultError(.notGranted, "request \(id) was denied by the person" + (s.reason.map { ": \($0)" } ?? "") + "; there is nothing to fetch")
        case "pending": throw VaultError(.notGranted, "request \(id) is still pending: the person has not decided yet; nothing was fetched")
        default: throw VaultError(.notGranted, "request \(id) is \(s.status); there is nothing to fetch")
        }
    }

    /// Verifies grant `id` and returns it with the pins (new or confirmed) and its receipt.
    /// With a policy, a grant whose checkpoint lacks the quorum is asked for again for up to
    /// `quorumWait` before it is refused.
    public func verify(id: String, logKey: String?) async throws -> (JWS, AccessRequest, Pins) {
        let (jws, access, pins, _) = try await verifyWithReceipt(id: id, logKey: logKey)
        return (jws, access, pins)
    }

    public func verifyWithReceipt(id: String, logKey: String?) async throws -> (JWS, AccessRequest, Pins, Receipt) {
        let deadline = ContinuousClock.now + Self.quorumWait
        while true {
            do {
                return try await verifyOnce(id: id, logKey: logKey)
            } catch let e as VaultError where e.code == .witnessQuorum && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    func verifyOnce(id: String, logKey: String?) async throws -> (JWS, AccessRequest, Pins, Receipt) {
        let info = try JSONDecoder().decode(PublicVaultInfo.self, from: Data(try await client.http.send(method: .GET, path: "/v1/vault").body))
        var pins = try loadPins()
        if let logKey, logKey != info.logKey { throw Self.fail("the vault's log key is \(info.logKey), not the one you gave") }
        if let p = pins {
            guard p.origin == info.origin, p.logKey == info.logKey, p.userKeyId == info.userKeyId, p.userKey == info.userKey else {
                throw Self.fail("the vault's keys changed since first contact (pinned in \(pinsPath))")
            }
        }
        guard let userRaw = Encoding.fromBase64url(info.userKey), JWKThumbprint.ed25519(userRaw) == info.userKeyId,
              let userKey = try? SigningPublicKey(bytes: userRaw) else { throw Self.fail("the vault's user key does not match its key id") }
        let logVerifier = try SignedNote.Verifier(info.logKey)

        let response = try await client.send(.GET, "/v1/grants/\(AdminClient.percentEncode(id))")
        guard response.status == 200 else { throw AdminClient.problemError(response) }
        guard case .object(let doc)? = try? JSONValue.parse(response.body), let grantValue = doc["grant"], let receiptValue = doc["receipt"],
              let receipt = try? JSONDecoder().decode(Receipt.self, from: Data(receiptValue.serialized()))
        else { throw VaultError(.protocolError, "unexpected grant document") }
        let jws: JWS
        do { jws = try JWS(json: grantValue.serialized()) } catch { throw Self.fail(error.detail) }
        guard jws.signatures.count == 2 else { throw Self.fail("a grant has exactly two signatures") }
        do throws(JWS.Failure) {
            let (kid, _) = try jws.verifyOrgSignature(jws.signatures[0])
            guard kid == client.keys.keyId else { throw JWS.Failure("the first signature is not yours") }
        } catch { throw Self.fail(error.detail) }
        let person = jws.signatures[1]
        guard person.header["kid"]?.stringValue == info.userKeyId, person.header["decision"]?.stringValue == "grant",
              userKey.isValidSignature(person.signature, for: jws.signingInput(person))
        else { throw Self.fail("the person's signature is missing, not a grant, or does not verify") }
        let access: AccessRequest
        do { access = try AccessRequest(payload: jws.payload, origin: info.origin, now: nil) } catch { throw Self.fail(error.detail) }

        let verified = try check(receipt, logKey: logVerifier)
        guard verified.leaf.type == LedgerLeaf.Kind.grantIssued.rawValue, verified.leaf.org == client.keys.keyId,
              verified.leaf.json["id"]?.stringValue == access.id,
              verified.leaf.json["payloadSha256"]?.stringValue == Encoding.base64(Hash.sha256(jws.payload))
        else { throw Self.fail("the receipt's ledger entry is not this grant") }
        let cp = verified.checkpoint
        try await checkConsistency(of: cp, with: pins)
        pins = Pins(origin: info.origin, userKeyId: info.userKeyId, userKey: info.userKey, logKey: info.logKey,
                    checkpointSize: cp.size, checkpointRoot: Encoding.base64(cp.root))
        try savePins(pins!)
        return (jws, access, pins!, receipt)
    }

    /// Writes `receipt` as a c2sp.org/tlog-proof@v1 file (the leaf's bytes in `extra`), which
    /// `vault-cli log verify-proof` checks offline.
    public static func writeProof(_ receipt: Receipt, to path: String) throws {
        try FileIO.replace(path, Array(try receipt.tlogProof.text.utf8), mode: 0o600)
    }

    /// Fetches and decrypts what the grant covers into NDJSON `{"stream","t","v"}` lines,
    /// appended to `output`. Which chunks of which segment are already there is kept in
    /// `output.fetch-state` (a line `segmentId lastSeq` per segment), so running the same
    /// command again resumes an interrupted fetch and, for an ongoing grant, fetches only what
    /// is new: nothing is downloaded (nor released and counted by the vault) twice.
    public func fetch(id: String, logKey: String?, output: String, progress: (any WorkProgress)?) async throws -> Summary {
        try await requireGranted(id: id)
        let (_, _, _, receipt) = try await verifyWithReceipt(id: id, logKey: logKey)
        try Self.writeProof(receipt, to: output + ".grant.tlog-proof")
        let (list, _) = try await get("/v1/grants/\(AdminClient.percentEncode(id))/segments", as: OrgAPI.Segments.self)
        let statePath = output + ".fetch-state"
        let stateText = (try? FileIO.read(statePath, limit: 16 << 20)).map { String(decoding: $0, as: UTF8.self) }
        var progressBySegment: [String: Int64] = [:]
        for line in (stateText ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            // A line without a seq (state written before per-chunk progress) is a whole segment.
            progressBySegment[String(parts[0])] = parts.count > 1 ? Int64(parts[1]) ?? Int64.max : Int64.max
        }
        if stateText == nil, FileIO.exists(output) {
            throw VaultError(.config, "\(output) exists and was not written by a fetch of this grant (no \(statePath)); choose another -o")
        }
        var summary = Summary()
        let todo = list.segments.filter { progressBySegment[$0.id] != Int64.max }
        progress?.total = todo.reduce(0) { $0 + $1.chunks }
        summary.skipped = list.segments.count - todo.count
        func saveState() throws {
            try FileIO.replace(statePath, Array(progressBySegment.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: "\n").utf8), mode: 0o600)
        }
        if stateText == nil { try saveState() }  // the output is this fetch's from now on
        // Up to four segments are fetched at once; they are written in order, each once complete.
        var index = 0
        while index < todo.count {
            let window = Array(todo[index..<min(todo.count, index + 4)])
            index += window.count
            let starts = window.map { progressBySegment[$0.id] ?? -1 }
            let results = try await withThrowingTaskGroup(of: (Int, [UInt8], Int, Int, Int64?).self) { group in
                for (n, segment) in window.enumerated() {
                    group.addTask { try await fetchSegment(segment, grant: id, after: starts[n], progress: progress, slot: n) }
                }
                var out: [(Int, [UInt8], Int, Int, Int64?)] = []
                for try await r in group { out.append(r) }
                return out.sorted { $0.0 < $1.0 }
            }
            for (n, lines, chunks, readings, last) in results {
                if !lines.isEmpty { try FileIO.append(output, lines, mode: 0o600) }
                if let last { progressBySegment[window[n].id] = last } else if progressBySegment[window[n].id] == nil { progressBySegment[window[n].id] = -1 }
                try saveState()
                if chunks > 0 { summary.segments += 1 } else { summary.skipped += 1 }
                summary.chunks += chunks
                summary.readings += readings
            }
        }
        return summary
    }

    /// Fetches and decrypts one segment's chunks after `after`: its NDJSON lines, chunk and
    /// reading counts, and the last chunk's seq (nil when there was nothing new).
    func fetchSegment(_ segment: OrgAPI.Segment, grant id: String, after start: Int64, progress: (any WorkProgress)?, slot: Int)
        async throws -> (Int, [UInt8], Int, Int, Int64?) {
        guard let sealed = Encoding.fromBase64(segment.sealedKey) else { throw VaultError(.protocolError, "malformed sealed key") }
        let dek: SecureBytes
        do { dek = try SealedBox.open(sealed, keyPair: client.keys.delivery) } catch {
            throw Self.fail("the key of segment \(segment.id) does not open with your delivery key")
        }
        var lines: [UInt8] = []
        var chunks = 0, readings = 0
        var after = start
        var last: Int64?
        while true {
            let (page, _) = try await get("/v1/grants/\(AdminClient.percentEncode(id))/segments/\(segment.id)/chunks?after=\(after)", as: OrgAPI.Chunks.self)
            for chunk in page.chunks {
                guard let rs = try? chunk.readings(dek: dek, segmentId: segment.id) else { throw Self.fail("chunk \(chunk.seq) of segment \(segment.id) does not authenticate") }
                for r in rs {
                    Exporter.render(stream: segment.stream, item: .init(t: r.t, value: r.value), format: .ndjson, into: &lines)
                }
                readings += rs.count
                chunks += 1
                last = chunk.seq
                progress?.advance(by: 1)
            }
            guard let next = page.next else { break }
            after = next
        }
        return (slot, lines, chunks, readings, last)
    }

    /// A checkpoint must extend the last one seen from this vault: never shorter, the same root
    /// at the same size, and a verified consistency proof when longer.
    func checkConsistency(of cp: Checkpoint, with pins: Pins?) async throws {
        guard let p = pins, let oldRoot = Encoding.fromBase64(p.checkpointRoot) else { return }
        if cp.size < p.checkpointSize { throw Self.fail("the vault's log is shorter (\(cp.size)) than when you last saw it (\(p.checkpointSize))") }
        if cp.size == p.checkpointSize, cp.root != oldRoot { throw Self.fail("the vault's log forked: same size, another root") }
        if cp.size > p.checkpointSize {
            let (proof, _) = try await get("/v1/log/proof/consistency?from=\(p.checkpointSize)&to=\(cp.size)", as: AdminAPI.ConsistencyProof.self)
            do {
                try Merkle.verifyConsistency(first: p.checkpointSize, second: cp.size, proof: proof.hashes.compactMap { Encoding.fromBase64($0) },
                                             firstRoot: oldRoot, secondRoot: cp.root)
            } catch { throw Self.fail("the vault's log is not consistent with the checkpoint you saw before") }
        }
    }

    func loadPins() throws -> Pins? {
        guard FileIO.exists(pinsPath) else { return nil }
        return try JSONDecoder().decode(Pins.self, from: Data(try FileIO.read(pinsPath, limit: 1 << 20)))
    }

    func savePins(_ p: Pins) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.makeDirectories(FileIO.parentDirectory(pinsPath), mode: 0o700)
        try FileIO.replace(pinsPath, Array(try encoder.encode(p)), mode: 0o600)
    }
}


#if canImport(Glibc)
import Glibc
#endif
