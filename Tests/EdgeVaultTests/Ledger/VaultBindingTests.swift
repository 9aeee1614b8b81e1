import Testing
@testable import EdgeVaultCore

@Suite("Vault binding: the person's signature over origin and log key in the genesis leaf")
struct VaultBindingTests {
    static func genesis(person: SigningKeyPair, signer: SigningKeyPair? = nil, origin: String = "edgevault.example/v1", log: SigningKeyPair = .generate()) -> LedgerLeaf {
        let logKey = NoteKeys.verifierKey(name: origin, publicKey: log.publicKey.bytes)
        return .genesis(userKeyId: JWKThumbprint.ed25519(person.publicKey.bytes), logVerifierKey: logKey, origin: origin,
                        personSignature: VaultBinding.sign(origin: origin, logKey: logKey, person: signer ?? person), time: Timestamp.now())
    }

    @Test("A genesis leaf signed by its person verifies with their key and names its origin and log key")
    func verifies() throws {
        let person = SigningKeyPair.generate(), log = SigningKeyPair.generate()
        let bound = try VaultBinding.verify(genesis: Self.genesis(person: person, log: log).bytes, owner: person.publicKey.bytes)
        #expect(bound.origin == "edgevault.example/v1")
        #expect(bound.logKey == NoteKeys.verifierKey(name: "edgevault.example/v1", publicKey: log.publicKey.bytes))
    }

    @Test("Signed by someone else, checked against another person, a changed log key, no signature: refused")
    func refusals() throws {
        let person = SigningKeyPair.generate()
        #expect(throws: VaultError.self) { try VaultBinding.verify(genesis: Self.genesis(person: person, signer: .generate()).bytes, owner: person.publicKey.bytes) }
        #expect(throws: VaultError.self) { try VaultBinding.verify(genesis: Self.genesis(person: person).bytes, owner: SigningKeyPair.generate().publicKey.bytes) }
        let leaf = Self.genesis(person: person)
        guard case .object(var o) = leaf.json else { Issue.record("not an object"); return }
        o["logKey"] = .string(NoteKeys.verifierKey(name: "edgevault.example/v1", publicKey: SigningKeyPair.generate().publicKey.bytes))
        #expect(throws: VaultError.self) { try VaultBinding.verify(genesis: JSONValue.object(o).serialized(), owner: person.publicKey.bytes) }
        o[VaultBinding.member] = nil
        #expect(throws: VaultError.self) { try VaultBinding.verify(genesis: JSONValue.object(o).serialized(), owner: person.publicKey.bytes) }
    }
}
