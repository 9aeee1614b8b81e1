import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("MQTT topic filters, stream templates, payload mappings and configuration")
struct MQTTMappingTests {
    @Test("Topic filters match as MQTT 3.1.1 §4.7 specifies, with the wildcards' levels captured")
    func filters() throws {
        let f = try TopicFilter("sport/tennis/player1/#")
        #expect(f.match("sport/tennis/player1") == [""])
        #expect(f.match("sport/tennis/player1/ranking") == ["ranking"])
        #expect(f.match("sport/tennis/player1/score/wimbledon") == ["score/wimbledon"])
        #expect(f.match("sport/tennis/player2") == nil)
        let plus = try TopicFilter("sport/+/player1")
        #expect(plus.match("sport/tennis/player1") == ["tennis"])
        #expect(plus.match("sport/tennis/player1/x") == nil)
        #expect(plus.match("sport//player1") == [""])
        #expect(try TopicFilter("+/+").match("/finance") == ["", "finance"])
        #expect(try TopicFilter("#").match("$SYS/broker/load") == nil)
        #expect(try TopicFilter("+/monitor/Clients").match("$SYS/monitor/Clients") == nil)
        #expect(try TopicFilter("$SYS/#").match("$SYS/broker") == ["broker"])
        for bad in ["sport/tennis#", "sport/tennis/#/ranking", "sport+", "a/b+/c", ""] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try TopicFilter(bad) }
        }
    }

    @Test("Stream templates fill {1}…{9}, {topic}, {field}, {name}; unknown placeholders and missing wildcards are config errors")
    func templates() throws {
        let t = try StreamTemplate("home/{1}/{field}", wildcards: 1, allowed: ["field"])
        #expect(try t.render(topic: "z/kitchen", captures: ["kitchen"], field: "temperature") == "home/kitchen/temperature")
        #expect(throws: ConfigurationError.self) { try StreamTemplate("home/{2}", wildcards: 1, allowed: []) }
        #expect(throws: ConfigurationError.self) { try StreamTemplate("home/{name}", wildcards: 0, allowed: ["field"]) }
        #expect(throws: ConfigurationError.self) { try StreamTemplate("home//x", wildcards: 0, allowed: []) }
        // A topic level that is not a valid stream name part makes that message's stream invalid.
        let plain = try StreamTemplate("s/{1}", wildcards: 1, allowed: [])
        #expect(throws: ReadingError.self) { try plain.render(topic: "a/b c", captures: ["b c"]) }
    }

    func subscription(_ toml: String) throws -> MQTTSubscription {
        var c = Configuration()
        try c.apply(toml: try TOML.parse("[mqtt]\nbroker = \"mqtt://127.0.0.1\"\n" + toml))
        try c.validate()
        return c.mqtt.subscriptions[0]
    }

    @Test("format value: numbers and booleans as they are, JSON strings kept, plain text quoted, objects refused, value_type enforced")
    func valueFormat() throws {
        let s = try subscription("[[mqtt.subscription]]\ntopic = \"s/+/t\"\nstream = \"home/{1}/t\"\n")
        func v(_ p: String) throws -> String { String(decoding: try s.readings(topic: "s/a/t", payload: Array(p.utf8), arrival: 1000)[0].value, as: UTF8.self) }
        #expect(try v(" 21.5\n") == "21.5")
        #expect(try v("-3e2") == "-3e2")
        #expect(try v("true") == "true")
        #expect(try v("\"x\"") == "\"x\"")
        #expect(try v("open door") == "\"open door\"")
        let r = try s.readings(topic: "s/a/t", payload: Array("1".utf8), arrival: 1234)
        #expect(r == [.init(stream: "home/a/t", t: 1234, value: Array("1".utf8))])
        #expect(throws: ReadingError.self) { try s.readings(topic: "s/a/t", payload: Array("{\"v\":1}".utf8), arrival: 1) }
        #expect(throws: ReadingError.self) { try s.readings(topic: "s/a/t", payload: [], arrival: 1) }
        #expect(throws: ReadingError.self) { try s.readings(topic: "s/a/t", payload: [0xFF, 0xFE], arrival: 1) }
        let n = try subscription("[[mqtt.subscription]]\ntopic = \"s/+/t\"\nstream = \"home/{1}/t\"\nvalue_type = \"number\"\n")
        #expect(throws: ReadingError.self) { try n.readings(topic: "s/a/t", payload: Array("warm".utf8), arrival: 1) }
        #expect(throws: ReadingError.self) { try n.readings(topic: "s/a/t", payload: Array("true".utf8), arrival: 1) }
    }

    @Test("format json (Zigbee2MQTT): one reading per configured field present, time from the payload, wrong types refuse the message")
    func jsonFormat() throws {
        let s = try subscription("""
            [[mqtt.subscription]]
            topic = "zigbee2mqtt/+"
            format = "json"
            time_field = "meta.ts"
            time_unit = "s"
            value_type = "number"
            [mqtt.subscription.fields]
            temperature = "zigbee/{1}/temperature"
            humidity = "zigbee/{1}/{field}"
            """)
        let r = try s.readings(topic: "zigbee2mqtt/hall", payload: Array(#"{"temperature":21.4,"humidity":40,"linkquality":90,"meta":{"ts":1795489614.5}}"#.utf8), arrival: 1)
        #expect(r == [.init(stream: "zigbee/hall/humidity", t: 1_795_489_614_500, value: Array("40".utf8)),
                      .init(stream: "zigbee/hall/temperature", t: 1_795_489_614_500, value: Array("21.4".utf8))])
        // Partial updates carry only some fields.
        #expect(try s.readings(topic: "zigbee2mqtt/hall", payload: Array(#"{"humidity":41,"meta":{"ts":1}}"#.utf8), arrival: 1).count == 1)
        for bad in [#"{"linkquality":90,"meta":{"ts":1}}"#, #"{"temperature":"hot","meta":{"ts":1}}"#, #"{"temperature":null,"meta":{"ts":1}}"#,
                    #"{"temperature":1}"#, #"{"temperature":1,"meta":{"ts":"yesterday"}}"#, "online", "[1,2]"] {
            #expect(throws: ReadingError.self, "\(bad)") { try s.readings(topic: "zigbee2mqtt/hall", payload: Array(bad.utf8), arrival: 1) }
        }
        // RFC 3339 times.
        let iso = try subscription("[[mqtt.subscription]]\ntopic = \"t/#\"\nformat = \"json\"\ntime_field = \"time\"\n[mqtt.subscription.fields]\n\"ENERGY.Power\" = \"power\"\n")
        let p = try iso.readings(topic: "t/plug", payload: Array(#"{"time":"2026-11-24T10:00:00Z","ENERGY":{"Power":12}}"#.utf8), arrival: 1)
        #expect(p == [.init(stream: "power", t: 1_795_514_400_000, value: Array("12".utf8))])
    }

    @Test("format senml: names from the pack fill {name}, times from the pack; format homeassistant maps on/off and skips unavailable")
    func senmlAndHomeAssistant() throws {
        let s = try subscription("[[mqtt.subscription]]\ntopic = \"senml/+\"\nformat = \"senml\"\nstream = \"{1}/{name}\"\n")
        let r = try s.readings(topic: "senml/dev1", payload: Array(#"[{"bn":"urn:x:","bt":1795489614,"n":"temp","v":20.5},{"n":"hum","t":1,"v":40}]"#.utf8), arrival: 1)
        #expect(r == [.init(stream: "dev1/urn:x:temp", t: 1_795_489_614_000, value: Array("20.5".utf8)),
                      .init(stream: "dev1/urn:x:hum", t: 1_795_489_615_000, value: Array("40".utf8))])
        #expect(throws: ReadingError.self) { try s.readings(topic: "senml/dev1", payload: Array("{}".utf8), arrival: 1) }
        let ha = try subscription("[[mqtt.subscription]]\ntopic = \"homeassistant/+/+/state\"\nformat = \"homeassistant\"\nstream = \"ha/{1}/{2}\"\n")
        func v(_ p: String) throws -> String { String(decoding: try ha.readings(topic: "homeassistant/light/desk/state", payload: Array(p.utf8), arrival: 5)[0].value, as: UTF8.self) }
        #expect(try v("on") == "true")
        #expect(try v("off") == "false")
        #expect(try v("21.3") == "21.3")
        #expect(try v("home") == "\"home\"")
        for skipped in ["unavailable", "unknown", ""] {
            #expect(throws: ReadingError.self) { try ha.readings(topic: "homeassistant/light/desk/state", payload: Array(skipped.utf8), arrival: 5) }
        }
    }

    @Test("Bad MQTT configuration is refused with a message naming the subscription and what to fix")
    func badConfiguration() throws {
        func error(_ toml: String) -> String {
            do {
                var c = Configuration()
                try c.apply(toml: try TOML.parse(toml))
                try c.validate()
                return ""
            } catch let e as ConfigurationError {
                return e.message
            } catch {
                return "\(error)"
            }
        }
        #expect(error("[mqtt]\nbroker = \"http://x\"").contains("mqtt.broker must be mqtt://"))
        #expect(error("[mqtt]\nbroker = \"mqtt://127.0.0.1:1883\"").contains("no [[mqtt.subscription]]"))
        #expect(error("[[mqtt.subscription]]\ntopic = \"a\"\nstream = \"a\"").contains("need mqtt.broker"))
        let head = "[mqtt]\nbroker = \"mqtt://127.0.0.1\"\n[[mqtt.subscription]]\n"
        #expect(error(head + "topic = \"a/#\"").contains("#1 (a/#): stream is required"))
        #expect(error(head + "topic = \"a/#/b\"\nstream = \"x\"").contains("'#' must be a whole level and the last one"))
        #expect(error(head + "topic = \"a\"\nformat = \"xml\"").contains("format must be one of value, json, senml, homeassistant"))
        #expect(error(head + "topic = \"a\"\nformat = \"json\"").contains("needs a [mqtt.subscription.fields] table"))
        #expect(error(head + "topic = \"a/+\"\nstream = \"x/{2}\"").contains("{2} but the topic filter has 1 wildcard"))
        #expect(error(head + "topic = \"a\"\nstream = \"x\"\ncolour = \"red\"").contains("unknown setting \"colour\""))
        #expect(error(head + "topic = \"a\"\nstream = \"x\"\ntime_field = \"t\"").contains("time_field is only for format json"))
        #expect(error("[mqtt]\nbroker = \"mqtt://h\"\nca_file = \"/x\"\n[[mqtt.subscription]]\ntopic = \"a\"\nstream = \"x\"").contains("not mqtts://"))
        #expect(MQTTConfiguration.endpoint("mqtts://broker.lan") == .init(host: "broker.lan", port: 8883, tls: true))
        #expect(MQTTConfiguration.endpoint("mqtt://[::1]:1884") == .init(host: "::1", port: 1884, tls: false))
        #expect(MQTTConfiguration.endpoint("mqtt://user@h") == nil)
    }

    @Test("Reconnection backoff doubles from 0.5 s with jitter in [step/2, step] and stays under the configured maximum")
    func backoff() {
        for attempt in 0..<40 {
            let step = min(30.0, 0.5 * Double(1 << min(attempt, 20)))
            for _ in 0..<20 {
                let d = MQTTIngestService.backoff(attempt: attempt, maxSeconds: 30)
                let s = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
                #expect(s >= step / 2 - 0.001 && s <= step + 0.001)
            }
        }
    }

    @Test("Rejections are all counted but logged only once a minute per subscription, with the number left unlogged")
    func rateLimitedLogging() throws {
        var c = MQTTConfiguration()
        c.broker = "mqtt://127.0.0.1"
        c.subscriptions = [MQTTSubscription(filter: try TopicFilter("a"), format: .value, stream: try StreamTemplate("a", wildcards: 0, allowed: []))]
        let m = MQTTMonitor(configuration: c)
        #expect(m.rejected(0, reason: "x", now: 1_000_000) == 0)
        for i in 1...5 { #expect(m.rejected(0, reason: "y\(i)", now: 1_000_000 + Int64(i)) == nil) }
        #expect(m.rejected(0, reason: "z", now: 1_060_000) == 5)
        #expect(m.snapshot.subscriptions[0].rejected == 7)
        #expect(m.snapshot.subscriptions[0].lastRejection == "z")
    }
}
