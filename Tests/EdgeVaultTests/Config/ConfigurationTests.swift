import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("TOML and configuration")
struct ConfigurationTests {
    @Test("TOML reads tables, arrays of tables, strings, numbers, booleans, arrays and comments")
    func toml() throws {
        let doc = try TOML.parse("""
            # comment
            name = "a \\"quoted\\" \\u00e9"   # trailing comment
            path = 'C:\\raw'
            n = 1_000
            f = 2.5
            on = true
            list = [1, 2,
              3]  # multi-line
            [ingest]
            auto_create_streams = false
            [[mqtt.subscription]]
            topic = "a/#"
            [[mqtt.subscription]]
            topic = "b/+"
            """)
        #expect(doc["name"] == .string("a \"quoted\" é"))
        #expect(doc["path"] == .string("C:\\raw"))
        #expect(doc["n"] == .integer(1000))
        #expect(doc["f"] == .float(2.5))
        #expect(doc["on"] == .boolean(true))
        #expect(doc["list"] == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(doc["ingest"] == .table(["auto_create_streams": .boolean(false)]))
        #expect(doc["mqtt"] == .table(["subscription": .array([.table(["topic": .string("a/#")]), .table(["topic": .string("b/+")])])]))
    }

    @Test("TOML errors carry a line number", arguments: [
        ("a = 1\nb = nope", 2), ("a = 1\na = 2", 2), ("a = \"open", 1), ("x = {a = 1}", 1), ("[t]\nk 1", 2),
    ])
    func tomlErrors(text: String, line: Int) {
        do {
            _ = try TOML.parse(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == line)
        }
    }

    @Test("TOML arrays nest at most 32 deep: deeper is an error naming the limit, not a stack overflow (found by fuzzing)")
    func tomlNestingLimit() throws {
        let ok = "a = " + String(repeating: "[", count: 32) + "1" + String(repeating: "]", count: 32)
        var value = try #require(TOML.parse(ok)["a"])
        for _ in 0..<32 {
            guard case .array(let items) = value, items.count == 1 else { Issue.record("expected one nested array"); return }
            value = items[0]
        }
        #expect(value == .integer(1))
        for text in ["a = " + String(repeating: "[", count: 33) + "1" + String(repeating: "]", count: 33),
                     "listen = " + String(repeating: "[", count: 100_000)] {
            #expect(throws: TOML.ParseError(line: 1, reason: "arrays nested more than 32 deep")) { try TOML.parse(text) }
        }
    }

    @Test("Precedence: defaults < file < environment; unknown keys and bad values are refused")
    func precedence() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/vaultd.toml"
        try Data("""
            data_dir = "/from/file"
            admin_socket = "/file.sock"
            [ingest]
            auto_create_streams = false
            default_bucket_seconds = 600
            """.utf8).write(to: URL(fileURLWithPath: path))
        let c = try Configuration.load(path: path, environment: ["EDGEVAULT_DATA_DIR": "/from/env"])
        #expect(c.dataDir == "/from/env")
        #expect(c.adminSocket == "/file.sock")
        #expect(c.autoCreateStreams == false)
        #expect(c.defaultBucketSeconds == 600)
        #expect(c.logLevel == "info")
        var flagged = c
        try flagged.apply(dataDir: "/flag", adminSocket: nil)
        #expect(flagged.dataDir == "/flag")

        try Data("datadir = \"/typo\"\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: ConfigurationError.self) { try Configuration.load(path: path, environment: [:]) }
        #expect(throws: ConfigurationError.self) { try Configuration.load(path: dir.path + "/missing.toml", environment: [:]) }
        #expect(throws: ConfigurationError.self) { try Configuration.load(path: nil, environment: ["EDGEVAULT_LOG_FORMAT": "xml", "EDGEVAULT_CONFIG": "/nonexistent/x"]) }
        var env = Configuration()
        #expect(throws: ConfigurationError.self) { try env.apply(environment: ["EDGEVAULT_SEGMENT_GRACE_SECONDS": "-1"]) }
        #expect(throws: ConfigurationError.self) { try env.apply(environment: ["EDGEVAULT_AUTO_CREATE_STREAMS": "maybe"]) }
    }
}

@Suite("Configuration: public listener and metrics settings")
struct ListenerSettingsTests {
    @Test("metrics_listen takes loopback addresses only; the per-address cap may not exceed the total")
    func listenerSettings() throws {
        var c = Configuration()
        try c.apply(environment: ["EDGEVAULT_METRICS_LISTEN": "127.0.0.1:9464"])
        #expect(c.metricsListen == "127.0.0.1:9464")
        try c.apply(toml: ["metrics_listen": .string("[::1]:0")])
        #expect(c.metricsListen == "[::1]:0")
        for bad in ["0.0.0.0:9464", "[::]:9464", "10.0.0.2:9464", "localhost:9464", "127.0.0.1", "128.0.0.1:1"] {
            var d = Configuration()
            #expect(throws: ConfigurationError.self, "\(bad)") { try d.apply(environment: ["EDGEVAULT_METRICS_LISTEN": bad]) }
        }
        try c.apply(toml: ["public": .table(["header_timeout_seconds": .integer(5), "max_connections_per_address": .integer(8), "max_connections": .integer(64)])])
        #expect(c.headerTimeoutSeconds == 5 && c.maxConnectionsPerAddress == 8 && c.maxConnections == 64)
        try c.validate()
        c.maxConnectionsPerAddress = 65
        #expect(throws: ConfigurationError.self) { try c.validate() }
        var e = Configuration()
        #expect(throws: ConfigurationError.self) { try e.apply(environment: ["EDGEVAULT_HEADER_TIMEOUT_SECONDS": "0"]) }
    }
}

@Suite("deploy/vaultd.toml")
struct DeployConfigTests {
    @Test("The shipped example config parses and equals the built-in defaults")
    func exampleConfigIsTheDefaults() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let c = try Configuration.load(path: repo.path + "/deploy/vaultd.toml", environment: [:])
        #expect(c == Configuration())
    }

    @Test("The MQTT example (Mosquitto, Zigbee2MQTT, Tasmota, ESPHome, Home Assistant, SenML) parses and maps sample payloads")
    func mqttExample() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let c = try Configuration.load(path: repo.path + "/deploy/mqtt/vaultd-mqtt.toml", environment: [:])
        #expect(c.mqtt.broker == "mqtt://127.0.0.1:1883")
        #expect(c.mqtt.subscriptions.map(\.filter.text) == ["zigbee2mqtt/+", "tele/+/SENSOR", "homeassistant/+/+/state", "+/sensor/+/state", "senml/+"])
        func streams(_ topic: String, _ payload: String) throws -> [String] {
            let sub = try #require(c.mqtt.subscriptions.first { $0.filter.match(topic) != nil })
            return try sub.readings(topic: topic, payload: Array(payload.utf8), arrival: 1_795_000_000_000).map(\.stream)
        }
        #expect(try streams("zigbee2mqtt/hall", #"{"temperature":21.4,"humidity":40,"battery":97,"linkquality":90}"#)
                == ["zigbee/hall/battery", "zigbee/hall/humidity", "zigbee/hall/temperature"])
        #expect(try streams("tele/plug1/SENSOR", #"{"Time":"2026-11-24T10:00:00","ENERGY":{"Power":12,"Total":3.2}}"#)
                == ["plug/plug1/power", "plug/plug1/energy"])
        #expect(try streams("garden/sensor/soil/state", "31.5") == ["esphome/garden/soil"])
        #expect(try streams("homeassistant/light/desk/state", "on") == ["ha/light/desk"])
        #expect(try streams("homeassistant/sensor/power/state", "12") == ["ha/sensor/power"])
        #expect(try streams("senml/board1", #"[{"bn":"x/","n":"t","v":1}]"#) == ["board1/x/t"])
    }
}

@Suite("Configuration: one typed table for the file, the environment and the flags")
struct SettingSourcesTests {
    @Test("A variable is read as its setting's type: EDGEVAULT_MQTT_USERNAME=1000 is the user name \"1000\"")
    func environmentTakesTheDeclaredType() throws {
        var c = Configuration()
        try c.apply(environment: ["EDGEVAULT_MQTT_USERNAME": "1000", "EDGEVAULT_MQTT_CLIENT_ID": "42",
                                  "EDGEVAULT_MAX_CONNECTIONS": "300", "EDGEVAULT_AUTO_CREATE_STREAMS": "false"])
        #expect(c.mqtt.username == "1000")
        #expect(c.mqtt.clientId == "42")
        #expect(c.maxConnections == 300)
        #expect(c.autoCreateStreams == false)
        try c.apply(environment: ["EDGEVAULT_MQTT_USERNAME": "true"])
        #expect(c.mqtt.username == "true")
    }

    @Test("A number or boolean setting given other text via the environment: one line naming the variable")
    func environmentTypeErrors() {
        let cases: [(String, String, String)] = [
            ("EDGEVAULT_HEADER_TIMEOUT_SECONDS", "ten",
             "EDGEVAULT_HEADER_TIMEOUT_SECONDS: public.header_timeout_seconds must be an integer in 1…300, not \"ten\""),
            ("EDGEVAULT_MQTT_KEEP_ALIVE_SECONDS", "60s",
             "EDGEVAULT_MQTT_KEEP_ALIVE_SECONDS: mqtt.keep_alive_seconds must be an integer in 5…3600, not \"60s\""),
            ("EDGEVAULT_ALLOW_UNKNOWN_ORGS", "yes",
             "EDGEVAULT_ALLOW_UNKNOWN_ORGS: requests.allow_unknown_orgs must be true or false, not \"yes\""),
            ("EDGEVAULT_EVENT_LOOP_THREADS", "0",
             "EDGEVAULT_EVENT_LOOP_THREADS: event_loop_threads must be an integer in 1…64"),
            ("EDGEVAULT_MQTT_USERNAME", "", "EDGEVAULT_MQTT_USERNAME: mqtt.username must be a non-empty string"),
        ]
        for (name, text, message) in cases {
            var c = Configuration()
            #expect(throws: ConfigurationError(message), "\(name)=\(text)") { try c.apply(environment: [name: text]) }
            #expect(!message.contains("\n"))
        }
        // Through load, as vaultd and vault-cli read it (exit 78 prints this message).
        #expect(throws: ConfigurationError("EDGEVAULT_MAX_PENDING_TOTAL: requests.max_pending_total must be an integer in 1…100000, not \"many\"")) {
            try Configuration.load(path: nil, environment: ["EDGEVAULT_MAX_PENDING_TOTAL": "many", "EDGEVAULT_CONFIG": "/dev/null"])
        }
    }

    @Test("Relative paths: from the file, relative to its directory; from the environment and flags, to the current directory")
    func relativePaths() throws {
        let dir = TemporaryDirectory()
        try FileIO.makeDirectories(dir.path + "/etc/sub", mode: 0o700)
        let path = dir.path + "/etc/sub/vaultd.toml"
        try Data("""
            data_dir = "data"
            admin_socket = "./run/../admin.sock"
            tls_certificate = "../tls/cert.pem"
            tls_key = "/abs/key.pem"
            [mqtt]
            broker = "mqtts://127.0.0.1"
            username = "u"
            password_file = "mqtt-password"
            ca_file = "ca.pem"
            [[mqtt.subscription]]
            topic = "a/+"
            stream = "a/{1}"
            """.utf8).write(to: URL(fileURLWithPath: path))
        let etc = FileIO.absolute(dir.path + "/etc")
        let file = try Configuration.load(path: path, environment: [:])
        #expect(file.dataDir == etc + "/sub/data")
        #expect(file.adminSocket == etc + "/sub/admin.sock")
        #expect(file.tlsCertificate == etc + "/tls/cert.pem")
        #expect(file.tlsKey == "/abs/key.pem")
        #expect(file.mqtt.passwordFile == etc + "/sub/mqtt-password")
        #expect(file.mqtt.caFile == etc + "/sub/ca.pem")

        let cwd = FileIO.absolute(".")
        let env = try Configuration.load(path: path, environment: [
            "EDGEVAULT_DATA_DIR": "vault-data", "EDGEVAULT_ADMIN_SOCKET": "sock/admin.sock",
            "EDGEVAULT_TLS_CERTIFICATE": "c.pem", "EDGEVAULT_MQTT_PASSWORD_FILE": "../pw",
        ])
        #expect(env.dataDir == cwd + "/vault-data")
        #expect(env.adminSocket == cwd + "/sock/admin.sock")
        #expect(env.tlsCertificate == cwd + "/c.pem")
        #expect(env.mqtt.passwordFile == FileIO.absolute(cwd + "/../pw"))
        #expect(env.mqtt.caFile == etc + "/sub/ca.pem")

        var flagged = env
        try flagged.apply(dataDir: "flag-data", adminSocket: "./flag.sock")
        #expect(flagged.dataDir == cwd + "/flag-data")
        #expect(flagged.adminSocket == cwd + "/flag.sock")
    }

    @Test("Flags are applied as their settings' types, errors naming the flag; unknown keys in the file are still errors")
    func flagsAndUnknownKeys() throws {
        var c = Configuration()
        try c.apply(dataDir: nil, adminSocket: nil, listen: "[::1]:0", logLevel: "debug", logFormat: "json")
        #expect(c.listen == "[::1]:0" && c.logLevel == "debug" && c.logFormat == "json")
        #expect(throws: ConfigurationError("--log-level: log_level must be one of trace, debug, info, notice, warning, error, critical, not \"loud\"")) {
            try c.apply(dataDir: nil, adminSocket: nil, logLevel: "loud")
        }
        #expect(throws: ConfigurationError("--log-format: log_format must be one of logfmt, json, not \"xml\"")) {
            try c.apply(dataDir: nil, adminSocket: nil, logFormat: "xml")
        }
        #expect(throws: ConfigurationError.self) { try c.apply(dataDir: nil, adminSocket: nil, listen: "8080") }
        #expect(throws: ConfigurationError("--data-dir: data_dir must be a file path")) { try c.apply(dataDir: "", adminSocket: nil) }

        #expect(throws: ConfigurationError("unknown setting \"datadir\"")) { try c.apply(toml: ["datadir": .string("/x")]) }
        #expect(throws: ConfigurationError("unknown setting \"public.header_timeout\"")) {
            try c.apply(toml: ["public": .table(["header_timeout": .integer(5)])])
        }
        #expect(throws: ConfigurationError("mqtt.username must be a non-empty string")) {
            try c.apply(toml: ["mqtt": .table(["username": .integer(1000)])])
        }
        #expect(throws: ConfigurationError("event_loop_threads must be an integer in 1…64")) { try c.apply(toml: ["event_loop_threads": .string("2")]) }
    }

    @Test("Every setting in the table is documented in deploy/vaultd.toml, with its variable and flag; names are unique")
    func tableIsDocumented() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: repo.appendingPathComponent("deploy/vaultd.toml"), encoding: .utf8)
        let settings = Configuration.settings
        #expect(Set(settings.map(\.key)).count == settings.count)
        #expect(Set(settings.compactMap(\.env)).count == settings.compactMap(\.env).count)
        #expect(Set(settings.compactMap(\.flag)).count == settings.compactMap(\.flag).count)
        for s in settings {
            if case .tables = s.kind {
                #expect(doc.contains("[[\(s.key)]]"), "\(s.key)")
            } else {
                #expect(doc.contains(String(s.key.split(separator: ".").last!) + " = "), "\(s.key)")
            }
            if let env = s.env {
                #expect(env.hasPrefix("EDGEVAULT_"))
                #expect(doc.contains(env), "\(env)")
            }
            if let flag = s.flag { #expect(doc.contains(flag), "\(flag)") }
        }
    }
}
