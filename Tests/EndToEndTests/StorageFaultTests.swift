import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A small tmpfs mounted on a vault's data dir, so the tests can fill it or make it read-only
/// under a running vaultd (needs root: CI runs as root; elsewhere the suite is skipped).
final class SmallDisk: @unchecked Sendable {
    let path: String

    static let available: Bool = {
        guard getuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.path + "/ev-mount-probe-\(getpid())"
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard mount("tmpfs", probe, "tmpfs", 0, "size=1m") == 0 else { return false }
        umount2(probe, Int32(MNT_DETACH))
        return true
    }()

    init(at path: String, megabytes: Int) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(megabytes)m,mode=0700") == 0 else {
            throw HarnessError("mount tmpfs on \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Remounts with a new size and read-only or read-write: the fault comes or goes under a running daemon.
    func remount(megabytes: Int, readOnly: Bool) throws {
        let flags = UInt(MS_REMOUNT) | (readOnly ? UInt(MS_RDONLY) : 0)
        guard mount("tmpfs", path, "tmpfs", flags, "size=\(megabytes)m") == 0 else {
            throw HarnessError("remount \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { umount2(path, Int32(MNT_DETACH)) }
}

/// Holds SQLite's write lock on a database (BEGIN EXCLUSIVE) on its own thread until released.
final class LockHolder: @unchecked Sendable {
    private let released = DispatchSemaphore(value: 0)

    init(path: String) throws {
        let queue = try DatabaseQueue(path: path)
        let acquired = DispatchSemaphore(value: 0)
        let released = self.released
        Thread {
            try? queue.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN EXCLUSIVE")
                acquired.signal()
                released.wait()
                try db.execute(sql: "ROLLBACK")
            }
        }.start()
        guard acquired.wait(timeout: .now() + 30) == .success else { throw HarnessError("could not lock \(path)") }
    }

    func release() { released.signal() }
}

/// Readings of batch `n`: distinct times and values, so an export shows exactly which batches landed.
private func batch(_ n: Int, count: Int) -> [UInt8] {
    let base: Int64 = 1_790_000_000_000
    return Array((0..<count).map { i in "{\"stream\":\"fault/s\",\"t\":\(base + Int64(n * count + i) * 1000),\"v\":\(n * count + i)}\n" }.joined().utf8)
}

/// The `v` values the person's export holds, sorted.
private func exportedValues(_ v: VaultFixture) async throws -> [Int] {
    let r = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
    #expect(r.status == 0, "\(r.stderr)")
    return r.stdout.split(separator: "\n").compactMap { line in
        line.split(separator: ",").last.flatMap { Int($0.dropFirst(4).dropLast()) }
    }.sorted()
}

/// Readings missing from or extra in (including doubled) what was exported.
private func mismatch(_ expected: [Int], _ exported: [Int]) -> Int {
    var counts: [Int: Int] = [:]
    for x in expected { counts[x, default: 0] += 1 }
    for x in exported { counts[x, default: 0] -= 1 }
    return counts.values.reduce(0) { $0 + abs($1) }
}

private func integrityCheck(_ v: VaultFixture) async throws -> String {
    var config = GRDB.Configuration()
    config.readonly = true
    let db = try DatabaseQueue(path: v.dataDir + "/vault.db", configuration: config)
    return try await db.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") ?? "" }
}

@Suite("Storage faults: disk full, read-only data dir, locked database", .serialized,
       .enabled(if: SmallDisk.available, "needs root to mount a small tmpfs on the data dir"))
struct StorageFaultTests {
    @Test("Disk full: ingest and org calls get a clear 503 / CLI line, nothing unacknowledged is stored, and vaultd recovers when space returns")
    func diskFull() async throws {
        let v = try VaultFixture()
        let disk = try SmallDisk(at: v.dataDir, megabytes: 3)
        try await v.initVault()
        try await v.startDaemon()
        let perBatch = 2000
        var acknowledged: [Int] = []
        var refusal: RunResult?
        for n in 0..<200 {
            let r = try await v.cli(["ingest"], stdin: batch(n, count: perBatch))
            if r.status != 0 {
                refusal = r
                break
            }
            acknowledged.append(n)
        }
        let refused = try #require(refusal, "3 MB never filled up")
        #expect(!acknowledged.isEmpty)
        #expect(refused.stderr.contains("disk is full"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "one line: \(refused.stderr)")
        // Still serving; organizations are told to come back, with a problem document.
        #expect(try await v.publicRequest("GET", "/healthz").status == 200)
        let org = TestOrg(v: v)
        // The refused batch's frames stay allocated in the WAL file, and SQLite writes the next
        // transaction over them: a small write may still fit in what the batch got to write
        // before the disk filled (how much depends on how the pages fell; a new table moved it
        // by a few KiB). So organizations keep asking, each with a new key, until that room is
        // used up: every call is either stored (202) or refused with a clear 503.
        var storedDuringFault: [String] = []
        var refusedCall: HTTPClient.Response?
        for n in 0..<150 {
            let o = n == 0 ? org : TestOrg(v: v)
            let r = try await o.call(.POST, "/v1/requests", body: o.submitBody(try await o.request(id: "during-fault-\(n)", streams: ["fault/s"])))
            guard r.status == 202 else {
                refusedCall = r
                break
            }
            storedDuringFault.append("during-fault-\(n)")
        }
        let asked = try #require(refusedCall, "150 requests fit on a full disk")
        #expect(problem(asked) == (503, "storage_unavailable"))

        // Space comes back: no restart, the next batch lands.
        try disk.remount(megabytes: 64, readOnly: false)
        let next = acknowledged.count + 1
        let after = try await v.cli(["ingest"], stdin: batch(next, count: perBatch))
        #expect(after.status == 0, "\(after.stderr)")
        #expect(try await org.client.submit(try await org.request(id: "after-fault", streams: ["fault/s"])).status == "pending")
        let expected = (acknowledged + [next]).flatMap { n in (0..<perBatch).map { n * perBatch + $0 } }
        let exported = try await exportedValues(v)
        #expect(exported == expected, "every acknowledged reading once, nothing of the refused batch")
        let requests = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests").body)).requests
        #expect(requests.map(\.id).filter { $0.hasPrefix("during-fault") }.sorted() == storedDuringFault.sorted(),
                "every request answered 202 is stored, the refused one is not")
        let integrity = try await integrityCheck(v)
        #expect(integrity == "ok")
        try recordReliability("storage_fault kind=disk-full acknowledged_readings=\(expected.count) "
            + "lost_or_extra=\(mismatch(expected, exported)) "
            + "integrity=\(integrity) refused_with=\(problem(asked).1) requests_before_refusal=\(storedDuringFault.count) recovered=\(after.status == 0)")
        #expect(try await v.cli(["log", "verify", "--state", v.root + "/state.json"]).status == 0)
        try await v.stopDaemon()
    }

    /// A file system cannot be remounted read-only while vaultd holds the database open for
    /// writing (the kernel answers EBUSY), so a data dir turns read-only under a running vaultd
    /// only when the kernel forces it after I/O errors — SQLite then fails the write like a full
    /// disk (the test above). What a person meets in practice is a gateway booting with the SD
    /// card mounted read-only: vaultd must say so in one line and exit non-zero (systemd
    /// restarts it every 2 s), and start normally with everything intact once it is writable.
    @Test("Read-only data dir: vaultd says so in one line and exits non-zero; once writable it starts with everything intact")
    func readOnly() async throws {
        let v = try VaultFixture()
        let disk = try SmallDisk(at: v.dataDir, megabytes: 64)
        try await v.initVault()
        try await v.startDaemon()
        #expect(try await v.cli(["ingest"], stdin: batch(0, count: 500)).status == 0)
        try await v.stopDaemon()
        try disk.remount(megabytes: 64, readOnly: true)
        let refused = try await run(try Binaries.path("vaultd"), ["--data-dir", v.dataDir, "--admin-socket", v.socket, "--config", "/dev/null",
                                                                 "--listen", "127.0.0.1:0"], timeout: .seconds(60))
        #expect(refused.status != 0)
        let lines = (refused.stdout + refused.stderr).split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("read-only"), "\(lines)")
        let cli = try await v.cli(["ingest"], stdin: batch(1, count: 500))
        #expect(cli.status != 0 && cli.stderr.split(separator: "\n").count == 1, "\(cli.stderr)")
        try disk.remount(megabytes: 64, readOnly: false)
        try await v.startDaemon()
        #expect(try await v.cli(["ingest"], stdin: batch(2, count: 500)).status == 0)
        let exported = try await exportedValues(v), integrity = try await integrityCheck(v)
        #expect(exported == Array(0..<500) + Array(1000..<1500))
        #expect(integrity == "ok")
        #expect(try await v.cli(["log", "verify", "--state", v.root + "/state.json"]).status == 0)
        try recordReliability("storage_fault kind=read-only acknowledged_readings=1000 lost_or_extra=\(mismatch(Array(0..<500) + Array(1000..<1500), exported)) "
            + "integrity=\(integrity) refused_with=exit-\(refused.status) recovered=true")
        try await v.stopDaemon()
    }

    @Test("Database locked by another process: ingest refused after the busy timeout with a clear error; works once the lock is gone")
    func locked() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        #expect(try await v.cli(["ingest"], stdin: batch(0, count: 500)).status == 0)
        // Another process (this test's) holds the write lock in an exclusive transaction.
        let holder = try LockHolder(path: v.dataDir + "/vault.db")
        let refused = try await v.cli(["ingest"], stdin: batch(1, count: 500))
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("locked by another process"), "\(refused.stderr)")
        #expect(try await v.publicRequest("GET", "/healthz").status == 200)
        holder.release()
        #expect(try await v.cli(["ingest"], stdin: batch(2, count: 500)).status == 0)
        let exported = try await exportedValues(v), integrity = try await integrityCheck(v)
        #expect(exported == Array(0..<500) + Array(1000..<1500))
        #expect(integrity == "ok")
        try recordReliability("storage_fault kind=locked acknowledged_readings=1000 lost_or_extra=\(mismatch(Array(0..<500) + Array(1000..<1500), exported)) "
            + "integrity=\(integrity) refused_with=storage_unavailable recovered=true")
        try await v.stopDaemon()
    }
}
