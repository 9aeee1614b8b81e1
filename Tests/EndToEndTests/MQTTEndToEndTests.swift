import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let mosquittoPath = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].first { FileManager.default.isExecutableFile(atPath: $0) }
private let mosquittoPub = ["/usr/bin/mosquitto_pub"].first { FileManager.default.isExecutableFile(atPath: $0) }
private let haveMosquitto = mosquittoPath != nil && mosquittoPub != nil
private let noMosquitto = "mosquitto and mosquitto-clients are not installed (scripts/install-deps installs them)"

/// A real Mosquitto broker on a free loopback port, with persistence in the test's directory.
final class Mosquitto: @unchecked Sendable {
    /// A temporary directory for this broker and the test's other files, removed with it.
    let root: String
    let dir: String
    let port: Int
    var process: SpawnedProcess?
    var log: OutputCollector? { process?.output }
    var extraConfig: String

    init(extraConfig: String = "") throws {
        root = FileManager.default.temporaryDirectory.path + "/ev-mqtt-" + UUID().uuidString.prefix(8).lowercased()
        dir = root + "/mosquitto"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = try freePort()
        self.extraConfig = extraConfig
    }

    deinit {
        process = nil
        try? FileManager.default.removeItem(atPath: root)
    }

    var url: String { "mqtt://127.0.0.1:\(port)" }

    func start() async throws {
        let conf = """
            per_listener_settings false
            user \(String(cString: getpwuid(geteuid())!.pointee.pw_name))
            allow_anonymous true
            persistence true
            persistence_location \(dir)/
            max_queued_messages 0
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information
            \(extraConfig.isEmpty ? "listener \(port) 127.0.0.1" : extraConfig)

            """
        try Data(conf.utf8).write(to: URL(fileURLWithPath: dir + "/mosquitto.conf"))
        let p = try SpawnedProcess(mosquittoPath!, ["-c", dir + "/mosquitto.conf"])
        process = p
        guard await p.output.wait(for: "running", timeout: .seconds(20)) else { throw HarnessError("mosquitto did not start:\n\(p.output.text)") }
    }

    /// SIGTERM: Mosquitto saves its persistent sessions and queued messages, then exits.
    func stop() async {
        await process?.stop()
        process = nil
    }

    /// Publishes one message per line at QoS 1 with `mosquitto_pub -l`; returns once the
    /// broker has acknowledged them all.
    func publish(_ topic: String, lines: [String], extra: [String] = []) async throws {
        let r = try await run(mosquittoPub!, ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", topic, "-l"] + extra,
                              stdin: Array((lines.joined(separator: "\n") + "\n").utf8), timeout: .seconds(120))
        guard r.status == 0 else { throw HarnessError("mosquitto_pub failed: \(r.stderr)") }
    }

    func publish(_ topic: String, file: String, extra: [String] = []) async throws {
        let r = try await run(mosquittoPub!, ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", topic, "-f", file] + extra, timeout: .seconds(60))
        guard r.status == 0 else { throw HarnessError("mosquitto_pub failed: \(r.stderr)") }
    }
}

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket() failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    guard bound == 0 else { throw HarnessError("bind() failed") }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

struct ExportedReading: Hashable {
    var stream: String
    var t: Int64
    var v: String
}

extension VaultFixture {
    func status() async throws -> AdminAPI.Status {
        let r = try await request("GET", "/v1/status")
        return try JSONDecoder().decode(AdminAPI.Status.self, from: Data(r.body))
    }

    /// Polls the daemon's status until `condition` holds (bounded by `timeout`).
    @discardableResult
    func waitForStatus(timeout: Duration = .seconds(60), _ condition: (AdminAPI.Status) -> Bool) async throws -> AdminAPI.Status {
        let deadline = ContinuousClock.now + timeout
        var last = try await status()
        while !condition(last) {
            guard ContinuousClock.now < deadline else { throw HarnessError("timed out waiting; last MQTT status: \(last.mqtt)") }
            try await Task.sleep(for: .milliseconds(50))
            last = try await status()
        }
        return last
    }

    func exported() async throws -> [ExportedReading] {
        let r = try await cli(["export", "--passphrase-file", passphraseFile])
        guard r.status == 0 else { throw HarnessError("export failed: \(r.stderr)") }
        return try r.stdout.split(separator: "\n").map { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let v = String(decoding: try JSONSerialization.data(withJSONObject: o["v"]!, options: [.fragmentsAllowed]), as: UTF8.self)
            return ExportedReading(stream: o["stream"] as! String, t: (o["t"] as! NSNumber).int64Value, v: v)
        }
    }

    func writeConfig(_ text: String) throws {
        configFile = root + "/vaultd.toml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: configFile))
    }
}

private func stored(_ s: AdminAPI.Status) -> Int64 { s.mqtt.subscriptions.map(\.stored).reduce(0, +) }

@Suite("End to end: MQTT ingest from a real Mosquitto broker", .serialized, .enabled(if: haveMosquitto, Comment(rawValue: noMosquitto)))
struct MQTTEndToEndTests {
    static let subscriptions = """
        [[mqtt.subscription]]
        topic = "sensors/+/temp"
        stream = "home/{1}/temperature"
        value_type = "number"

        [[mqtt.subscription]]
        topic = "zigbee2mqtt/+"
        format = "json"
        time_field = "time"
        value_type = "number"
        [mqtt.subscription.fields]
        temperature = "zigbee/{1}/temperature"
        humidity = "zigbee/{1}/humidity"

        [[mqtt.subscription]]
        topic = "senml/+"
        format = "senml"
        stream = "{1}/{name}"

        [[mqtt.subscription]]
        topic = "homeassistant/+/+/state"
        format = "homeassistant"
        stream = "ha/{1}/{2}"

        """

    /// A vault whose daemon runs with `subscriptions` on `broker` (initialized and started;
    /// connected when the broker runs).
    func runningVault(_ broker: Mosquitto, settings: String = "", mqtt: String = "") async throws -> VaultFixture {
        let v = try VaultFixture()
        try v.writeConfig("""
            \(settings)
            [mqtt]
            broker = "\(broker.url)"
            client_id = "edgevault-test"
            keep_alive_seconds = 5
            reconnect_max_seconds = 2
            \(mqtt)

            """ + Self.subscriptions)
        try await v.initVault()
        try await v.startDaemon()
        if broker.process != nil { try await v.waitForStatus { $0.mqtt.state == "connected" } }
        return v
    }

    @Test("10,000 QoS 1 messages over four topics and formats become readings with the right streams, times and values")
    func tenThousand() async throws {
        let broker = try Mosquitto()
        try await broker.start()
        let v = try await runningVault(broker)
        let base: Int64 = 1_795_000_000_000
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        var expected: [ExportedReading] = []
        let a = (0..<3000).map { "\($0).5" }
        let b = (1...2000).map { "-\($0)" }
        let zigbee = (0..<2500).map { #"{"temperature":\#($0).25,"humidity":\#($0),"linkquality":90,"time":\#(base + Int64($0))}"# }
        let senml = (0..<2000).map { #"[{"bn":"meter/","bt":\#(base / 1000 + Int64($0)),"n":"energy","v":\#($0),"u":"Wh"}]"# }
        let ha = (0..<500).map { $0 % 2 == 0 ? "on" : "off" }
        for (i, z) in zip(0..., zigbee) {
            _ = z
            expected.append(.init(stream: "zigbee/hall/temperature", t: base + Int64(i), v: "\(i).25"))
            expected.append(.init(stream: "zigbee/hall/humidity", t: base + Int64(i), v: "\(i)"))
        }
        for i in 0..<2000 { expected.append(.init(stream: "dev1/meter/energy", t: (base / 1000 + Int64(i)) * 1000, v: "\(i)")) }
        try await withThrowingTaskGroup(of: Void.self) { g in
            g.addTask { try await broker.publish("sensors/a/temp", lines: a) }
            g.addTask { try await broker.publish("sensors/b/temp", lines: b) }
            g.addTask { try await broker.publish("zigbee2mqtt/hall", lines: zigbee) }
            g.addTask { try await broker.publish("senml/dev1", lines: senml) }
            g.addTask { try await broker.publish("homeassistant/light/desk/state", lines: ha) }
            try await g.waitForAll()
        }
        let status = try await v.waitForStatus { stored($0) >= 12_500 }
        let after = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(status.mqtt.subscriptions.map(\.received) == [5000, 2500, 2000, 500])
        #expect(status.mqtt.subscriptions.map(\.stored) == [5000, 5000, 2000, 500])
        #expect(status.mqtt.subscriptions.map(\.rejected) == [0, 0, 0, 0])
        let got = try await v.exported()
        #expect(got.count == 12_500)
        // Payload times are kept exactly.
        let timed = Set(got.filter { $0.stream.hasPrefix("zigbee/") || $0.stream.hasPrefix("dev1/") })
        #expect(timed == Set(expected))
        // Single values get their arrival time, and every value arrives once.
        func values(_ stream: String) -> [String] { got.filter { $0.stream == stream }.map(\.v).sorted() }
        for (stream, sent) in [("home/a/temperature", a), ("home/b/temperature", b), ("ha/light/desk", ha.map { $0 == "on" ? "true" : "false" })] {
            let stored = values(stream)
            #expect(stored == sent.sorted(), "\(stream): \(stored.count) stored, \(sent.count) sent, \(Set(sent).subtracting(stored).count) missing")
        }
        for r in got where r.stream.hasPrefix("home/") || r.stream.hasPrefix("ha/") {
            #expect(r.t >= before - 1000 && r.t <= after + 1000)
        }
        // Per topic, arrival times follow publication order.
        let aTimes = got.filter { $0.stream == "home/a/temperature" }.sorted { Double($0.v)! < Double($1.v)! }.map(\.t)
        #expect(aTimes == aTimes.sorted())
        let metrics = String(decoding: try await v.request("GET", "/metrics").body, as: UTF8.self)
        #expect(metrics.split(separator: "\n").contains("edgevault_mqtt_connected 1.0"))
        #expect(metrics.contains("edgevault_mqtt_messages_received_total{topic=\"zigbee2mqtt/+\"} 2500"))
        #expect(metrics.contains("edgevault_mqtt_readings_stored_total{topic=\"zigbee2mqtt/+\"} 5000"))
        let cli = try await v.cli(["status"])
        #expect(cli.stdout.contains("mqtt: connected to \(broker.url)"), "\(cli.stdout)")
        #expect(cli.stdout.contains("sensors/+/temp"))
        try await v.stopDaemon()
        await broker.stop()
    }

    @Test("Broker restarted in the middle: every message the broker acknowledged to the publisher is in the vault; duplicates ≤ redelivered")
    func brokerRestart() async throws {
        let broker = try Mosquitto()
        try await broker.start()
        let v = try await runningVault(broker)
        let first = (0..<3000).map { "\($0)" }
        let second = (3000..<6000).map { "\($0)" }
        try await broker.publish("sensors/a/temp", lines: first)
        // vaultd is still taking the first half when the broker goes down (SIGTERM: it saves
        // the persistent session with what it still holds for vaultd).
        let atStop = stored(try await v.status())
        await broker.stop()
        try await v.waitForStatus { $0.mqtt.state == "disconnected" }
        try await broker.start()
        try await v.waitForStatus { $0.mqtt.state == "connected" && $0.mqtt.connects == 2 }
        try await broker.publish("sensors/a/temp", lines: second)
        let status = try await v.waitForStatus { s in stored(s) >= 6000 }
        let got = try await v.exported().filter { $0.stream == "home/a/temperature" }.map(\.v)
        #expect(Set(got) == Set(first + second), "missing: \(Set(first + second).subtracting(got).count); stored before the broker stopped: \(atStop)")
        let duplicates = got.count - Set(got).count
        #expect(Int64(duplicates) <= status.mqtt.redelivered, "duplicates \(duplicates), redelivered \(status.mqtt.redelivered)")
        #expect(v.daemonLog!.text.contains("MQTT connection ended"))
        try await v.stopDaemon()
        await broker.stop()
    }

    @Test("vaultd SIGKILLed in the middle: nothing acknowledged is lost, the broker redelivers the rest; duplicates ≤ redelivered")
    func daemonKilled() async throws {
        let broker = try Mosquitto()
        try await broker.start()
        let v = try await runningVault(broker)
        let first = (0..<2000).map { "\($0)" }
        let second = (2000..<6000).map { "\($0)" }
        try await broker.publish("sensors/a/temp", lines: first)
        try await v.waitForStatus { stored($0) >= 2000 }
        // The second half goes to the broker while vaultd is killed: part of it in flight,
        // the rest queued for vaultd's persistent session.
        try await withThrowingTaskGroup(of: Void.self) { g in
            g.addTask { try await broker.publish("sensors/a/temp", lines: second) }
            g.addTask {
                _ = try await v.waitForStatus { stored($0) > 2000 }
                try await v.stopDaemon(signal: SIGKILL)
            }
            try await g.waitForAll()
        }
        try await v.startDaemon()
        // After the restart the new process counts only what it stores now.
        let deadline = ContinuousClock.now + .seconds(60)
        var got: [String] = []
        while ContinuousClock.now < deadline {
            got = try await v.exported().filter { $0.stream == "home/a/temperature" }.map(\.v)
            if Set(got).count == 6000 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let after = try await v.status()
        #expect(Set(got) == Set(first + second), "missing: \(Set(first + second).subtracting(got).count)")
        let duplicates = got.count - Set(got).count
        #expect(Int64(duplicates) <= after.mqtt.redelivered, "duplicates \(duplicates), redelivered \(after.mqtt.redelivered)")
        try await v.stopDaemon()
        await broker.stop()
    }

    @Test("Malformed payloads, wrong types, unknown topics under a wildcard, oversized payloads and times in Unix seconds are counted, logged at a limited rate and dropped; vaultd stays healthy")
    func badPayloads() async throws {
        let broker = try Mosquitto()
        let root = broker.root
        try await broker.start()
        let v = try await runningVault(broker, mqtt: "max_payload_bytes = 1024")
        try await broker.publish("sensors/a/temp", lines: ["warm", "true", "{\"v\":1}", "21.5"])
        try await broker.publish("sensors/bad level/temp", lines: ["20"])
        try await broker.publish("zigbee2mqtt/hall", lines: ["{not json", #"{"temperature":"hot","time":1}"#, #"{"linkquality":3,"time":1}"#,
                                                               #"{"temperature":20,"time":1795000000000}"#])
        try await broker.publish("zigbee2mqtt/bridge", lines: ["online"])
        try await broker.publish("zigbee2mqtt/hall", lines: [#"{"temperature":19,"time":1795000000}"#])  // Unix seconds: refused
        try await broker.publish("senml/dev1", lines: ["[{\"n\":1}]", "[]"])
        try await broker.publish("homeassistant/sensor/x/state", lines: ["unavailable"])
        // 2 KiB: decoded, then refused; 200 KiB: skipped in the decoder without being buffered.
        try Data(repeating: 0x31, count: 2048).write(to: URL(fileURLWithPath: root + "/2k"))
        try Data(repeating: 0x31, count: 200_000).write(to: URL(fileURLWithPath: root + "/200k"))
        try await broker.publish("sensors/a/temp", file: root + "/2k")
        try await broker.publish("sensors/a/temp", file: root + "/200k")
        try await broker.publish("sensors/a/temp", lines: ["22.5"])
        // Counts of received and rejected move before the commit, stored after it: the last
        // message is a valid one on the first subscription, so its stored count ends the wait.
        let s = try await v.waitForStatus { $0.mqtt.subscriptions[0].received == 8 && $0.mqtt.subscriptions[0].stored == 2 }
        #expect(s.mqtt.subscriptions.map(\.received) == [8, 6, 2, 1])
        #expect(s.mqtt.subscriptions.map(\.rejected) == [6, 5, 2, 1])
        #expect(s.mqtt.subscriptions[1].lastRejection?.contains("looks like Unix seconds") == true, "\(s.mqtt.subscriptions[1])")
        #expect(s.mqtt.subscriptions.map(\.stored) == [2, 1, 0, 0])
        #expect(s.mqtt.state == "connected")
        let got = try await v.exported()
        #expect(Set(got.map(\.v)) == ["21.5", "22.5", "20"])
        #expect(try await v.publicRequest("GET", "/healthz").status == 200)
        let logText = v.daemonLog!.text
        // One warning per subscription in the first minute, however many were dropped.
        let warnings = logText.split(separator: "\n").filter { $0.contains("MQTT message dropped") }
        #expect(warnings.count == 4, "\(warnings)")
        #expect(logText.contains("reason=\"expected a number, got a string\""))
        try await v.stopDaemon()
        await broker.stop()
    }

    @Test("With automatic stream creation off, a message for an unknown stream is rejected alone; one for an added stream is stored")
    func unknownStream() async throws {
        let broker = try Mosquitto()
        try await broker.start()
        let v = try await runningVault(broker, settings: "[ingest]\nauto_create_streams = false")
        #expect(try await v.cli(["stream", "add", "home/known/temperature"]).status == 0)
        try await broker.publish("sensors/unknown/temp", lines: ["20.5"])
        try await broker.publish("sensors/known/temp", lines: ["21.5"])
        let s = try await v.waitForStatus { $0.mqtt.subscriptions[0].stored == 1 }
        #expect(s.mqtt.subscriptions[0].rejected == 1)
        #expect(s.mqtt.subscriptions[0].lastRejection?.contains("unknown stream \"home/unknown/temperature\"") == true, "\(s.mqtt)")
        let got = try await v.exported()
        #expect(got.map(\.stream) == ["home/known/temperature"] && got.map(\.v) == ["21.5"])
        #expect(v.daemonLog!.text.contains("topic=sensors/unknown/temp"))
        try await v.stopDaemon()
        await broker.stop()
    }

    @Test("Broker down at start: vaultd starts and serves, status says why, and it connects when the broker appears")
    func brokerDownAtStart() async throws {
        let broker = try Mosquitto()
        let v = try await runningVault(broker)
        let down = try await v.waitForStatus { $0.mqtt.state == "disconnected" }
        #expect(down.mqtt.detail?.contains("cannot reach 127.0.0.1:\(broker.port)") == true, "\(down.mqtt)")
        let cli = try await v.cli(["status"])
        #expect(cli.stdout.contains("mqtt: disconnected from \(broker.url)"), "\(cli.stdout)")
        #expect(try await v.publicRequest("GET", "/healthz").status == 200)
        let metrics = String(decoding: try await v.request("GET", "/metrics").body, as: UTF8.self)
        #expect(metrics.split(separator: "\n").contains("edgevault_mqtt_connected 0.0"))
        try await broker.start()
        try await v.waitForStatus(timeout: .seconds(30)) { $0.mqtt.state == "connected" }
        try await broker.publish("sensors/a/temp", lines: ["19.5"])
        try await v.waitForStatus { stored($0) == 1 }
        #expect(try await v.exported().map(\.v) == ["19.5"])
        try await v.stopDaemon()
        await broker.stop()
    }

    @Test("TLS and a user name and password to the broker; a wrong password is reported in status, not fatal",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") && FileManager.default.isExecutableFile(atPath: "/usr/bin/mosquitto_passwd")))
    func tlsAndPassword() async throws {
        let broker = try Mosquitto()
        let root = broker.root
        let made = try await run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                                      "-keyout", root + "/broker.key", "-out", root + "/broker.crt", "-days", "1", "-subj", "/CN=localhost",
                                                      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        #expect(made.status == 0, "\(made.stderr)")
        let pw = try await run("/usr/bin/mosquitto_passwd", ["-b", "-c", root + "/passwd", "vault", "s3cret-pass"])
        #expect(pw.status == 0, "\(pw.stderr)")
        try Data("s3cret-pass\n".utf8).write(to: URL(fileURLWithPath: root + "/mqtt-password"))
        try Data("wrong\n".utf8).write(to: URL(fileURLWithPath: root + "/wrong-password"))
        let port = try freePort()
        let plainPort = try freePort()
        broker.extraConfig = """
            allow_anonymous false
            password_file \(root)/passwd
            listener \(port) 127.0.0.1
            certfile \(root)/broker.crt
            keyfile \(root)/broker.key
            listener \(plainPort) 127.0.0.1
            """
        try await broker.start()
        let v = try VaultFixture()
        func config(_ passwordFile: String) throws {
            try v.writeConfig("""
                [mqtt]
                broker = "mqtts://localhost:\(port)"
                ca_file = "\(root)/broker.crt"
                username = "vault"
                password_file = "\(passwordFile)"
                reconnect_max_seconds = 1
                [[mqtt.subscription]]
                topic = "sensors/+/temp"
                stream = "home/{1}/temperature"

                """)
        }
        try config(root + "/wrong-password")
        try await v.initVault()
        try await v.startDaemon()
        let refused = try await v.waitForStatus { $0.mqtt.detail?.contains("bad user name or password") == true || $0.mqtt.detail?.contains("not authorized") == true }
        #expect(refused.mqtt.state == "disconnected")
        #expect(!v.daemonLog!.text.contains("s3cret") && !v.daemonLog!.text.contains("wrong\n"))
        try await v.stopDaemon()
        try config(root + "/mqtt-password")
        try await v.startDaemon()
        try await v.waitForStatus { $0.mqtt.state == "connected" }
        let pub = try await run(mosquittoPub!, ["-h", "127.0.0.1", "-p", "\(plainPort)", "-u", "vault", "-P", "s3cret-pass", "-q", "1",
                                                "-t", "sensors/tls/temp", "-m", "18.5"])
        #expect(pub.status == 0, "\(pub.stderr)")
        try await v.waitForStatus { stored($0) == 1 }
        #expect(try await v.exported() .map(\.v) == ["18.5"])
        try await v.stopDaemon()
        await broker.stop()
    }
}
