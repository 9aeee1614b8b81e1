import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Logging

/// `ledger`: appends/s (each its own transaction, checkpoints batched) against plain inserts of
/// the same leaf bytes; inclusion-proof latency at `leaves` leaves against a single point read;
/// full `vault-cli log verify` leaves/s against raw libsodium SHA-256 of 64-byte inputs.
struct LedgerBenchmark {
    let leaves: Int

    func leaf(_ i: Int) -> LedgerLeaf {
        LedgerLeaf(kind: .dataReleased, fields: [
            "grant": .string("study-2026-\(i % 97)"), "segment": .string("abcdefghijklmnopqrstuvwxyz"),
            "chunks": .string("0-15"), "count": .number("\(1000 + i % 5000)"),
            "sha256": .string("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        ], org: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    }

    func run() async throws {
        print("\nledger: \(leaves) leaves of ~\(leaf(0).bytes.count) bytes")
        let dir = try temporaryDirectory("ledger")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var pass = Array("benchmark passphrase".utf8)
        _ = try VaultSetup.initialize(dataDir: dir + "/data", keyFile: dir + "/user.key", passphrase: SecureBytes(wiping: &pass), cost: .interactive)
        let store = try VaultStore.open(dataDir: dir + "/data")
        let ledger = try await LedgerService(store: store, dataDir: dir + "/data", logger: Logger(label: "bench"))

        // 1. Appends, each in its own durable transaction, checkpoints batched (250 ms).
        let appends = 2000
        let appendSeconds = try await measureSeconds {
            for i in 0..<appends {
                try await store.appendLeaves([leaf(i)])
                await ledger.appended()
            }
        }
        try await ledger.checkpointNow()
        try await store.writer.write { db in try db.execute(sql: "CREATE TABLE plain (data BLOB NOT NULL)") }
        let plainSeconds = try await measureSeconds {
            for i in 0..<appends {
                let bytes = Data(leaf(i).bytes)
                try await store.writer.write { db in try db.execute(sql: "INSERT INTO plain (data) VALUES (?)", arguments: [bytes]) }
            }
        }

        // 2. Grow to `leaves` (bulk, 10,000 per transaction), then time inclusion proofs.
        var next = Int(try await store.ledgerSize())
        while next < leaves {
            let n = min(10_000, leaves - next)
            try await store.appendLeaves((next..<next + n).map(leaf))
            next += n
        }
        try await ledger.checkpointNow()
        let size = try await store.ledgerSize()
        var proofTimes: [Double] = [], readTimes: [Double] = []
        for _ in 0..<5000 {
            let index = Int64.random(in: 0..<size)
            proofTimes.append(try await measureSeconds { _ = try await store.inclusionProof(index: index, size: size) })
            readTimes.append(try await measureSeconds { _ = try await store.leaf(at: index) })
        }
        proofTimes.sort()
        readTimes.sort()
        func pct(_ a: [Double], _ p: Double) -> Double { a[min(a.count - 1, Int(Double(a.count) * p))] * 1000 }

        // 3. Full verification with the real binaries, against raw SHA-256 of 64-byte inputs.
        let verifyRate = try await fullVerify(dir: dir, leaves: size)
        let shaCount = 3_000_000
        let input = [UInt8](repeating: 7, count: 64)
        let shaSeconds = try await measureSeconds { for _ in 0..<shaCount { _ = Hash.sha256(input) } }

        var figures = [
            Figure(name: "appends/s (own txn each)", ours: Double(appends) / appendSeconds, baseline: Double(appends) / plainSeconds,
                   baselineName: "plain row insert, own txn", goal: "report"),
            Figure(name: "inclusion proof p50 (ms)", ours: pct(proofTimes, 0.5), baseline: pct(readTimes, 0.5),
                   baselineName: "one leaf point read", goal: "p50 < 1 ms", format: "%.3f"),
            Figure(name: "inclusion proof p99 (ms)", ours: pct(proofTimes, 0.99), baseline: pct(readTimes, 0.99),
                   baselineName: "one leaf point read", goal: "report", format: "%.3f"),
        ]
        if let verifyRate {
            figures.append(Figure(name: "log verify leaves/s", ours: verifyRate, baseline: Double(shaCount) / shaSeconds,
                                  baselineName: "SHA-256 of 64 B /s", goal: "ratio ≥ 0.3"))
        }
        printTable("ledger results (\(size) leaves)", figures)
    }

    /// Runs `vault-cli log verify` against `vaultd` on the data dir; leaves per second.
    func fullVerify(dir: String, leaves: Int64) async throws -> Double? {
        let bin = IdleRSS.binDirectory
        guard FileManager.default.isExecutableFile(atPath: bin + "/vaultd"), FileManager.default.isExecutableFile(atPath: bin + "/vault-cli") else {
            print("(log verify skipped: build vaultd and vault-cli next to edgevault-bench)")
            return nil
        }
        let daemon = try RunningDaemon.start(dir: dir)
        defer { daemon.stop() }
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: bin + "/vault-cli")
        cli.arguments = ["log", "verify", "--config", "/dev/null", "--admin-socket", dir + "/v.sock", "--state", dir + "/state.json"]
        cli.standardOutput = FileHandle.nullDevice
        let seconds = try await measureSeconds {
            try cli.run()
            cli.waitUntilExit()
        }
        guard cli.terminationStatus == 0 else { throw BenchError("log verify failed") }
        return Double(leaves) / seconds
    }
}
