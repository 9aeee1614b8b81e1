import HTTPTypes
import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore

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
