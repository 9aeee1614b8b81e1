import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation

/// `mqtt`: QoS 1 messages/s that vaultd takes from a local Mosquitto broker into the vault
/// (acknowledged only after commit), against `mosquitto_sub` receiving the same messages into
/// /dev/null through the same broker in the same run. Two figures: live (four publishers
/// running while the subscriber takes) and backlog (the broker holds N messages for the
/// subscriber's persistent session, which then connects and drains them).
struct MQTTBenchmark {
    let messages: Int

    static let mosquitto = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let pub = "/usr/bin/mosquitto_pub"
    static let sub = "/usr/bin/mosquitto_sub"

    func run() async throws {
        print("\nmqtt: \(messages) QoS 1 messages through a local Mosquitto broker")
        guard let broker = Self.mosquitto, FileManager.default.isExecutableFile(atPath: Self.pub),
              FileManager.default.isExecutableFile(atPath: Self.sub) else {
            print("(mqtt skipped: install mosquitto and mosquitto-clients)")
            return
        }
        let dir = try temporaryDirectory("mqtt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = 20_000 + Int(getpid() % 20_000)
        let user = String(cString: getpwuid(geteuid())!.pointee.pw_name)
        try Data("""
            user \(user)
            listener \(port) 127.0.0.1
            allow_anonymous true
            persistence false
            max_queued_messages 0
            log_dest none

            """.utf8).write(to: URL(fileURLWithPath: dir + "/mosquitto.conf"))
        let mosq = Process()
        mosq.executableURL = URL(fileURLWithPath: broker)
        mosq.arguments = ["-c", dir + "/mosquitto.conf"]
        try mosq.run()
        defer { kill(mosq.processIdentifier, SIGKILL); mosq.waitUntilExit() }
        try await waitForPort(port)

        // Four publishers, a quarter of the messages each, one line per message.
        let perPublisher = messages / 4
        for k in 0..<4 {
            let lines = (0..<perPublisher).map { "\(k * perPublisher + $0).5" }.joined(separator: "\n") + "\n"
            try Data(lines.utf8).write(to: URL(fileURLWithPath: dir + "/pub\(k)"))
        }
        let total = perPublisher * 4
        func publishAll() throws -> [Process] {
            try (0..<4).map { k in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: Self.pub)
                p.arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", "bench/s\(k)", "-l"]
                p.standardInput = FileHandle(forReadingAtPath: dir + "/pub\(k)")
                try p.run()
                return p
            }
        }
        func subscriber(_ id: String, count: Int?) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.sub)
            p.arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", "bench/+", "-c", "-i", id] + (count.map { ["-C", "\($0)"] } ?? ["-E"])
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            return p
        }

        // Baseline, live: mosquitto_sub (persistent session) takes the messages while they are published.
        try subscriber("bench-sub", count: nil).waitUntilExit()  // -E: subscribe, then leave; the session stays
        let subLive = try await measureSeconds {
            let s = try subscriber("bench-sub", count: total)
            for p in try publishAll() { p.waitUntilExit() }
            s.waitUntilExit()
        }
        // Baseline, backlog: published while it is away, then drained.
        for p in try publishAll() { p.waitUntilExit() }
        let subBacklog = try await measureSeconds {
            try subscriber("bench-sub", count: total).waitUntilExit()
        }

        // vaultd.
        try Data("benchmark passphrase\n".utf8).write(to: URL(fileURLWithPath: dir + "/pass"))
        var pass = Array("benchmark passphrase".utf8)
        _ = try VaultSetup.initialize(dataDir: dir + "/data", keyFile: dir + "/user.key", passphrase: SecureBytes(wiping: &pass), cost: .interactive)
        try Data("""
            [mqtt]
            broker = "mqtt://127.0.0.1:\(port)"
            client_id = "bench-vault"
            [[mqtt.subscription]]
            topic = "bench/+"
            stream = "bench/{1}"
            value_type = "number"

            """.utf8).write(to: URL(fileURLWithPath: dir + "/vaultd.toml"))
        let admin = AdminClient(socketPath: dir + "/v.sock")
        func stored() async throws -> Int64 { try await admin.status().mqtt.subscriptions.map(\.stored).reduce(0, +) }
        func waitStored(_ n: Int64) async throws {
            let deadline = ContinuousClock.now + .seconds(600)
            while try await stored() < n {
                guard ContinuousClock.now < deadline else { throw BenchError("vaultd did not store \(n) MQTT readings in 10 minutes") }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        var daemon = try RunningDaemon.start(dir: dir, config: dir + "/vaultd.toml")
        for _ in 0..<1000 where try await admin.status().mqtt.state != "connected" { try await Task.sleep(for: .milliseconds(10)) }
        guard try await admin.status().mqtt.state == "connected" else { throw BenchError("vaultd did not connect to the broker") }
        let vaultLive = try await measureSeconds {
            for p in try publishAll() { p.waitUntilExit() }
            try await waitStored(Int64(total))
        }
        daemon.stop()
        for p in try publishAll() { p.waitUntilExit() }
        var vaultBacklog = 0.0
        vaultBacklog = try await measureSeconds {
            daemon = try RunningDaemon.start(dir: dir, config: dir + "/vaultd.toml")
            try await waitStored(Int64(total))
        }
        daemon.stop()

        let n = Double(total)
        printTable("mqtt (messages/s at QoS 1; vaultd acknowledges after commit; backlog includes vaultd start-up)", [
            Figure(name: "live, 4 publishers", ours: n / vaultLive, baseline: n / subLive, baselineName: "mosquitto_sub", goal: "report"),
            Figure(name: "backlog drain", ours: n / vaultBacklog, baseline: n / subBacklog, baselineName: "mosquitto_sub", goal: "report"),
        ])
    }

    func waitForPort(_ port: Int) async throws {
        for _ in 0..<200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(fd)
            if rc == 0 { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw BenchError("mosquitto did not listen on \(port)")
    }
}
