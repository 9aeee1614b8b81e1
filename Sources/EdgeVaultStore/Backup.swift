import EdgeVaultCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import GRDB

/// A vault backup: a consistent copy of the database (ciphertext and public material only),
/// plus the log's signing key sealed to the person's box key, so that only the person can
/// restore a vault that keeps signing the same log.
///
/// Format: `EDGEVAULT-BACKUP/1\n`, one JSON line (`Header`), then the SQLite database bytes.
/// Every side streams it in 1 MiB pieces: memory use does not grow with the vault.
public enum Backup {
    public static let magic = Array("EDGEVAULT-BACKUP/1\n".utf8)
    /// Largest header line (the JSON is a few hundred bytes).
    public static let maxHeaderBytes = 64 * 1024
    package static let chunkBytes = 1 << 20

    public struct Header: Codable, Sendable, Equatable {
        public var origin: String
        public var userKeyId: String
        public var created: String
        public var databaseBytes: Int
        public var databaseSha256: String
        /// The log key's 32-byte seed sealed to the person's box key, base64.
        public var logKeySealed: String
        /// The vault's witness key file (`witness.key`, the key its peers know it by) sealed to
        /// the person's box key, base64; absent in backups of vaults that had none yet.
        public var witnessKeySealed: String?
    }

    /// A backup ready to send: its first two lines and the database copy they describe.
    public struct Prepared: Sendable {
        public let head: [UInt8]
        public let databasePath: String
        public let databaseBytes: Int

        public var totalBytes: Int { head.count + databaseBytes }

        /// Hands the whole backup to `write` in pieces, then removes the copy.
        public func stream(_ write: ([UInt8]) async throws -> Void) async throws {
            defer { discard() }
            try await write(head)
            let reader = try FileIO.Reader(databasePath)
            while let chunk = try reader.next(Backup.chunkBytes) { try await write(chunk) }
        }

        public func discard() { unlink(databasePath) }
    }

    /// Makes a consistent copy of a running vault (`VACUUM INTO` a temporary file in the data
    /// directory) and its header. Copies left by an interrupted backup are removed first. The
    /// copy and its hash are made off the cooperative pool (a whole database's worth of I/O).
    public static func prepare(store: VaultStore, dataDir: String) async throws -> Prepared {
        try await store.offPool { try prepareBlocking(store: store, dataDir: dataDir) }
    }

    static func prepareBlocking(store: VaultStore, dataDir: String) throws -> Prepared {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dataDir)) ?? [] where name.hasPrefix(".backup-") && name.hasSuffix(".db") {
            unlink(dataDir + "/" + name)
        }
        let vault = try store.vaultBlocking()
        let tmp = dataDir + "/.backup-\(getpid())-\(Int.random(in: 0..<1_000_000)).db"
        do {
            try store.writer.writeWithoutTransaction { try $0.execute(sql: "VACUUM INTO ?", arguments: [tmp]) }
            _ = chmod(tmp, 0o600)  // a copy of the vault: owner only, whatever the umask
        } catch {
            unlink(tmp)
            throw VaultStore.storageError(error, "make a backup")
        }
        do {
            var hasher = SHA256Hasher()
            var size = 0
            let reader = try FileIO.Reader(tmp)
            while let chunk = try reader.next(chunkBytes) {
                hasher.update(chunk)
                size += chunk.count
            }
            let (_, logKey) = try LogKeyFile.loadSigner(dataDir: dataDir)
            let sealed = try SealedBox.seal(logKey.seed, to: [UInt8](vault.userBoxKey))
            let witnessPath = dataDir + "/" + WitnessKeyFile.name
            var witness: String?
            if FileIO.exists(witnessPath) {
                var text = try FileIO.read(witnessPath, limit: 4096)
                witness = Encoding.base64(try SealedBox.seal(SecureBytes(wiping: &text), to: [UInt8](vault.userBoxKey)))
            }
            let header = Header(origin: vault.origin, userKeyId: vault.userKeyId, created: Timestamp.rfc3339(milliseconds: Timestamp.now()),
                                databaseBytes: size, databaseSha256: Encoding.base64(hasher.finalize()), logKeySealed: Encoding.base64(sealed),
                                witnessKeySealed: witness)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Prepared(head: magic + Array(try encoder.encode(header)) + [0x0A], databasePath: tmp, databaseBytes: size)
        } catch {
            unlink(tmp)
            throw error
        }
    }

    /// Checks a backup as it streams by: the magic, the header line, then the database bytes
    /// against the header's size and SHA-256.
    public struct Verifier {
        public private(set) var header: Header?
        private var pending: [UInt8] = []
        private var hasher = SHA256Hasher()
        private var databaseBytes = 0

        public init() {}

        /// Takes the next piece of the backup; returns the database bytes in it (none until the
        /// header is complete).
        public mutating func consume(_ bytes: [UInt8]) throws -> ArraySlice<UInt8> {
            var rest = bytes[...]
            if header == nil {
                pending += rest
                guard let newline = pending.dropFirst(magic.count).firstIndex(of: 0x0A) else {
                    guard pending.count <= magic.count + maxHeaderBytes, magic.starts(with: pending.prefix(magic.count)) else {
                        throw VaultError(.badRequest, "not an EdgeVault backup")
                    }
                    return []
                }
                guard pending.starts(with: magic),
                      let h = try? JSONDecoder().decode(Header.self, from: Data(pending[magic.count..<newline])), h.databaseBytes >= 0
                else { throw VaultError(.badRequest, "not an EdgeVault backup") }
                header = h
                rest = pending[(newline + 1)...]
                pending = []
            }
            databaseBytes += rest.count
            guard databaseBytes <= header!.databaseBytes else {
                throw VaultError(.badRequest, "the backup is longer than its header says (corrupt)")
            }
            rest.withUnsafeBytes { hasher.update($0) }
            return rest
        }

        /// The header, once every byte has arrived and matches it.
        public func finish() throws -> Header {
            guard let header else { throw VaultError(.badRequest, "not an EdgeVault backup (no header)") }
            var h = hasher
            guard databaseBytes == header.databaseBytes, Encoding.base64(h.finalize()) == header.databaseSha256 else {
                throw VaultError(.badRequest, "the backup is truncated or corrupt (its database does not match its digest)")
            }
            return header
        }
    }
}

extension Backup {
    /// A backup encrypted whole as a fragment blob (docs/PROTOCOL.md §"Fragments", "The blob"),
    /// in a file of the data directory (mode 0600) that `discard` removes.
    public struct Blob: Sendable {
        public let path: String
        public let bytes: Int
        /// The backup's (plaintext) length.
        public let backupBytes: Int

        public func discard() { unlink(path) }
    }

    /// Makes a backup as `prepare` does and encrypts it whole under a fresh key sealed to the
    /// person's box key; the plaintext copy is removed as soon as the blob is written.
    public static func prepareBlob(store: VaultStore, dataDir: String) async throws -> Blob {
        let backup = try await prepare(store: store, dataDir: dataDir)
        defer { backup.discard() }
        return try await store.offPool {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dataDir)) ?? [] where name.hasPrefix(".fragments-") {
                unlink(dataDir + "/" + name)
            }
            let vault = try store.vaultBlocking()
            let path = dataDir + "/.fragments-" + Encoding.hex(Sodium.randomBytes(8)) + ".blob"
            let writer = try FileIO.Writer(creating: path, mode: 0o600)
            let reader = try FileIO.Reader(backup.databasePath)
            var head: [UInt8]? = backup.head
            let bytes = try FragmentBlob.encrypt(to: [UInt8](vault.userBoxKey), next: {
                if let h = head { head = nil; return h }
                return try reader.next(chunkBytes)
            }, write: writer.write)
            try writer.commit()
            return Blob(path: path, bytes: bytes, backupBytes: backup.totalBytes)
        }
    }
}
