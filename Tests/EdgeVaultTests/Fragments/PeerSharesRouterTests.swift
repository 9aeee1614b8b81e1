import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer

/// A vault holding shares for one peer (`sender`), its share routes driven in-process.
private struct ShareHolder {
    let vault: TestVault
    let router: Router<InProcessContext>
    /// The peer the person added: its origin and witness key.
    let sender = Sender(origin: "edgevault.example/sender")
    /// The sender's person.
    let owner = SigningKeyPair.generate()

    struct Sender {
        let origin: String
        let witness = SigningKeyPair.generate()
        let log = SigningKeyPair.generate()

        var witnessKey: String { NoteKeys.verifierKey(name: origin + "/witness", type: NoteKeys.cosignatureType, publicKey: witness.publicKey.bytes) }
        var logKey: String { NoteKeys.verifierKey(name: origin, publicKey: log.publicKey.bytes) }
        var prefix: String { PeerShareProtocol.senderPrefix(origin: origin) }
    }

    init(limits: ShareLimits = ShareLimits()) async throws {
        vault = try TestVault()
        let own = try vault.store.vaultBlocking().origin
        let change = PeerChange.make(vault: own, action: .add, name: "sender", logKey: sender.logKey, witnessKey: sender.witnessKey,
                                     url: "http://127.0.0.1:9", at: Timestamp.now(), keys: vault.keys)
        let checked = try PeerChange.check(change, userKeyId: vault.keys.publicKeys.keyId, userKey: vault.keys.signing.publicKey)
        _ = try await vault.store.applyPeerChange(checked, jws: change.serialized(), now: Timestamp.now())
        router = Router(context: InProcessContext.self)
        let routes = RouteTable()
        router.add(middleware: ProblemMiddleware(routes: routes))
        PeerSharesController<InProcessContext>(store: vault.store, authenticator: PeerAuthenticator(store: vault.store, nonces: try await NonceStore(store: vault.store)),
                                               files: ShareFiles(dataDir: vault.dataDir), limits: limits).addRoutes(to: router)
        routes.load(from: router)
    }

    struct Answer {
        var status: Int
        var body: [UInt8]
        var problem: Problem? { status >= 400 ? try? JSONDecoder().decode(Problem.self, from: Data(body)) : nil }
    }

    /// Sends a request signed by `keyPair` as `origin` (the sender by default); `sign: false` sends none.
    func send(_ method: HTTPRequest.Method, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
              origin: String? = nil, keyPair: SigningKeyPair? = nil, sign: Bool = true) async throws -> Answer {
        let all = sign ? try PeerShareProtocol.signedHeaders(method: method.rawValue, path: path, authority: "peer.test", headers: headers, body: body,
                                                             origin: origin ?? sender.origin, keyPair: keyPair ?? sender.witness) : headers
        var fields = HTTPFields()
        for (name, value) in all { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        let request = Request(head: HTTPRequest(method: method, scheme: nil, authority: "peer.test", path: path, headerFields: fields),
                              body: RequestBody(buffer: ByteBuffer(bytes: body)))
        let response = try await router.buildResponder().respond(to: request, context: InProcessContext(source: .init(logger: Logger(label: "test"))))
        let sink = CollectedBody()
        try await response.body.write(CollectingWriter(sink: sink))
        return Answer(status: response.status.code, body: sink.bytes.withLock { $0 })
    }

    func put(index: String, n: Int, k: Int = 3, total: Int = 8, size: Int, share: [UInt8], keyPair: SigningKeyPair? = nil, origin: String? = nil) async throws -> Answer {
        try await send(.put, PeerShareProtocol.path(storageIndex: index, n: n),
                       headers: [("EdgeVault-Share-K", "\(k)"), ("EdgeVault-Share-N", "\(total)"), ("EdgeVault-Set-Size", "\(size)"),
                                 ("EdgeVault-Owner-Key", Encoding.base64url(owner.publicKey.bytes))],
                       body: share, origin: origin, keyPair: keyPair)
    }
}

@Suite("Peer shares: PUT/GET /v1/peer/shares/{storageIndex}/{n} and audits, for peers the person added")
struct PeerSharesRouterTests {
    @Test("A peer's share is stored, read back byte for byte and audited as SHA-256(nonce ‖ share); sent again it is 200")
    func roundTrip() async throws {
        let h = try await ShareHolder()
        let index = h.sender.prefix + "-00ff", share = Array((0..<34).map { UInt8($0) })
        let put = try await h.put(index: index, n: 2, size: 100, share: share)
        #expect(put.status == 201, "\(String(decoding: put.body, as: UTF8.self))")
        #expect(try await h.put(index: index, n: 2, size: 100, share: share).status == 200)
        let got = try await h.send(.get, PeerShareProtocol.path(storageIndex: index, n: 2))
        #expect(got.status == 200 && got.body == share)
        let nonce = Sodium.randomBytes(32)
        let audit = try await h.send(.post, PeerShareProtocol.path(storageIndex: index, n: 2) + "/audit", body: nonce)
        #expect(audit.status == 200)
        let proof = try JSONDecoder().decode([String: String].self, from: Data(audit.body))["sha256"]
        #expect(proof == Encoding.base64(Hash.sha256(nonce + share)))
        #expect(try await h.vault.store.heldBytes(sender: h.sender.origin) == 34)
    }

    @Test("A share of the wrong length is 400 share_invalid; nothing is stored")
    func wrongSize() async throws {
        let h = try await ShareHolder()
        let index = h.sender.prefix + "-01"
        for bytes in [33, 35, 0] {
            let a = try await h.put(index: index, n: 0, size: 100, share: [UInt8](repeating: 7, count: bytes))
            #expect(a.status == 400 && a.problem?.code == "share_invalid", "\(bytes) bytes: \(a.status)")
        }
        let bad = try await h.put(index: index, n: 8, size: 100, share: [UInt8](repeating: 7, count: 34))
        #expect(bad.problem?.code == "share_invalid", "share 8 of 8")
        #expect(try await h.vault.store.heldBytes(sender: h.sender.origin) == 0)
        #expect(try await h.put(index: index, n: 0, size: 100, share: [UInt8](repeating: 7, count: 34)).status == 201)
        let other = try await h.put(index: index, n: 1, k: 2, total: 8, size: 68, share: [UInt8](repeating: 7, count: 34))
        #expect(other.status == 400 && other.problem?.code == "share_invalid", "a set's k, n and size never change")
        let changed = try await h.put(index: index, n: 0, size: 100, share: [UInt8](repeating: 8, count: 34))
        #expect(changed.status == 409 && changed.problem?.code == "peer_conflict", "a stored share never changes")
    }

    @Test("A storage index that is not the sender's is 403 storage_index_foreign, for PUT, GET and audit")
    func foreignIndex() async throws {
        let h = try await ShareHolder()
        let foreign = PeerShareProtocol.senderPrefix(origin: "edgevault.example/someone-else") + "-01"
        let put = try await h.put(index: foreign, n: 0, size: 3, share: [1])
        #expect(put.status == 403 && put.problem?.code == "storage_index_foreign")
        #expect(put.problem?.detail.contains(h.sender.prefix) == true, "the detail names the sender's own prefix")
        #expect(try await h.send(.get, PeerShareProtocol.path(storageIndex: foreign, n: 0)).problem?.code == "storage_index_foreign")
        #expect(try await h.send(.post, PeerShareProtocol.path(storageIndex: foreign, n: 0) + "/audit", body: Sodium.randomBytes(32)).status == 403)
        #expect(!FileIO.exists(h.vault.dataDir + "/shares/\(foreign).0"))
    }

    @Test("Over the per-peer quota is 507 quota_exceeded; one share over the share limit is 413")
    func quotas() async throws {
        var limits = ShareLimits()
        limits.maxBytesPerPeer = 100
        limits.maxShareBytes = 60
        let h = try await ShareHolder(limits: limits)
        let index = h.sender.prefix + "-02"
        #expect(try await h.put(index: index, n: 0, k: 2, total: 4, size: 100, share: [UInt8](repeating: 1, count: 50)).status == 201)
        #expect(try await h.put(index: index, n: 1, k: 2, total: 4, size: 100, share: [UInt8](repeating: 2, count: 50)).status == 201)
        let over = try await h.put(index: index, n: 2, k: 2, total: 4, size: 100, share: [UInt8](repeating: 3, count: 50))
        #expect(over.status == 507 && over.problem?.code == "quota_exceeded")
        #expect(over.problem?.title == "Insufficient Storage")
        let big = try await h.put(index: h.sender.prefix + "-03", n: 0, k: 1, total: 2, size: 61, share: [UInt8](repeating: 4, count: 61))
        #expect(big.status == 413 && big.problem?.code == "too_large")
        #expect(try await h.vault.store.heldBytes(sender: h.sender.origin) == 100)
        #expect(try FileIO.list(h.vault.dataDir + "/shares").sorted() == ["\(index).0", "\(index).1"], "no staged file is left behind")
    }

    @Test("Unsigned, signed by a vault that is not a peer, signed with another key, replayed: 401, nothing stored")
    func refusals() async throws {
        let h = try await ShareHolder()
        let index = h.sender.prefix + "-04", path = PeerShareProtocol.path(storageIndex: index, n: 0)
        let unsigned = try await h.send(.put, path, headers: [("EdgeVault-Share-K", "2"), ("EdgeVault-Share-N", "3"), ("EdgeVault-Set-Size", "2")],
                                        body: [1], sign: false)
        #expect(unsigned.status == 401 && unsigned.problem?.code == "signature_missing")
        let stranger = SigningKeyPair.generate()
        let unknown = try await h.put(index: PeerShareProtocol.senderPrefix(origin: "edgevault.example/stranger") + "-01", n: 0, k: 2, total: 3, size: 2,
                                      share: [1], keyPair: stranger, origin: "edgevault.example/stranger")
        let wrongKey = try await h.put(index: index, n: 0, k: 2, total: 3, size: 2, share: [1], keyPair: stranger)
        #expect(unknown.status == 401 && unknown.problem?.code == "signature_invalid")
        #expect(wrongKey.body == unknown.body, "an unknown vault and a wrong key get the same answer, byte for byte")
        let logKeySigned = try await h.put(index: index, n: 0, k: 2, total: 3, size: 2, share: [1], keyPair: h.sender.log)
        #expect(logKeySigned.status == 401, "the peer's log key is not its witness key")
        // A replay: the same signed request twice.
        let headers = try PeerShareProtocol.signedHeaders(method: "GET", path: path, authority: "peer.test", headers: [], body: [],
                                                          origin: h.sender.origin, keyPair: h.sender.witness)
        #expect(try await h.send(.get, path, headers: headers, sign: false).status == 404)
        let replay = try await h.send(.get, path, headers: headers, sign: false)
        #expect(replay.status == 401 && replay.problem?.code == "nonce_replayed")
        #expect(try await h.vault.store.heldBytes(sender: h.sender.origin) == 0)
    }

    @Test("An audit's nonce must be 32 bytes; a share not held is 404")
    func auditInput() async throws {
        let h = try await ShareHolder()
        let path = PeerShareProtocol.path(storageIndex: h.sender.prefix + "-05", n: 1)
        #expect(try await h.send(.post, path + "/audit", body: Sodium.randomBytes(32)).status == 404)
        #expect(try await h.send(.post, path + "/audit", body: Sodium.randomBytes(31)).problem?.code == "share_invalid")
    }

    @Test("The person (keyid owner:<thumbprint>) lists the set leaves and fetches the shares of their vault; another key is refused")
    func ownerRestores() async throws {
        let h = try await ShareHolder()
        let index = h.sender.prefix + "-06", share = [UInt8](repeating: 9, count: 34)
        #expect(try await h.put(index: index, n: 1, size: 100, share: share).status == 201)
        let leaf = LedgerLeaf(kind: .fragmentsPlaced, fields: ["storageIndex": .string(index), "k": .number("3"), "n": .number("8")])
        let body = JSONValue.object(["leafIndex": .number("7"), "leaf": .string(Encoding.base64(leaf.bytes))]).serialized()
        #expect(try await h.send(.put, "/v1/peer/sets/\(index)", body: body).status == 204)
        let foreign = PeerShareProtocol.senderPrefix(origin: "edgevault.example/other") + "-06"
        #expect(try await h.send(.put, "/v1/peer/sets/\(foreign)", body: body).status == 403)

        let ownerId = PeerShareProtocol.ownerKeyIdPrefix + JWKThumbprint.ed25519(h.owner.publicKey.bytes)
        let listed = try await h.send(.get, PeerShareProtocol.setsPath, origin: ownerId, keyPair: h.owner)
        #expect(listed.status == 200)
        let sets = try #require(try JSONValue.parse(listed.body)["sets"])
        #expect(sets == .array([.object(["leafIndex": .number("7"), "leaf": .string(Encoding.base64(leaf.bytes))])]))
        let got = try await h.send(.get, PeerShareProtocol.path(storageIndex: index, n: 1), origin: ownerId, keyPair: h.owner)
        #expect(got.status == 200 && got.body == share)

        let stranger = SigningKeyPair.generate()
        let strangerId = PeerShareProtocol.ownerKeyIdPrefix + JWKThumbprint.ed25519(stranger.publicKey.bytes)
        #expect(try await h.send(.get, PeerShareProtocol.setsPath, origin: strangerId, keyPair: stranger).status == 401)
        #expect(try await h.send(.get, PeerShareProtocol.setsPath, origin: ownerId, keyPair: stranger).status == 401)
        #expect(try await h.send(.get, PeerShareProtocol.setsPath).status == 401, "the sending vault itself does not list (only its person)")
        let audit = try await h.send(.post, PeerShareProtocol.path(storageIndex: index, n: 1) + "/audit", body: Sodium.randomBytes(32), origin: ownerId, keyPair: h.owner)
        #expect(audit.status == 401, "audits are the vault's, not the person's")
    }
}
