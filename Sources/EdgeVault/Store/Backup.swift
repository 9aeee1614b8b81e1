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
public enum Backup {
    public static let magic = Array("EDGEVAULT-BACKUP/1\n".utf8)
    public static let maxBytes = 1 << 30

    public struct Header: Codable, Sendable, Equatable {
        public var origin: String
        public var userKeyId: String
        public var created: String
        public var databaseBytes: Int
        public var databaseSha256: String
        /// The log key's 32-byte seed sealed to the person's box key, base64.
        public var logKeySealed: String
    }

    /// Makes a backup of a running vault (`VACUUM INTO` a temporary file in the data directory).
    public static func make(store: VaultStore, dataDir: String) throws -> [UInt8] {
        let vault = try store.vault()
        let tmp = dataDir + "/.backup-\(getpid())-\(Int.random(in: 0..<1_000_000)).db"
        defer { unlink(tmp) }
        do {
            try store.pool.writeWithoutTransaction { try $0.execute(sql: "VACUUM INTO ?", arguments: [tmp]) }
        } catch {
            throw VaultStore.storageError(error, "make a backup")
        }
        let db = try FileIO.read(tmp, limit: maxBytes)
        let (_, logKey) = try LedgerService.loadSigner(dataDir: dataDir)
        let sealed = try SealedBox.seal(logKey.seed, to: [UInt8](vault.userBoxKey))
        let header = Header(origin: vault.origin, userKeyId: vault.userKeyId, created: Timestamp.rfc3339(milliseconds: Timestamp.now()),
                            databaseBytes: db.count, databaseSha256: Encoding.base64(Hash.sha256(db)), logKeySealed: Encoding.base64(sealed))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return magic + Array(try encoder.encode(header)) + [0x0A] + db
    }

    /// Splits a backup into its header and database bytes, checking the digest.
    public static func parse(_ bytes: [UInt8]) throws -> (Header, ArraySlice<UInt8>) {
        guard bytes.starts(with: magic), let newline = bytes[magic.count...].firstIndex(of: 0x0A),
              let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[magic.count..<newline]))
        else { throw VaultError(.badRequest, "not an EdgeVault backup") }
        let db = bytes[(newline + 1)...]
        guard db.count == header.databaseBytes, Encoding.base64(Hash.sha256(Array(db))) == header.databaseSha256 else {
            throw VaultError(.badRequest, "the backup is truncated or corrupt (its database does not match its digest)")
        }
        return (header, db)
    }
}
