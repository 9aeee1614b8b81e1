import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Backups stream: the verifier and the file writer")
struct BackupStreamTests {
    func backup(database: [UInt8]) throws -> [UInt8] {
        let header = Backup.Header(origin: "edgevault.local/x", userKeyId: "k", created: "2026-11-24T00:00:00Z", databaseBytes: database.count,
                                   databaseSha256: Encoding.base64(Hash.sha256(database)), logKeySealed: "AA")
        return Backup.magic + Array(try JSONEncoder().encode(header)) + [0x0A] + database
    }

    /// Feeds `bytes` in pieces of `size`; returns the header and the database bytes passed on.
    func verify(_ bytes: [UInt8], pieces size: Int) throws -> (Backup.Header, [UInt8]) {
        var v = Backup.Verifier()
        var db: [UInt8] = []
        var i = 0
        while i < bytes.count {
            db += try v.consume(Array(bytes[i..<min(i + size, bytes.count)]))
            i += size
        }
        return (try v.finish(), db)
    }

    @Test("Split anywhere — inside the magic, the header or the database — a backup verifies and yields exactly its database")
    func anySplit() throws {
        let database = (0..<5000).map { UInt8($0 % 251) }
        let b = try backup(database: database)
        for size in [1, 7, 19, 20, 64, 333, 4096, b.count] {
            let (h, db) = try verify(b, pieces: size)
            #expect(h.databaseBytes == 5000)
            #expect(db == database, "pieces of \(size)")
        }
    }

    @Test("Truncated, extended, one flipped byte, wrong magic, an endless header: each refused with a clear reason")
    func refusals() throws {
        let b = try backup(database: Array(repeating: 7, count: 1000))
        func reason(_ bytes: [UInt8]) -> String {
            do { _ = try verify(bytes, pieces: 100); return "" } catch let e as VaultError { return e.message } catch { return "\(error)" }
        }
        #expect(reason(Array(b.dropLast())).contains("truncated or corrupt"))
        #expect(reason(b + [0]).contains("longer than its header says"))
        var flipped = b
        flipped[flipped.count - 10] ^= 1
        #expect(reason(flipped).contains("truncated or corrupt"))
        #expect(reason(Array("SQLite format 3\0".utf8) + b).contains("not an EdgeVault backup"))
        #expect(reason(Backup.magic + Array(repeating: 0x41, count: Backup.maxHeaderBytes + 10)).contains("not an EdgeVault backup"))
        #expect(reason([]).contains("no header"))
    }

    @Test("FileIO.Writer never replaces an existing file, and removes a partial file that was not committed")
    func writer() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/ev-writer-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileIO.writeNew(dir + "/kept", [1, 2, 3], mode: 0o600)
        #expect(throws: FileIO.Failure.self) { _ = try FileIO.Writer(creating: dir + "/kept", mode: 0o600) }
        #expect(try FileIO.read(dir + "/kept", limit: 10) == [1, 2, 3])
        do {
            let w = try FileIO.Writer(creating: dir + "/partial", mode: 0o600)
            try w.write([9, 9])
        }
        #expect(!FileIO.exists(dir + "/partial"))
        let reader = try FileIO.Reader(dir + "/kept")
        #expect(try reader.next(2) == [1, 2])
        #expect(try reader.next(2) == [3])
        #expect(try reader.next(2) == nil)
    }
}
