import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation

/// `fragments` (#21): five release vaultd on loopback — the person's gateway and four peers,
/// every one a peer of every other (`vault-cli peer add`) — and a gateway vault ingested until
/// its database is about `megabytes` MB. Measured with the real CLI, each against a baseline
/// in the same run:
/// 1. `vault-cli fragments push --k 3 --n 8` (backup, encode, place the shares on the peers,
///    record and anchor the sets) in backup MB/s, against `vault-cli backup -o FILE` (the
///    plain backup file written) in MB/s;
/// 2. `vault-cli fragments restore --from-peer URL` with the gateway and two of the four peers
///    stopped (each set rebuilt from k shares), against `vault-cli restore FILE`, in seconds;
/// 3. the bytes of every share file on the peers (`<data dir>/shares/*`) ÷ the backup's
///    bytes, against n/k.
/// MB here is 2^20 bytes.
struct FragmentsBenchmark {
    let megabytes: Int
    let k = 3, n = 8
    let peerCount = 4
    let batchSize = 10_000
    let streams = ["home/livingroom/temperature", "home/livingroom/humidity", "home/kitchen/temperature", "phone/steps"]
    /// The longest any one vault-cli command may take.
    let commandLimit: Duration = .seconds(1800)
    /// The longest the ingest may take.
    let ingestLimit: Duration = .seconds(1800)

    /// One vault of the circle: its directory (key file, data, admin socket) and its vaultd.
    final class Member {
        let name: String
        let dir: String
        var daemon: RunningDaemon?
        var witnessKey = ""
        var logKey = ""

        init(name: String, dir: String) {
            self.name = name
            self.dir = dir
        }

        var url: String { "http://127.0.0.1:\(daemon?.port ?? 0)" }
        var socket: String { dir + "/v.sock" }
        /// The options every command gets: this vault's socket and key file, and its data
        /// directory unless a restore names another.
        func common(dataDir: String?) -> [String] {
            ["--config", "/dev/null", "--data-dir", dataDir ?? dir + "/data", "--admin-socket", socket, "--user-key", dir + "/user.key"]
        }

        func start() throws { daemon = try RunningDaemon.start(dir: dir) }

        func stop() {
            daemon?.stop()
            daemon = nil
        }
    }

    struct CLIResult {
        var seconds: Double
        var stdout: String
        var stderr: String
    }

    func run() async throws {
        print("\nfragments: a ~\(megabytes) MB vault, \(k)-of-\(n) on \(peerCount) peers (five release vaultd on loopback)")
        guard toolsBuilt(["vaultd", "vault-cli"], for: "fragments") else { return }
        let names = ["gateway"] + (1...peerCount).map { "peer-\($0)" }
        let members = try names.map { Member(name: $0, dir: try benchmarkVault("fragments-\($0)")) }
        let gateway = members[0], peers = Array(members.dropFirst())
        defer {
            for m in members {
                m.stop()
                try? FileManager.default.removeItem(atPath: m.dir)
            }
        }
        let passphrase = gateway.dir + "/pass"
        try Data("benchmark passphrase\n".utf8).write(to: URL(fileURLWithPath: passphrase))

        // The circle: every vault adds every other as a peer (URL, log key, witness key), signed
        // with its person's key, as in docs/OPERATIONS.md.
        for m in members {
            try m.start()
            m.witnessKey = try cli(["peer", "key"], m).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            m.logKey = try cli(["log", "key"], m).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for a in members {
            for b in members where b !== a {
                _ = try cli(["peer", "add", b.url, "--log-key", b.logKey, "--witness-key", b.witnessKey, "--name", b.name,
                             "--passphrase-file", passphrase], a)
            }
        }

        // The vault: readings through the bulk ingest endpoint (`POST /v1/ingest` on the admin
        // socket, batches of 10,000 as `vault-cli ingest` sends them) until the database is
        // about `megabytes` MB. Bounded by a reading count and a time limit.
        let ingest = try await fill(gateway)
        print(String(format: "  ingested %d readings in %.1f s (%.0f readings/s); database %.1f MB", ingest.readings, ingest.seconds,
                     Double(ingest.readings) / ingest.seconds, mb(ingest.databaseBytes)))

        // 1. The plain backup file, then the push.
        let backupFile = gateway.dir + "/vault.backup"
        let backup = try cli(["backup", "-o", backupFile], gateway)
        let backupBytes = fileSize(backupFile)
        let push = try cli(["fragments", "push", "--k", "\(k)", "--n", "\(n)"], gateway)
        guard let pushed = push.stdout.split(separator: "\n").last(where: { $0.hasPrefix("pushed ") }),
              let pushedBytes = Int64(pushed.split(separator: " ")[1]) else {
            throw BenchError("fragments push printed no result: \(push.stdout) \(push.stderr)")
        }
        let sets = push.stdout.split(separator: "\n").filter { $0.hasPrefix("set ") }
        print(String(format: "  vault-cli backup: %.1f MB in %.2f s; fragments push: %.1f MB as %d set(s) in %.2f s",
                     mb(backupBytes), backup.seconds, mb(pushedBytes), sets.count, push.seconds))
        for line in sets { print("    \(line)") }

        // 3. What the peers store: every share file on every peer.
        var shareBytes: Int64 = 0, shareFiles = 0
        for p in peers {
            let dir = p.dir + "/data/shares"
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) where !name.hasPrefix(".") {
                shareBytes += fileSize(dir + "/" + name)
                shareFiles += 1
            }
        }
        // What a k-of-n code stores at least: n shares of ceil(size / k) bytes per set.
        let setSizes = sets.compactMap { line in line.split(separator: " ").firstIndex(of: "bytes,").flatMap { Int64(line.split(separator: " ")[$0 - 1]) } }
        let expected = setSizes.reduce(Int64(0)) { $0 + Int64(n) * (($1 + Int64(k) - 1) / Int64(k)) }
        print("  \(shareFiles) share files, \(shareBytes) bytes on the peers (n·⌈size/k⌉ over the sets: \(expected) bytes)")

        // 2. Restores into new data directories: the plain file, then from the peers with the
        // gateway gone and two of the four peers stopped (any k of a set's shares on the two left).
        gateway.stop()
        peers[2].stop()
        peers[3].stop()
        let plain = try cli(["restore", backupFile, "--passphrase-file", passphrase], gateway, dataDir: gateway.dir + "/restored-plain")
        let restore = try cli(["fragments", "restore", "--from-peer", peers[0].url, "--passphrase-file", passphrase], gateway,
                              dataDir: gateway.dir + "/restored-fragments")
        guard restore.stdout.contains(sets.count == 1 ? "1 set)" : "\(sets.count) sets)") else {
            throw BenchError("fragments restore did not rebuild \(sets.count) set(s): \(restore.stdout) \(restore.stderr)")
        }
        print(String(format: "  vault-cli restore: %.2f s; fragments restore from %@ (2 of 4 peers up): %.2f s",
                     plain.seconds, peers[0].name, restore.seconds))
        print("    \(restore.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")

        printTable("fragments results (\(String(format: "%.1f", mb(pushedBytes))) MB backup, \(k)-of-\(n), \(peerCount) peers)", [
            Figure(name: "backup MB/s placed (fragments push)", ours: mb(pushedBytes) / push.seconds, baseline: mb(backupBytes) / backup.seconds,
                   baselineName: "vault-cli backup to a file", goal: "report", format: "%.1f"),
            Figure(name: "restore (s), 2 of 4 peers stopped", ours: restore.seconds, baseline: plain.seconds,
                   baselineName: "vault-cli restore of the file", goal: "report", format: "%.2f"),
            Figure(name: "share bytes stored ÷ backup bytes", ours: Double(shareBytes) / Double(pushedBytes), baseline: Double(n) / Double(k),
                   baselineName: "n/k", goal: "≈ n/k", format: "%.3f"),
        ])
    }

    func mb(_ bytes: Int64) -> Double { Double(bytes) / 1_048_576 }

    /// Ingests readings of four streams, one a second each, ending a year ago at most (the
    /// retention and clock checks never see them as odd), until the gateway's database file
    /// reaches `megabytes` MB; at most 100,000 readings per MB (about three times what a MB
    /// holds) and `ingestLimit`.
    func fill(_ gateway: Member) async throws -> (readings: Int, seconds: Double, databaseBytes: Int64) {
        let admin = AdminClient(socketPath: gateway.socket)
        let database = gateway.dir + "/data/" + VaultStore.databaseFileName
        let target = Int64(megabytes) << 20
        let maxReadings = megabytes * 100_000
        let start = (Timestamp.now() - 400 * 86_400_000) / 1000 * 1000
        let deadline = ContinuousClock.now + ingestLimit
        var readings = 0
        var rng = SystemRandomNumberGenerator()
        let seconds = try await measureSeconds {
            while readings < maxReadings, ContinuousClock.now < deadline, fileSize(database) < target {
                var body = ""
                body.reserveCapacity(batchSize * 64)
                for i in readings..<(readings + batchSize) {
                    let v = Int.random(in: 1500..<3000, using: &rng)
                    let t = start + Int64(i / streams.count) * 1000
                    body += "{\"stream\":\"\(streams[i % streams.count])\",\"t\":\(t),\"v\":\(v / 100).\(v % 100 < 10 ? "0" : "")\(v % 100)}\n"
                }
                let accepted = try await admin.ingest(ndjson: Array(body.utf8))
                guard accepted == batchSize else { throw BenchError("ingest accepted \(accepted) of \(batchSize) readings") }
                readings += batchSize
            }
        }
        guard fileSize(database) >= target else {
            throw BenchError("the database is \(fileSize(database)) bytes after \(readings) readings, short of \(target)")
        }
        return (readings, seconds, fileSize(database))
    }

    /// Runs `vault-cli ARGS` with `member`'s data directory (or `dataDir`), socket and key
    /// file; killed after `commandLimit`. Throws unless it exits 0.
    func cli(_ args: [String], _ member: Member, dataDir: String? = nil) throws -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: IdleRSS.binDirectory + "/vault-cli")
        p.arguments = args + member.common(dataDir: dataDir)
        // Output into files (a full pipe would stall a long command), read once it has exited.
        let out = member.dir + "/cli.out", err = member.dir + "/cli.err"
        for f in [out, err] { _ = FileManager.default.createFile(atPath: f, contents: nil) }
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        p.standardOutput = outHandle
        p.standardError = errHandle
        p.standardInput = FileHandle.nullDevice
        let start = ContinuousClock.now
        try p.run()
        let pid = p.processIdentifier
        let limit = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Int(commandLimit.components.seconds)), execute: limit)
        p.waitUntilExit()
        limit.cancel()
        let d = ContinuousClock.now - start
        let result = CLIResult(seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18,
                               stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                               stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            let log = member.daemon.map { "\nvaultd (\(member.name)) said:\n" + String($0.output.text.suffix(4000)) } ?? ""
            throw BenchError("vault-cli \(args.prefix(2).joined(separator: " ")) on \(member.name) failed (\(p.terminationStatus)): \(result.stderr)\(log)")
        }
        return result
    }
}
