import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Keys: thumbprints, fingerprints, the person's key file")
struct KeyTests {
    @Test("JWK thumbprints match RFC 7638 section 3.1 and RFC 8037 appendix A.3")
    func thumbprints() throws {
        let vectors = try Fixtures.json("crypto-vectors")["jwkThumbprint"] as! [[String: Any]]
        for v in vectors {
            #expect(JWKThumbprint.compute(v["members"] as! [String: String]) == v["thumbprint"] as! String)
        }
        // The RFC 8032 TEST 1 key is RFC 8037's example key.
        let pk = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        #expect(JWKThumbprint.ed25519(pk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    }

    @Test("Fingerprints are the first 16 base32 characters of the thumbprint hash, in groups of four")
    func fingerprint() throws {
        let fp = try #require(Fingerprint.of(thumbprint: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"))
        let hash = Encoding.fromBase64url("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")!
        let b32 = Array(Encoding.base32(hash).prefix(16))
        #expect(fp == "\(String(b32[0..<4]))-\(String(b32[4..<8]))-\(String(b32[8..<12]))-\(String(b32[12..<16]))")
        #expect(fp.count == 19)
        #expect(Fingerprint.of(thumbprint: "not-a-thumbprint") == nil)
    }

    @Test("A key file unlocks with its passphrase into the keys it was made with")
    func keyFileRoundTrip() throws {
        var p = Array("a long enough passphrase".utf8)
        let (file, keys) = try UserKeyFile.create(passphrase: SecureBytes(wiping: &p), cost: .interactive)
        let decoded = try JSONDecoder().decode(UserKeyFile.self, from: Data(try file.encoded()))
        #expect(decoded == file)
        var p2 = Array("a long enough passphrase".utf8)
        let unlocked = try decoded.unlock(passphrase: SecureBytes(wiping: &p2))
        #expect(unlocked.publicKeys == keys.publicKeys)
        #expect(try decoded.publicKeys() == keys.publicKeys)
        #expect(decoded.keyId == keys.publicKeys.keyId)
        // The two derived keys really are a pair: sign/verify and seal/open.
        let sig = unlocked.signing.sign([1, 2, 3])
        #expect(keys.signing.publicKey.isValidSignature(sig, for: [1, 2, 3]))
        let dek = SecureBytes.random(count: 32)
        #expect(try SealedBox.open(try SealedBox.seal(dek, to: keys.box.publicKey), keyPair: unlocked.box).isEqual(to: dek))
    }

    @Test("A wrong passphrase is a wrong_passphrase error; an altered key id is refused")
    func wrongPassphrase() throws {
        var p = Array("the right passphrase".utf8)
        let (file, _) = try UserKeyFile.create(passphrase: SecureBytes(wiping: &p), cost: .interactive)
        var wrong = Array("the wrong passphrase".utf8)
        #expect(throws: VaultError(.wrongPassphrase, "wrong passphrase (or the key file was altered)")) {
            try file.unlock(passphrase: SecureBytes(wiping: &wrong))
        }
        var altered = file
        altered.keyId = JWKThumbprint.ed25519(SigningKeyPair.generate().publicKey.bytes)
        var p2 = Array("the right passphrase".utf8)
        #expect(throws: VaultError.self) { try altered.unlock(passphrase: SecureBytes(wiping: &p2)) }
    }

    @Test("The key file is written 0600, never overwritten, and a missing one is a clear error")
    func keyFileOnDisk() throws {
        let dir = TemporaryDirectory()
        var p = Array("a long enough passphrase".utf8)
        let (file, _) = try UserKeyFile.create(passphrase: SecureBytes(wiping: &p), cost: .interactive)
        let path = dir.path + "/sub/user.key"
        try file.write(to: path)
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attrs[.posixPermissions] as! NSNumber).intValue == 0o600)
        #expect(try UserKeyFile.read(from: path) == file)
        #expect(throws: VaultError.self) { try file.write(to: path) }
        do {
            _ = try UserKeyFile.read(from: dir.path + "/missing.key")
            Issue.record("reading a missing key file must fail")
        } catch let e as VaultError {
            #expect(e.code == .keyFileMissing)
        }
        try Data("{\"type\":\"something else\"}".utf8).write(to: URL(fileURLWithPath: dir.path + "/bad.key"))
        #expect(throws: VaultError.self) { try UserKeyFile.read(from: dir.path + "/bad.key") }
    }

    @Test("The log key round-trips through the C2SP signer-key format and its hash is checked")
    func noteKeys() throws {
        let kp = SigningKeyPair.generate()
        let text = NoteKeys.signerKey(name: "edgevault.local/test", keyPair: kp)
        let (name, parsed) = try NoteKeys.parseSignerKey(text)
        #expect(name == "edgevault.local/test")
        #expect(parsed.publicKey == kp.publicKey)
        let verifier = NoteKeys.verifierKey(name: name, publicKey: kp.publicKey.bytes)
        #expect(verifier.hasPrefix("edgevault.local/test+"))
        var tampered = text.withUnsafeBytes { Array($0) }
        let plus = tampered.indices.filter { tampered[$0] == 0x2B }[2]
        tampered[plus + 1] = tampered[plus + 1] == 0x30 ? 0x31 : 0x30
        #expect(throws: VaultError.self) { try NoteKeys.parseSignerKey(SecureBytes(wiping: &tampered)) }
    }
}
