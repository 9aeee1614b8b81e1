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
    /// This holder's log origin (every call is signed for it).
    let own: String

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
        self.own = own
        let change = PeerChange.make(vault: own, action: .add, name: "sender", logKey: sender.logKey, witnessKey: sender.witnessKey,
                                     url: "http://127.0.0.1:9", at: Timestamp.now(), keys: vault.keys)
        let checked = try PeerChange.check(change, userKeyId: vault.keys.publicKeys.keyId, userKey: vault.keys.signing.publicKey)
        _ = try await vault.store.applyPeerChange(checked, jws: change.serialized(), now: Timestamp.now())
        router = Router(context: InProcessContext.self)
        let routes = RouteTable()
        router.add(middleware: ProblemMiddleware(routes: routes))
        PeerSharesController<InProcessContext>(store: vault.store, authenticator: PeerAuthenticator(store: vault.store, nonces: try await NonceStore(store: vault.store), origin: own),
                                               files: ShareFiles(dataDir: vault.dataDir), limits: limits, transfers: TransferSlots(6)).addRoutes(to: router)
        routes.load(from: router)
    }

    struct Answer {
        var status: Int
        var body: [UInt8]
        var problem: Problem? { status >= 400 ? try? JSONDecoder().decode(Problem.self, from: Data(body)) : nil }
    }

    /// Sends a request signed by `keyPair` as `origin` (the sender by default); `sign: false` sends none.
    func send(_ method: HTTPRequest.Method, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
              origin: String? = nil, keyPair: SigningKeyPair? = nil, holder: String? = nil, sign: Bool = true) async throws -> Answer {
        let all = sign ? try PeerShareProtocol.signedHeaders(method: method.rawValue, path: path, authority: "peer.test", holder: holder ?? own,
                                                             headers: headers, body: body,
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

    func put(index: String, n: Int, k: Int = 3, total: Int = 8, size: Int, share: [UInt8], keyPair: SigningKeyPair? = nil, origin: String? = nil,
             holder: String? = nil, sizeHeader: String? = nil) async throws -> Answer {
        try await send(.put, PeerShareProtocol.path(storageIndex: index, n: n),
                       headers: [("EdgeVault-Share-K", "\(k)"), ("EdgeVault-Share-N", "\(total)"), ("EdgeVault-Set-Size", sizeHeader ?? "\(size)"),
                                 ("EdgeVault-Owner-Key", Encoding.base64url(owner.publicKey.bytes))],
                       body: share, origin: origin, keyPair: keyPair, holder: holder)
    }

    /// A deposit as the sender makes it: its genesis leaf signed by `person` (the owner by
    /// default), a `fragments.placed` leaf for `index` at index 1, a checkpoint of size 2 signed
    /// by `logKey` (the sender's log key by default) and the inclusion proof.
    func deposit(index: String, person: SigningKeyPair? = nil, logKey: SigningKeyPair? = nil, origin: String? = nil) -> FragmentDeposit {
        let origin = origin ?? sender.origin
        let genesis = LedgerLeaf.genesis(userKeyId: JWKThumbprint.ed25519(owner.publicKey.bytes), logVerifierKey: sender.logKey, origin: origin,
                                         personSignature: VaultBinding.sign(origin: origin, logKey: sender.logKey, person: person ?? owner),
                                         time: Timestamp.now())
        let set = FragmentSet(storageIndex: index, push: "0123456789abcdef", segment: 0, segments: 1, k: 3, n: 8, size: 100,
                              sha256: Encoding.base64(Hash.sha256([1])), placedAt: Timestamp.now(),
                              shares: (0..<8).map { FragmentSet.Share(n: $0, peer: own, url: "http://127.0.0.1:9", sha256: Encoding.base64(Hash.sha256([UInt8($0)]))) })
        let leaf = LedgerLeaf(kind: .fragmentsPlaced, fields: set.leafFields(codec: "rs-isal/1", replaces: nil))
        let root = Merkle.nodeHash(Merkle.leafHash(genesis.bytes), Merkle.leafHash(leaf.bytes))
        let note = SignedNote.sign(text: Checkpoint(origin: origin, size: 2, root: root).text, name: origin, keyPair: logKey ?? sender.log)
        return FragmentDeposit(leafIndex: 1, leaf: leaf.bytes, genesis: genesis.bytes, checkpoint: note, proof: [Merkle.leafHash(genesis.bytes)])
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
        #expect(try await h.vault.store.heldBytes(sender: h.sender.origin) == 4096, "a share counts at least 4 KiB against the quota")
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
        limits.maxBytesPerPeer = 10_000
        limits.maxShareBytes = 6_000
        let h = try await ShareHolder(limits: limits)
        let index = h.sender.prefix + "-02"
        #expect(try await h.put(index: index, n: 0, k: 2, total: 4, size: 10_000, share: [UInt8](repeating: 1, count: 5_000)).status == 201)
        #expect(try await h.put(index: index, n: 1, k: 2, total: 4, size: 10_000, share: [UInt8](repeating: 2, count: 5_000)).status == 201)
        let over = try await h.put(index: index, n: 2, k: 2, total: 4, size: 10_000, share: [UInt8](repeating: 3, count: 5_000))
        #expect(over.status == 507 && over.problem?.code == "quota_exceeded")
        #expect(over.problem?.title == "Insufficient Storage")
        let big = try await h.put(index: h.sender.prefix + "-03", n: 0, k: 1, total: 2, size: 6_001, share: [UInt8](repeating: 4, count: 6_001))
        #expect(big.status == 413 && big.problem?.code == "too_large")
        // Tiny shares are not free: each counts 4 KiB, so a flood of one-byte shares hits the quota too.
        let tiny = try await h.put(index: h.sender.prefix + "-0a", n: 0, k: 2, total: 3, size: 1, share: [5])
        #expect(tiny.status == 507 && tiny.problem?.code == "quota_exceeded")
        #expect(try await h.vault.store.heldBytes(sender: h.sender.origin) == 10_000)
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
        let headers = try PeerShareProtocol.signedHeaders(method: "GET", path: path, authority: "peer.test", holder: h.own, headers: [], body: [],
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

    @Test("The person (keyid owner:<thumbprint>) lists the deposits and fetches the shares of their vault; another key is refused")
    func ownerRestores() async throws {
        let h = try await ShareHolder()
        let index = h.sender.prefix + "-06", share = [UInt8](repeating: 9, count: 34)
        #expect(try await h.put(index: index, n: 1, size: 100, share: share).status == 201)
        let deposit = h.deposit(index: index)
        let put = try await h.send(.put, "/v1/peer/sets/\(index)", body: deposit.json.serialized())
        #expect(put.status == 204, "\(String(decoding: put.body, as: UTF8.self))")
        let foreign = PeerShareProtocol.senderPrefix(origin: "edgevault.example/other") + "-06"
        #expect(try await h.send(.put, "/v1/peer/sets/\(foreign)", body: deposit.json.serialized()).status == 403)

        let ownerId = PeerShareProtocol.ownerKeyIdPrefix + JWKThumbprint.ed25519(h.owner.publicKey.bytes)
        let listed = try await h.send(.get, PeerShareProtocol.setsPath, origin: ownerId, keyPair: h.owner)
        #expect(listed.status == 200)
        let sets = try #require(try JSONValue.parse(listed.body)["sets"])
        #expect(sets == .array([deposit.json]))
        #expect(try FragmentDeposit(json: deposit.json).verify(owner: h.owner.publicKey.bytes).leaf.bytes == deposit.leaf)
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

    @Test("A deposit that does not prove its leaf from the owner's key is 400 and not kept: genesis signed by another person, checkpoint by another log key, another vault's origin, another set, a wrong proof")
    func forgedDeposits() async throws {
        let h = try await ShareHolder()
        let index = h.sender.prefix + "-07"
        #expect(try await h.put(index: index, n: 0, size: 100, share: [UInt8](repeating: 1, count: 34)).status == 201)
        var wrongProof = h.deposit(index: index)
        wrongProof.proof = [Sodium.randomBytes(32)]
        var wrongIndex = h.deposit(index: index)
        wrongIndex.leafIndex = 0
        let forged: [(String, FragmentDeposit)] = [
            ("another person's genesis", h.deposit(index: index, person: .generate())),
            ("another log key", h.deposit(index: index, logKey: .generate())),
            ("another set", h.deposit(index: h.sender.prefix + "-08")),
            ("a wrong proof", wrongProof),
            ("the genesis leaf as the set", wrongIndex),
        ]
        for (what, deposit) in forged {
            let answer = try await h.send(.put, "/v1/peer/sets/\(index)", body: deposit.json.serialized())
            #expect(answer.status == 400 && answer.problem?.code == "share_invalid", "\(what): \(answer.status)")
        }
        let garbage = try await h.send(.put, "/v1/peer/sets/\(index)", body: Array("{\"leafIndex\":1}".utf8))
        #expect(garbage.status == 400)
        #expect(try await h.vault.store.deposits(senders: [h.sender.origin], maxCount: 10, maxBytes: 1 << 20).deposits.isEmpty)
    }

    @Test("A call signed for another holder is refused (no replay across holders); an absurd set size is 400, not a crash")
    func holderAndSize() async throws {
        let h = try await ShareHolder()
        let index = h.sender.prefix + "-09"
        let elsewhere = try await h.put(index: index, n: 0, size: 100, share: [UInt8](repeating: 1, count: 34), holder: "edgevault.example/another-holder")
        #expect(elsewhere.status == 401 && elsewhere.problem?.code == "signature_invalid")
        #expect(elsewhere.problem?.detail.contains(h.own) == true)
        for size in ["9223372036854775807", "99999999999999999999", "-1"] {
            let a = try await h.put(index: index, n: 0, k: 2, total: 3, size: 0, share: [1], sizeHeader: size)
            #expect(a.status == 400 || a.status == 413, "size \(size): \(a.status)")
        }
        #expect(try await h.vault.store.heldBytes(sender: h.sender.origin) == 0)
    }

    @Test("DELETE /v1/peer/sets/{storageIndex} removes the sender's set, deposit and share files; removing the peer removes everything held for it")
    func deletion() async throws {
        let h = try await ShareHolder()
        let a = h.sender.prefix + "-0b", b = h.sender.prefix + "-0c"
        for index in [a, b] {
            #expect(try await h.put(index: index, n: 0, size: 100, share: [UInt8](repeating: 1, count: 34)).status == 201)
            #expect(try await h.send(.put, "/v1/peer/sets/\(index)", body: h.deposit(index: index).json.serialized()).status == 204)
        }
        #expect(try await h.send(.delete, "/v1/peer/sets/\(a)").status == 204)
        #expect(try await h.send(.get, PeerShareProtocol.path(storageIndex: a, n: 0)).status == 404)
        #expect(try FileIO.list(h.vault.dataDir + "/shares") == ["\(b).0"])
        #expect(try await h.vault.store.deposits(senders: [h.sender.origin], maxCount: 10, maxBytes: 1 << 20).deposits.count == 1)

        let own = try h.vault.store.vaultBlocking().origin
        let change = PeerChange.make(vault: own, action: .remove, name: "sender", logKey: nil, witnessKey: nil, url: nil, at: Timestamp.now() + 1, keys: h.vault.keys)
        let checked = try PeerChange.check(change, userKeyId: h.vault.keys.publicKeys.keyId, userKey: h.vault.keys.signing.publicKey)
        let outcome = try await h.vault.store.applyPeerChange(checked, jws: change.serialized(), now: Timestamp.now() + 1)
        #expect(outcome.forgotten.map(\.storageIndex) == [b])
        #expect(try await h.vault.store.heldBytes(sender: h.sender.origin) == 0)
    }

    @Test("PUT /v1/peer/recovery-share keeps the sender's share sealed to this vault's witness key (a newer one replaces it); naming another vault or holder is 400; only this vault's witness key opens it")
    func recoveryShare() async throws {
        let h = try await ShareHolder()
        let witness = SigningKeyPair.generate()
        let witnessKey = try Cosigner(name: h.own + "/witness", keyPair: witness).verifier.text
        let mnemonic = "academic acid acrobat"
        func share(vault: String? = nil, holder: String? = nil, member: Int = 1) throws -> SealedRecoveryShare {
            try SealedRecoveryShare.seal(mnemonic: mnemonic, vault: vault ?? h.sender.origin, holder: holder ?? h.own, group: 3, member: member,
                                         witnessKey: witnessKey)
        }
        #expect(try await h.send(.put, PeerShareProtocol.recoverySharePath, body: try share().json.serialized()).status == 204)
        #expect(try await h.send(.put, PeerShareProtocol.recoverySharePath, body: try share(member: 2).json.serialized()).status == 204)
        let held = try #require(try await h.vault.store.heldRecoveryShare(sender: h.sender.origin))
        let kept = try SealedRecoveryShare(bytes: held.share)
        #expect(kept.member == 2, "the newer share replaced the older")
        #expect(try kept.open(with: witness).withUnsafeBytes { String(decoding: $0, as: UTF8.self) } == mnemonic)
        #expect(throws: VaultError.self) { try kept.open(with: .generate()) }
        for bad in [try share(vault: "edgevault.example/other"), try share(holder: "edgevault.example/elsewhere")] {
            #expect(try await h.send(.put, PeerShareProtocol.recoverySharePath, body: bad.json.serialized()).status == 400)
        }
        #expect(try await h.send(.put, PeerShareProtocol.recoverySharePath, body: Array("{}".utf8)).status == 400)
        #expect(try await h.send(.put, PeerShareProtocol.recoverySharePath, body: [UInt8](repeating: 0x20, count: 9000)).status == 413)
    }

    @Test("The person's listing comes a page at a time (next cursor, then after=cursor); numbers in paths, headers and the query are plain digits ('+1', '01 ', '-0' refused)")
    func listingPages() async throws {
        let h = try await ShareHolder()
        var indexes: [String] = []
        for i in 0..<3 {
            let index = h.sender.prefix + "-0d\(i)"
            indexes.append(index)
            #expect(try await h.put(index: index, n: 0, size: 100, share: [UInt8](repeating: 1, count: 34)).status == 201)
            #expect(try await h.send(.put, "/v1/peer/sets/\(index)", body: h.deposit(index: index).json.serialized()).status == 204)
        }
        let first = try await h.vault.store.deposits(senders: [h.sender.origin], maxCount: 2, maxBytes: 1 << 20)
        #expect(first.deposits.count == 2)
        let cursor = try #require(first.next)
        let rest = try await h.vault.store.deposits(senders: [h.sender.origin], after: cursor, maxCount: 2, maxBytes: 1 << 20)
        #expect(rest.deposits.count == 1 && rest.next == nil)
        let ownerId = PeerShareProtocol.ownerKeyIdPrefix + JWKThumbprint.ed25519(h.owner.publicKey.bytes)
        let page = try await h.send(.get, PeerShareProtocol.setsPath + "?after=\(cursor)", origin: ownerId, keyPair: h.owner)
        #expect(page.status == 200)
        if case .array(let items)? = try JSONValue.parse(page.body)["sets"] { #expect(items.count == 1) } else { Issue.record("no sets") }
        #expect(try await h.send(.get, PeerShareProtocol.setsPath + "?after=+1", origin: ownerId, keyPair: h.owner).status == 400)
        for n in ["+1", "-0", "01x"] {
            #expect(try await h.send(.get, "/v1/peer/shares/\(indexes[0])/\(n)").status == 400, "share number \(n)")
        }
        let signed = try await h.put(index: indexes[0], n: 1, k: 3, total: 8, size: 100, share: [UInt8](repeating: 2, count: 34), sizeHeader: "+100")
        #expect(signed.status == 400)
    }
}
