import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `fragments.placed` leaves a holder keeps beside the shares (docs/PROTOCOL.md
/// §"Fragments"), so that the person can find their sets from any one peer when the gateway is gone.
extension PeerSharesController {
    struct SetLeaf: Codable, Sendable {
        /// The leaf's index in the sender's log.
        var leafIndex: Int64
        /// The leaf's exact bytes, base64.
        var leaf: String
    }

    struct SetLeaves: Codable, Sendable {
        var sets: [SetLeaf]
    }

    /// `PUT /v1/peer/sets/{storageIndex}` (peer-signed): the leaf of a set whose shares this
    /// vault holds for the caller.
    @Sendable func putSet(_ request: Request, context: Context) async throws -> Response {
        let peer = try await authenticator.authenticate(request, covering: [], hasBody: true)
        let index = try storageIndex(context: context, caller: .peer(peer))
        let body = Array(try await request.body.collect(upTo: 2 * LedgerLeaf.maxBytes).readableBytesView)
        try authenticator.checkDigest(request, body: body)
        guard let input = try? JSONDecoder().decode(SetLeaf.self, from: Data(body)), input.leafIndex >= 0,
              let bytes = Encoding.fromBase64(input.leaf), let leaf = try? LedgerLeaf(bytes: bytes),
              leaf.type == LedgerLeaf.Kind.fragmentsPlaced.rawValue, leaf.json["storageIndex"]?.stringValue == index
        else {
            throw Problem(code: .shareInvalid, detail: "send {\"leafIndex\":…, \"leaf\":<base64 of the set's fragments.placed leaf, whose storageIndex is \(index)>}")
        }
        try await store.keepSetLeaf(storageIndex: index, sender: peer.origin, leafIndex: input.leafIndex, leaf: bytes, now: Timestamp.now())
        return Response(status: .noContent)
    }

    /// `GET /v1/peer/sets` (signed by the person, `keyid` `owner:<thumbprint>`): the leaves of
    /// every set held for the vaults they own, in log order.
    @Sendable func sets(_ request: Request, context: Context) async throws -> JSONBody<SetLeaves> {
        guard case .owner(_, let senders) = try await authenticator.authenticate(request, covering: [], hasBody: false, allowOwner: true) else {
            throw PeerAuthenticator.refusal
        }
        let leaves = try await store.setLeaves(senders: senders)
        return JSONBody(SetLeaves(sets: leaves.map { SetLeaf(leafIndex: $0.leafIndex, leaf: Encoding.base64($0.leaf)) }))
    }
}
