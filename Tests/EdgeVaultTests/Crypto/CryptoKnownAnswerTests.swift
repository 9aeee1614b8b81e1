import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Crypto known-answer tests (published vectors)")
struct CryptoKnownAnswerTests {
    let vectors: [String: Any]

    init() throws {
        vectors = try Fixtures.json("crypto-vectors")
    }

    @Test("XChaCha20-Poly1305 reproduces draft-irtf-cfrg-xchacha A.3.1 and decrypts it")
    func xchachaVector() throws {
        let v = vectors["xchacha20poly1305"] as! [String: String]
        var keyBytes = hex(v["key"]!)
        let key = SecureBytes(wiping: &keyBytes)
        let expected = hex(v["ciphertext"]!) + hex(v["tag"]!)
        let sealed = AEAD.seal(Array(v["plaintext"]!.utf8), key: key, nonce: hex(v["nonce"]!), associatedData: hex(v["aad"]!))
        #expect(sealed == expected)
        let opened = try AEAD.open(expected, key: key, nonce: hex(v["nonce"]!), associatedData: hex(v["aad"]!))
        #expect(String(decoding: opened, as: UTF8.self) == v["plaintext"]!)
    }

    @Test("XChaCha20-Poly1305 rejects a flipped ciphertext byte, tag byte or AAD byte")
    func xchachaRejectsTampering() throws {
        let v = vectors["xchacha20poly1305"] as! [String: String]
        var keyBytes = hex(v["key"]!)
        let key = SecureBytes(wiping: &keyBytes)
        let good = hex(v["ciphertext"]!) + hex(v["tag"]!)
        for index in [0, 57, good.count - 1] {
            var bad = good
            bad[index] ^= 0x01
            #expect(throws: CryptoError.authenticationFailed) {
                try AEAD.open(bad, key: key, nonce: hex(v["nonce"]!), associatedData: hex(v["aad"]!))
            }
        }
        var aad = hex(v["aad"]!)
        aad[0] ^= 0x80
        #expect(throws: CryptoError.authenticationFailed) { try AEAD.open(good, key: key, nonce: hex(v["nonce"]!), associatedData: aad) }
    }

    @Test("Ed25519 derives the RFC 8032 public keys and signatures from their seeds")
    func ed25519Vectors() throws {
        for v in vectors["ed25519"] as! [[String: String]] {
            var seed = hex(v["seed"]!)
            let kp = SigningKeyPair(seed: SecureBytes(wiping: &seed))
            #expect(kp.publicKey.bytes == hex(v["publicKey"]!))
            let signature = kp.sign(hex(v["message"]!))
            #expect(signature == hex(v["signature"]!))
            #expect(kp.publicKey.isValidSignature(signature, for: hex(v["message"]!)))
            var wrong = signature
            wrong[5] ^= 0x10
            #expect(!kp.publicKey.isValidSignature(wrong, for: hex(v["message"]!)))
            #expect(!kp.publicKey.isValidSignature(signature, for: hex(v["message"]!) + [0x00]))
        }
    }

    @Test("SHA-256 and BLAKE2b-512 match their published digests")
    func hashVectors() {
        for v in vectors["sha256"] as! [[String: String]] {
            #expect(Hash.sha256(Array(v["input"]!.utf8)) == hex(v["digest"]!))
            var h = SHA256Hasher()
            for b in v["input"]!.utf8 { h.update([b]) }
            #expect(h.finalize() == hex(v["digest"]!))
        }
        for v in vectors["blake2b512"] as! [[String: String]] {
            #expect(Hash.blake2b(Array(v["input"]!.utf8), length: 64) == hex(v["digest"]!))
        }
    }

    @Test("base32 matches RFC 4648 section 10; base64 variants round-trip and reject junk")
    func encodings() {
        for v in vectors["base32"] as! [[String: String]] {
            #expect(Encoding.base32(Array(v["input"]!.utf8)) == v["output"]!)
        }
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF, 0x00, 0x10]
        #expect(Encoding.base64(bytes) == "+/+/ABA=")
        #expect(Encoding.base64url(bytes) == "-_-_ABA")
        #expect(Encoding.fromBase64("+/+/ABA=") == bytes)
        #expect(Encoding.fromBase64url("-_-_ABA") == bytes)
        #expect(Encoding.fromBase64url("-_-_ABA=") == nil)
        #expect(Encoding.fromBase64("+/+/ABA") == nil)
        #expect(Encoding.fromBase64("ab!c") == nil)
        #expect(Encoding.fromHex("0aFf") == [0x0A, 0xFF])
        #expect(Encoding.fromHex("0g") == nil)
    }
}

@Suite("Crypto behaviour")
struct CryptoBehaviourTests {
    @Test("A sealed box opens only with the recipient's key pair, and not after tampering")
    func sealedBox() throws {
        let recipient = BoxKeyPair.generate()
        let other = BoxKeyPair.generate()
        let secret = SecureBytes.random(count: 32)
        let sealed = try SealedBox.seal(secret, to: recipient.publicKey)
        #expect(sealed.count == 32 + SealedBox.overhead)
        let opened = try SealedBox.open(sealed, keyPair: recipient)
        #expect(opened.isEqual(to: secret))
        #expect(throws: CryptoError.authenticationFailed) { try SealedBox.open(sealed, keyPair: other) }
        var bad = sealed
        bad[40] ^= 1
        #expect(throws: CryptoError.authenticationFailed) { try SealedBox.open(bad, keyPair: recipient) }
        #expect(throws: CryptoError.invalidKey) { try SealedBox.seal(secret, to: [1, 2, 3]) }
    }

    @Test("A low-order X25519 point is not a valid public key")
    func lowOrderPoint() {
        #expect(!BoxKeyPair.isValidPublicKey([UInt8](repeating: 0, count: 32)))
        #expect(BoxKeyPair.isValidPublicKey(BoxKeyPair.generate().publicKey))
        #expect(!BoxKeyPair.isValidPublicKey([UInt8](repeating: 9, count: 31)))
    }

    @Test("crypto_kdf subkeys are deterministic and differ by id and context")
    func kdf() {
        var rootBytes = [UInt8](repeating: 7, count: 32)
        let root = SecureBytes(wiping: &rootBytes)
        let a = KeyDerivation.subkey(root, id: 1, context: "EVUSER01")
        #expect(a.isEqual(to: KeyDerivation.subkey(root, id: 1, context: "EVUSER01")))
        #expect(!a.isEqual(to: KeyDerivation.subkey(root, id: 2, context: "EVUSER01")))
        #expect(!a.isEqual(to: KeyDerivation.subkey(root, id: 1, context: "EVUSER02")))
        #expect(rootBytes.allSatisfy { $0 == 0 }, "the source array is wiped")
    }

    @Test("Argon2id gives the same key for the same passphrase and salt, another for another passphrase")
    func argon2id() throws {
        let salt = Sodium.randomBytes(KeyDerivation.saltBytes)
        var p1 = Array("passphrase one".utf8), p1b = p1, p2 = Array("passphrase two".utf8)
        let k1 = try KeyDerivation.argon2id(passphrase: SecureBytes(wiping: &p1), salt: salt, cost: .interactive)
        let k1b = try KeyDerivation.argon2id(passphrase: SecureBytes(wiping: &p1b), salt: salt, cost: .interactive)
        let k2 = try KeyDerivation.argon2id(passphrase: SecureBytes(wiping: &p2), salt: salt, cost: .interactive)
        #expect(k1.isEqual(to: k1b))
        #expect(!k1.isEqual(to: k2))
        var p3 = Array("x".utf8)
        #expect(throws: CryptoError.invalidKey) {
            try KeyDerivation.argon2id(passphrase: SecureBytes(wiping: &p3), salt: salt, cost: .init(opsLimit: 1000, memLimit: 1 << 40))
        }
    }
}
