import Hummingbird
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `GET /v1/grants/{id}` (signed, organization-facing): the co-signed grant and a receipt that
/// proves, offline, that it is in the vault's log.
struct GrantsController: Sendable {
    let store: VaultStore
    let ledger: LedgerService

    func addRoutes(to group: RouterGroup<OrgRequestContext>) {
        group.get("{id}", use: grant)
    }

    @Sendable func grant(_ request: Request, context: OrgRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let grant = try await store.grant(org: context.org.keyId, id: id) else {
            throw Problem(code: .notFound, status: 404, detail: "no grant \(id) of yours")
        }
        let receipt = try await ledger.receipt(index: grant.leafIndex)
        var body = Array("{\"grant\":".utf8) + [UInt8](grant.jws) + Array(",\"receipt\":".utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        body += Array(try encoder.encode(receipt)) + [0x7D]
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
