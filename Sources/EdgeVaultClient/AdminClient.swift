import EdgeVaultCore
import EdgeVaultStore
#if canImport(Glibc)
import Glibc
#endif
import NIOHTTP1
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The typed client of the admin API that `vault-cli` uses.
public struct AdminClient: Sendable {
    public let http: HTTPClient

    public init(socketPath: String) {
        http = HTTPClient(target: .unix(path: socketPath))
    }

    /// Decodes a JSON body, or turns a problem document into a `VaultError` with its message.
    func decode<T: Decodable>(_ type: T.Type, _ response: HTTPClient.Response) throws -> T {
        guard (200..<300).contains(response.status) else { throw Self.problemError(response) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw VaultError(.protocolError, "unexpected response from vaultd (\(response.status)): not the expected JSON")
        }
    }

    static func problemError(_ response: HTTPClient.Response) -> VaultError {
        if let p = try? JSONDecoder().decode(Problem.self, from: Data(response.body)) {
            // A code this client does not know (a newer vaultd): the detail still says what failed.
            return VaultError(VaultError.Code(rawValue: p.code) ?? .protocolError, p.detail)
        }
        return VaultError(.protocolError, "vaultd answered HTTP \(response.status)")
    }

    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try decode(T.self, try await http.send(method: .GET, path: path))
    }

    func post<T: Decodable>(_ path: String, body: [UInt8], contentType: String, as type: T.Type) async throws -> T {
        try decode(T.self, try await http.send(method: .POST, path: path, headers: [("Content-Type", contentType)], body: body))
    }

    public func status() async throws -> AdminAPI.Status { try await get("/v1/status", as: AdminAPI.Status.self) }
    public func vault() async throws -> AdminAPI.VaultInfo { try await get("/v1/vault", as: AdminAPI.VaultInfo.self) }
    public func streams() async throws -> [AdminAPI.Stream] { try await get("/v1/streams", as: AdminAPI.Streams.self).streams }

    /// Sends the person's signed retention change (`RetentionChange`).
    public func setRetention(_ change: JWS) async throws -> AdminAPI.RetentionResult {
        try decode(AdminAPI.RetentionResult.self, try await http.send(
            method: .PUT, path: "/v1/streams/retention", headers: [("Content-Type", "application/json")],
            body: Array(try JSONEncoder().encode(AdminAPI.SignedRetention(change: String(decoding: change.serialized(), as: UTF8.self))))))
    }

    public func addStream(_ add: AdminAPI.AddStream) async throws -> AdminAPI.Stream {
        try await post("/v1/streams", body: Array(try JSONEncoder().encode(add)), contentType: "application/json", as: AdminAPI.Stream.self)
    }

    /// Sends NDJSON readings; returns how many were stored (all or none).
    /// `allowOld`: times before 2000 are a back-fill, not a unit mistake (docs/PROTOCOL.md §"Reading times").
    public func ingest(ndjson: [UInt8], allowOld: Bool = false) async throws -> Int {
        try await post("/v1/ingest" + (allowOld ? "?allowOld=1" : ""), body: ndjson, contentType: "application/x-ndjson",
                       as: AdminAPI.IngestResponse.self).accepted
    }

    public func segments(streams: [String], from: Int64, to: Int64, unboundOnly: Bool = false) async throws -> [AdminAPI.Segment] {
        var query = streams.map { "stream=\(Self.percentEncode($0))" }
        if unboundOnly { query.append("unbound=1") }
        query.append("from=\(from)")
        query.append("to=\(to)")
        return try await get("/v1/segments?" + query.joined(separator: "&"), as: AdminAPI.Segments.self).segments
    }

    /// Closes a stream's open segments overlapping a range (before a range deletion).
    public func closeSegments(_ input: AdminAPI.CloseSegments) async throws -> AdminAPI.CloseSegmentsResult {
        try await post("/v1/segments/close", body: Array(try JSONEncoder().encode(input)), contentType: "application/json", as: AdminAPI.CloseSegmentsResult.self)
    }

    /// Sends the person's signed range deletion with its replacement segments (`RangeDeletion`).
    public func delete(_ input: AdminAPI.DeletionInput) async throws -> AdminAPI.DeletionResult {
        try await post("/v1/deletions", body: Array(try JSONEncoder().encode(input)), contentType: "application/json", as: AdminAPI.DeletionResult.self)
    }

    /// Every chunk of a segment, page by page, in order. A page cursor that does not move on is
    /// refused: a lying daemon cannot keep the caller looping.
    public func forEachChunk(segment: String, _ body: (AdminAPI.Chunk) async throws -> Void) async throws {
        var after: Int64 = -1
        while true {
            let page = try await chunks(segment: segment, after: after)
            for chunk in page.chunks { try await body(chunk) }
            guard let next = page.next else { return }
            guard next > after, !page.chunks.isEmpty else {
                throw VaultError(.protocolError, "the chunk pages of segment \(segment) do not advance")
            }
            after = next
        }
    }

    /// Sends the person's signed key upgrade (`KeyUpgrade`).
    public func upgradeKeys(_ jws: JWS) async throws -> AdminAPI.KeyUpgradeResult {
        try await post("/v1/segments/keys", body: jws.serialized(), contentType: "application/jose+json", as: AdminAPI.KeyUpgradeResult.self)
    }

    public func chunks(segment: String, after: Int64, limit: Int = 64) async throws -> AdminAPI.Chunks {
        try await get("/v1/segments/\(segment)/chunks?after=\(after)&limit=\(limit)", as: AdminAPI.Chunks.self)
    }

    public func logKey() async throws -> AdminAPI.LogKey { try await get("/v1/log/key", as: AdminAPI.LogKey.self) }

    public func leaves(from: Int64, limit: Int = 1000, type: String? = nil, org: String? = nil) async throws -> AdminAPI.Leaves {
        var path = "/v1/log/leaves?from=\(from)&limit=\(limit)"
        if let type { path += "&type=\(Self.percentEncode(type))" }
        if let org { path += "&org=\(Self.percentEncode(org))" }
        return try await get(path, as: AdminAPI.Leaves.self)
    }

    /// A page of leaves in the binary format, with the log's size and the next index.
    public func rawLeaves(from: Int64) async throws -> (body: [UInt8], entries: [RawLeafPage.Entry], size: Int64, next: Int64?) {
        let r = try await http.send(method: .GET, path: "/v1/log/leaves/raw?from=\(from)")
        guard r.status == 200 else { throw Self.problemError(r) }
        guard let size = r.header("X-Log-Size").flatMap({ Int64($0) }) else { throw VaultError(.protocolError, "leaf page without X-Log-Size") }
        return (r.body, try RawLeafPage.entries(r.body), size, r.header("X-Next").flatMap { Int64($0) })
    }

    public func checkpoints(from: Int64, limit: Int = 1000) async throws -> AdminAPI.Checkpoints {
        try await get("/v1/log/checkpoints?from=\(from)&limit=\(limit)", as: AdminAPI.Checkpoints.self)
    }

    public func consistencyProof(from: Int64, to: Int64) async throws -> AdminAPI.ConsistencyProof {
        try await get("/v1/log/proof/consistency?from=\(from)&to=\(to)", as: AdminAPI.ConsistencyProof.self)
    }

    public func orgs() async throws -> [AdminAPI.Org] { try await get("/v1/orgs", as: AdminAPI.Orgs.self).orgs }

    /// Sends the person's signed trust change (and for a block, the denials of the
    /// organization's pending requests): docs/PROTOCOL.md §"Trust changes".
    public func changeTrust(keyId: String, action: TrustChange.Action, _ input: AdminAPI.TrustChangeInput) async throws -> AdminAPI.TrustChangeResult {
        try await post("/v1/orgs/\(Self.percentEncode(keyId))/\(action.rawValue)", body: Array(try JSONEncoder().encode(input)),
                       contentType: "application/json", as: AdminAPI.TrustChangeResult.self)
    }

    /// Denies several pending requests of one organization with the person's co-signatures.
    public func denyPending(keyId: String, _ input: AdminAPI.DenyPendingInput) async throws -> AdminAPI.DenyPendingResult {
        try await post("/v1/orgs/\(Self.percentEncode(keyId))/denials", body: Array(try JSONEncoder().encode(input)),
                       contentType: "application/json", as: AdminAPI.DenyPendingResult.self)
    }

    public func requests(status: RequestStatus?) async throws -> [AdminAPI.RequestSummary] {
        try await get("/v1/requests" + (status.map { "?status=\($0.rawValue)" } ?? ""), as: AdminAPI.Requests.self).requests
    }

    public func decide(_ input: AdminAPI.DecisionInput) async throws -> AdminAPI.DecisionResult {
        try await post("/v1/decisions", body: Array(try JSONEncoder().encode(input)), contentType: "application/json",
                       as: AdminAPI.DecisionResult.self)
    }

    public func revoke(_ jws: JWS) async throws -> AdminAPI.RevocationResult {
        try await post("/v1/revocations", body: jws.serialized(), contentType: "application/jose+json", as: AdminAPI.RevocationResult.self)
    }

    /// Waits (long poll, up to 30 s) for a request newer than `after`; returns the new version.
    public func waitForRequests(after: Int) async throws -> Int {
        try await get("/v1/requests/wait?after=\(after)", as: [String: Int].self)["version"] ?? after
    }

    /// Writes a consistent backup of the running vault (see `Backup`) to the new file `path`,
    /// as it streams in, checked against its header before the file is kept.
    /// `progress(received, total)` follows the download.
    public func backup(to path: String, progress: @escaping @Sendable (Int, Int?) -> Void = { _, _ in }) async throws -> Backup.Header {
        let download = try BackupDownload(path: path)
        var client = http
        client.timeout = .hours(2)  // a large vault on an SD card takes a while to copy
        let r = try await client.send(method: .POST, path: "/v1/backup") { piece, total in
            try download.write(Array(piece.readableBytesView))
            progress(download.received, total)
        }
        guard r.status == 200 else { throw Self.problemError(r) }
        return try download.finish()
    }

    /// Fragments on peers (docs/PROTOCOL.md §"Fragments"): the daemon makes a backup, encodes
    /// it and places it on the peers; this waits for the whole push.
    public func pushFragments(_ input: AdminAPI.FragmentsPushInput,
                              placed: @escaping @Sendable (AdminAPI.FragmentSetInfo) -> Void = { _ in }) async throws -> AdminAPI.FragmentsPushResult {
        var client = http
        client.timeout = .hours(2)
        let lines = NDJSONLines<AdminAPI.FragmentsPushEvent>()
        let r = try await client.send(method: .POST, path: "/v1/fragments/push", headers: [("Content-Type", "application/json")],
                                      body: Array(try JSONEncoder().encode(input))) { piece, _ in
            for event in try lines.feed(Array(piece.readableBytesView)) { if let set = event.set { placed(set) } }
        }
        guard r.status == 200 else { throw Self.problemError(r) }
        guard let last = lines.last else { throw VaultError(.protocolError, "vaultd ended the push without a result") }
        if let p = last.problem { throw VaultError(VaultError.Code(rawValue: p.code) ?? .protocolError, p.detail) }
        guard let result = last.result else { throw VaultError(.protocolError, "vaultd ended the push without a result") }
        return result
    }

    public func auditFragments() async throws -> AdminAPI.FragmentsAuditResult {
        var client = http
        client.timeout = .hours(2)
        return try decode(AdminAPI.FragmentsAuditResult.self, try await client.send(method: .POST, path: "/v1/fragments/audit"))
    }

    public func fragments() async throws -> AdminAPI.FragmentsStatus { try await get("/v1/fragments", as: AdminAPI.FragmentsStatus.self) }

    public func grants() async throws -> [AdminAPI.GrantSummary] { try await get("/v1/grants", as: AdminAPI.Grants.self).grants }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || c == "-" || c == "." || c == "_" || c == "~" {
                out.append(c)
            } else {
                out += "%" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}


/// A backup arriving into a new file: written and verified piece by piece; removed unless it
/// arrives whole and matches its header. Used from one task at a time.
final class BackupDownload: @unchecked Sendable {
    private let file: FileIO.Writer
    private var verifier = Backup.Verifier()
    private(set) var received = 0

    init(path: String) throws {
        do {
            file = try FileIO.Writer(creating: path, mode: 0o600)
        } catch let e as FileIO.Failure {
            throw VaultError(.badRequest, e.errno == EEXIST ? "\(path) already exists; refusing to overwrite it" : e.description)
        }
    }

    func write(_ piece: [UInt8]) throws {
        _ = try verifier.consume(piece)
        do {
            try file.write(piece)
        } catch let e as FileIO.Failure {
            throw VaultError(.storageUnavailable, e.description)
        }
        received += piece.count
    }

    func finish() throws -> Backup.Header {
        let header = try verifier.finish()
        try file.commit()
        return header
    }
}
