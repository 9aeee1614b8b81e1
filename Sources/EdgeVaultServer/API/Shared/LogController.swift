import HTTPTypes
import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore

/// The ledger's public endpoints (docs/PROTOCOL.md §"Public endpoints"): the latest checkpoint and proofs, hashes only,
/// no authentication. Served on the public listener and, for the person's CLI, on the admin
/// socket too.
struct LogController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService

    typealias InclusionProof = AdminAPI.InclusionProof
    typealias ConsistencyProof = AdminAPI.ConsistencyProof

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/log/checkpoint", use: checkpoint)
        router.get("/v1/log/proof/inclusion", use: inclusion)
        router.get("/v1/log/proof/consistency", use: consistency)
    }

    @Sendable func checkpoint(_ request: Request, context: Context) async throws -> Response {
        guard let cp = await ledger.latestCheckpoint() else {
            throw Problem(code: .notFound, detail: "the log has no checkpoint yet")
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(string: cp.note)))
    }

    /// A non-negative integer query parameter, with a problem for anything else.
    static func integer(_ request: Request, _ name: String) throws -> Int64 {
        guard let text = request.uri.queryParameters[Substring(name)] else {
            throw Problem(code: .badRequest, detail: "missing query parameter \(name)")
        }
        guard text.count <= 19, let n = Int64(text), n >= 0 else {
            throw Problem(code: .badRequest, detail: "\(name) must be an integer between 0 and \(Int64.max)")
        }
        return n
    }

    @Sendable func inclusion(_ request: Request, context: Context) async throws -> JSONBody<InclusionProof> {
        let index = try Self.integer(request, "index"), size = try Self.integer(request, "size")
        let treeSize = try await store.ledgerSize()
        guard size <= treeSize else { throw Problem(code: .badRequest, detail: "size \(size) is larger than the log (\(treeSize) leaves)") }
        guard index < size else { throw Problem(code: .badRequest, detail: "index must be below size") }
        let proof = try await store.inclusionProof(index: index, size: size)
        return JSONBody(InclusionProof(index: index, size: size, hashes: proof.map(Encoding.base64)))
    }

    @Sendable func consistency(_ request: Request, context: Context) async throws -> JSONBody<ConsistencyProof> {
        let from = try Self.integer(request, "from"), to = try Self.integer(request, "to")
        let treeSize = try await store.ledgerSize()
        guard from >= 1 else { throw Problem(code: .badRequest, detail: "from must be at least 1") }
        guard from <= to else { throw Problem(code: .badRequest, detail: "from must not be larger than to") }
        guard to <= treeSize else { throw Problem(code: .badRequest, detail: "to \(to) is larger than the log (\(treeSize) leaves)") }
        let proof = try await store.consistencyProof(from: from, to: to)
        return JSONBody(ConsistencyProof(from: from, to: to, hashes: proof.map(Encoding.base64)))
    }
}

/// The person's view of the whole ledger, on the admin socket only: leaves are private.
struct AdminLogController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService

    static var maxPage: Int { 1000 }

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/log/leaves", use: leaves)
        router.get("/v1/log/leaves/raw", use: rawLeaves)
        router.get("/v1/log/checkpoints", use: checkpoints)
        router.get("/v1/log/key", use: key)
    }

    static func page(_ request: Request) throws -> (from: Int64, limit: Int) {
        let q = request.uri.queryParameters
        let from = try q["from"].map { t -> Int64 in
            guard let n = Int64(t), n >= 0 else { throw Problem(code: .badRequest, detail: "from must be a non-negative integer") }
            return n
        } ?? 0
        let limit = try q["limit"].map { t -> Int in
            guard let n = Int(t), n >= 1, n <= maxPage else { throw Problem(code: .badRequest, detail: "limit must be in 1…\(maxPage)") }
            return n
        } ?? maxPage
        return (from, limit)
    }

    @Sendable func leaves(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Leaves> {
        let (from, limit) = try Self.page(request)
        let q = request.uri.queryParameters
        let rows = try await store.leaves(from: from, limit: limit + 1, type: q["type"].map(String.init), org: q["org"].map(String.init))
        let page = rows.prefix(limit)
        return JSONBody(AdminAPI.Leaves(
            leaves: page.map { AdminAPI.Leaf(index: $0.index, data: Encoding.base64($0.data), hash: Encoding.base64($0.storedHash)) },
            size: try await store.ledgerSize(), next: rows.count > limit ? rows[limit].index : nil))
    }

    static var maxRawPage: Int { 65_536 }

    /// Leaves as a compact binary stream for full verification (see `RawLeafPage`).
    @Sendable func rawLeaves(_ request: Request, context: Context) async throws -> Response {
        let q = request.uri.queryParameters
        guard let from = q["from"].map({ Int64($0) }) ?? 0, from >= 0 else {
            throw Problem(code: .badRequest, detail: "from must be a non-negative integer")
        }
        guard let limit = q["limit"].map({ Int($0) }) ?? Self.maxRawPage, limit >= 1, limit <= Self.maxRawPage else {
            throw Problem(code: .badRequest, detail: "limit must be in 1…\(Self.maxRawPage)")
        }
        var buffer = ByteBuffer()
        let next = try await store.rawLeafPage(from: from, limit: limit, into: &buffer)
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        headers[HTTPField.Name(RawLeafPage.sizeHeader)!] = "\(try await store.ledgerSize())"
        if let next { headers[HTTPField.Name(RawLeafPage.nextHeader)!] = "\(next)" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }

    @Sendable func checkpoints(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Checkpoints> {
        let (from, limit) = try Self.page(request)
        let rows = try await store.checkpoints(from: from, limit: limit + 1)
        let page = rows.prefix(limit)
        return JSONBody(AdminAPI.Checkpoints(
            checkpoints: page.map { AdminAPI.StoredCheckpoint(size: $0.size, note: $0.note, createdAt: Timestamp.rfc3339(milliseconds: $0.createdAt)) },
            next: rows.count > limit ? rows[limit].size : nil))
    }

    @Sendable func key(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.LogKey> {
        JSONBody(AdminAPI.LogKey(origin: ledger.origin, verifierKey: ledger.verifier.text))
    }
}
