import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import Logging

/// `witness`: checkpoints/s one vault's witness cosigns for two peers' logs (each submission
/// parsed, its log signature verified, its consistency proof checked, the state advanced in
/// SQLite with `synchronous=FULL`, the cosignature signed), two submitters at once on the
/// machine's cores, against raw Ed25519 verify + sign of the same note on the same cores; and
/// add-checkpoint latency over loopback HTTP (p50/p99, the two peers alternating) against a
/// health check on the same server.
struct WitnessBenchmark {
    let checkpoints: Int

    /// A peer's log: one leaf more per checkpoint, every submission body made up front.
    struct PeerLog {
        let origin: String
        let key = SigningKeyPair.generate()
        var bodies: [[UInt8]] = []

        init(origin: String, checkpoints: Int) throws {
            self.origin = origin
            var log = MemoryMerkleLog()
            log.append(Merkle.leafHash(Array(origin.utf8)))
            for size in Int64(1)...Int64(checkpoints) {
                log.append(Merkle.leafHash(Sodium.randomBytes(32)))
                let new = size + 1
                let note = SignedNote.sign(text: Checkpoint(origin: origin, size: new, root: try log.root(new)).text, name: origin, keyPair: key)
                bodies.append(Array(try AddCheckpointRequest(oldSize: size, proof: try log.consistency(size, new), note: note).body.utf8))
            }
            // The first submission cosigns size 1 from nothing.
            let first = SignedNote.sign(text: Checkpoint(origin: origin, size: 1, root: try log.root(1)).text, name: origin, keyPair: key)
            bodies.insert(Array(try AddCheckpointRequest(oldSize: 0, proof: [], note: first).body.utf8), at: 0)
        }

        var verifierKey: String { NoteKeys.verifierKey(name: origin, publicKey: key.publicKey.bytes) }
    }

    func run() async throws {
        print("\nwitness: \(checkpoints) checkpoints from each of two peers")
        let dir = try temporaryDirectory("witness")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let peers = try [PeerLog(origin: "edgevault.local/peer-b", checkpoints: checkpoints),
                         PeerLog(origin: "edgevault.local/peer-c", checkpoints: checkpoints)]
        let database = try WitnessDatabase(path: dir + "/witness.db")
        for p in peers { try database.addLog(origin: p.origin, logKey: p.verifierKey) }
        let witness = Witness(state: database, cosigner: try Cosigner(name: "edgevault.local/bench/witness", keyPair: SigningKeyPair.generate()),
                              logger: Logger(label: "bench"))

        // 1. Throughput: both peers submit at once, each its checkpoints in order.
        let rate = Double(2 * (checkpoints + 1)) / (try await measureSeconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in peers {
                    group.addTask {
                        for body in p.bodies {
                            guard case .cosigned = try await witness.addCheckpoint(body: body) else { throw BenchError("a checkpoint was refused") }
                        }
                    }
                }
                try await group.waitForAll()
            }
        })
        // Baseline: what each submission must at least do, Ed25519 verify of the note and sign
        // of the cosignature, on the same two tasks.
        let note = try AddCheckpointRequest(body: peers[0].bodies[1]).parsedNote
        let signer = SigningKeyPair.generate()
        let message = Cosignature.message(checkpointText: note.text, time: 1_790_000_000)
        let sig = note.signatures[0].signature
        let raw = Double(2 * (checkpoints + 1)) / (await measureSeconds {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        for _ in 0...checkpoints {
                            precondition(peers[0].key.publicKey.isValidSignature(sig, for: Array(note.text.utf8)))
                            _ = signer.sign(message)
                        }
                    }
                }
            }
        })

        // The witness must store its state durably before it answers (the spec's MUST): the
        // same number of single-row commits on a database set up the same way (WAL,
        // synchronous=FULL), two writers.
        var config = GRDB.Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let plain = try DatabaseQueue(path: dir + "/plain.db", configuration: config)
        try await plain.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
        try await plain.write { try $0.execute(sql: "CREATE TABLE state (origin TEXT PRIMARY KEY, size INTEGER)") }
        let commits = Double(2 * (checkpoints + 1)) / (try await measureSeconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in peers {
                    group.addTask {
                        for i in 0...checkpoints {
                            try await plain.write { try $0.execute(sql: "INSERT OR REPLACE INTO state VALUES (?, ?)", arguments: [p.origin, i]) }
                        }
                    }
                }
                try await group.waitForAll()
            }
        })

        // 2. Latency over loopback HTTP, the two peers alternating, one at a time.
        let latencyDatabase = try WitnessDatabase(path: dir + "/witness-http.db")
        for p in peers { try latencyDatabase.addLog(origin: p.origin, logKey: p.verifierKey) }
        let served = Witness(state: latencyDatabase, cosigner: witness.cosigner, logger: Logger(label: "bench"))
        let port = PortBox()
        let service = WitnessServer.make(witness: served, listen: ListenAddress("127.0.0.1:0")!, logger: Logger(label: "bench")) { p in
            await port.set(p)
        }
        let server = Task { try await service.run() }
        defer { server.cancel() }
        let bound = try await port.wait()
        let client = HTTPClient(target: .tcp(host: "127.0.0.1", port: bound))
        var adds: [Double] = [], health: [Double] = []
        for i in 0...checkpoints {
            for p in peers {
                let body = p.bodies[i]
                adds.append(try await measureSeconds {
                    let r = try await client.send(method: .POST, path: "/v1/witness/add-checkpoint", body: body)
                    guard r.status == 200 else { throw BenchError("add-checkpoint answered \(r.status)") }
                })
                health.append(try await measureSeconds { _ = try await client.send(method: .GET, path: "/healthz") })
            }
        }
        adds.sort()
        health.sort()
        func pct(_ a: [Double], _ p: Double) -> Double { a[min(a.count - 1, Int(Double(a.count) * p))] * 1000 }
        printTable("witness results", [
            Figure(name: "checkpoints cosigned/s (2 peers at once)", ours: rate, baseline: raw,
                   baselineName: "Ed25519 verify + sign /s, 2 tasks", goal: "report"),
            Figure(name: "checkpoints cosigned/s (2 peers at once)", ours: rate, baseline: commits,
                   baselineName: "durable 1-row SQLite commits/s", goal: "report"),
            Figure(name: "add-checkpoint p50 over HTTP (ms)", ours: pct(adds, 0.5), baseline: pct(health, 0.5),
                   baselineName: "GET /healthz, same server", goal: "p50 < 10 ms", format: "%.2f"),
            Figure(name: "add-checkpoint p99 over HTTP (ms)", ours: pct(adds, 0.99), baseline: pct(health, 0.99),
                   baselineName: "GET /healthz, same server", goal: "report", format: "%.2f"),
        ])
    }
}

/// The port the witness server bound, once it runs.
actor PortBox {
    var port: Int?
    var waiters: [CheckedContinuation<Int, Never>] = []

    func set(_ p: Int) {
        port = p
        for w in waiters { w.resume(returning: p) }
        waiters = []
    }

    func wait() async throws -> Int {
        if let port { return port }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
