import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing

@Suite("End to end: backup and restore", .serialized)
struct BackupEndToEndTests {
    @Test("A backup taken while readings flow restores onto a new data dir: the log verifies and the export holds exactly the batches committed before it")
    func backupWhileIngesting() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let base = Timestamp.parseRFC3339("2026-10-01T00:00:00Z")!
        func batch(_ n: Int) -> [UInt8] {
            Array((0..<500).map { "{\"stream\":\"s\",\"t\":\(base + Int64(n * 500 + $0) * 1000),\"v\":\(n)}\n" }.joined().utf8)
        }
        #expect(try await v.cli(["ingest"], stdin: batch(0)).status == 0)
        // Batches keep arriving while the backup is taken.
        async let more: [Int32] = {
            var statuses: [Int32] = []
            for n in 1...6 { statuses.append(try await v.cli(["ingest"], stdin: batch(n)).status) }
            return statuses
        }()
        let backup = try await v.cli(["backup", "--out", v.root + "/vault.backup"])
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(try await more.allSatisfy { $0 == 0 })
        #expect(backup.stdout.contains("keep your key file safe separately"))
        let again = try await v.cli(["backup", "--out", v.root + "/vault.backup"])
        #expect(again.status == 1, "never overwrites")
        try await v.stopDaemon()

        // A fresh gateway: restore, start, verify, export.
        let restoredDir = v.root + "/restored"
        let restore = try await run(try Binaries.path("vault-cli"),
                                    ["restore", v.root + "/vault.backup", "--passphrase-file", v.passphraseFile, "--data-dir", restoredDir,
                                     "--user-key", v.keyFile], environment: v.cliEnvironment)
        #expect(restore.status == 0, "\(restore.stderr)")
        let refuse = try await run(try Binaries.path("vault-cli"),
                                   ["restore", v.root + "/vault.backup", "--passphrase-file", v.passphraseFile, "--data-dir", restoredDir,
                                    "--user-key", v.keyFile], environment: v.cliEnvironment)
        #expect(refuse.status == 1 && refuse.stderr.contains("refusing to overwrite"))
        let restored = try VaultFixture()
        try FileManager.default.removeItem(atPath: restored.root)
        try FileManager.default.createDirectory(atPath: restored.root, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: restoredDir, toPath: restored.dataDir)
        try FileManager.default.createDirectory(atPath: restored.root + "/config/edgevault", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: v.keyFile, toPath: restored.keyFile)
        try FileManager.default.copyItem(atPath: v.passphraseFile, toPath: restored.passphraseFile)
        try await restored.startDaemon()
        let verify = try await restored.cli(["log", "verify", "--state", restored.root + "/state.json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        let export = try await restored.cli(["export", "--passphrase-file", restored.passphraseFile])
        #expect(export.status == 0, "\(export.stderr)")
        let values = export.stdout.split(separator: "\n").map { Int($0.split(separator: ":").last!.dropLast())! }
        // Batch 0 is whole; every later batch is either whole or absent (each ingest call is atomic),
        // and the batches present are the first ones (the backup is a point in time).
        var counts: [Int: Int] = [:]
        for v in values { counts[v, default: 0] += 1 }
        #expect(counts[0] == 500)
        #expect(counts.values.allSatisfy { $0 == 500 })
        let present = counts.keys.sorted()
        #expect(present == Array(0..<present.count))
        // The restored vault keeps signing the same log.
        #expect(try await restored.cli(["ingest"], stdin: batch(9)).status == 0)
        #expect(try await restored.cli(["log", "verify", "--state", restored.root + "/state.json"]).status == 0)
        try await restored.stopDaemon()
    }
}
