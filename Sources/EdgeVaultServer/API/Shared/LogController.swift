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
        guard let note = try await ledger.latestCosigned() else {
            throw Problem(code: .notFound, detail: "the log has no checkpoint yet")
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-cache"],
                        body: .init(byteBuffer: ByteBuffer(string: note)))
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
