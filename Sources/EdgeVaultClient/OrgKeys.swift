import EdgeVaultCore
import EdgeVaultStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An organization's keys: Ed25519 to sign requests and calls, X25519 to receive sealed
/// segment keys. Kept on the organization's machine in a 0600 file.
public struct OrgKeys: Sendable {
    public let signing: SigningKeyPair
    public let delivery: BoxKeyPair

    public var keyId: String { JWKThumbprint.ed25519(signing.publicKey.bytes) }

    public static func generate() -> OrgKeys {
        OrgKeys(signing: .generate(), delivery: .generate())
    }

    init(signing: SigningKeyPair, delivery: BoxKeyPair) {
        self.signing = signing
        self.delivery = delivery
    }

    struct File: Codable {
        var type: String
        var keyId: String
        var signingKey: String
        var deliveryKey: String
        var signingSeed: String
        var deliverySeed: String
        var created: String
    }

    static let type = "edgevault.org-key/v1"

    /// Writes a new key file (mode 0600); never overwrites.
    public func write(to path: String, deliverySeed: SecureBytes) throws {
        if FileIO.exists(path) { throw VaultError(.keyFileExists, "\(path) already exists; refusing to overwrite it") }
        let file = File(type: Self.type, keyId: keyId, signingKey: Encoding.base64url(signing.publicKey.bytes),
                        deliveryKey: Encoding.base64url(delivery.publicKey),
                        signingSeed: signing.seed.withUnsafeBytes { Encoding.base64url(Array($0)) },
                        deliverySeed: deliverySeed.withUnsafeBytes { Encoding.base64url(Array($0)) },
                        created: Timestamp.rfc3339(milliseconds: Timestamp.now()))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var bytes = Array(try encoder.encode(file)) + [0x0A]
        defer { Sodium.wipe(&bytes) }
        try FileIO.makeDirectories(FileIO.parentDirectory(FileIO.absolute(path)), mode: 0o700)
        try FileIO.writeNew(path, bytes, mode: 0o600)
    }

    /// Generates keys and writes them to `path`.
    public static func create(at path: String) throws -> OrgKeys {
        let deliverySeed = SecureBytes.random(count: 32)
        let keys = OrgKeys(signing: .generate(), delivery: BoxKeyPair(seed: deliverySeed))
        try keys.write(to: path, deliverySeed: deliverySeed)
        return keys
    }

    /// Reads an organization key file.
    public static func read(from path: String) throws -> OrgKeys {
        var bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: 64 * 1024)
        } catch let e as FileIO.Failure {
            throw VaultError(.keyFileMissing, e.isNotFound ? "no organization key file at \(path) (create one with `vault-cli org keygen --out \(path)`)" : e.description)
        }
        defer { Sodium.wipe(&bytes) }
        guard let file = try? JSONDecoder().decode(File.self, from: Data(bytes)), file.type == type,
              var s = Encoding.fromBase64url(file.signingSeed), s.count == 32,
              var d = Encoding.fromBase64url(file.deliverySeed), d.count == 32
        else { throw VaultError(.keyFileInvalid, "\(path) is not an EdgeVault organization key file") }
        let keys = OrgKeys(signing: SigningKeyPair(seed: SecureBytes(wiping: &s)), delivery: BoxKeyPair(seed: SecureBytes(wiping: &d)))
        guard keys.keyId == file.keyId else { throw VaultError(.keyFileInvalid, "\(path): the key id does not match the keys") }
        return keys
    }
}
