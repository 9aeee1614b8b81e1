import EdgeVaultCore
import EdgeVaultStore
/// How MQTT messages become readings: a topic filter, a payload format and where the readings
/// go. Configured as `[[mqtt.subscription]]` tables (deploy/vaultd.toml documents every key).
public struct MQTTSubscription: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        /// The payload is one value: a number, `true`/`false`, a JSON string or plain text.
        case value
        /// A JSON object; `fields` picks values by path, one stream each (Zigbee2MQTT, Tasmota).
        case json
        /// A SenML pack (RFC 8428); each record's name fills `{name}` in `stream`.
        case senml
        /// Home Assistant state topics (MQTT statestream): `on`/`off` become booleans, numbers
        /// numbers; `unavailable`, `unknown` and empty states are not readings.
        case homeassistant
    }

    public enum ValueType: String, Sendable, CaseIterable {
        case any, number, boolean, string
    }

    public enum TimeUnit: String, Sendable, CaseIterable {
        case ms, s
    }

    public var filter: TopicFilter
    public var format: Format
    /// Stream template for `value`, `homeassistant` and `senml`.
    public var stream: StreamTemplate?
    /// `json`: value path → stream template, in a stable order.
    public var fields: [(path: [String], stream: StreamTemplate)]
    /// `json`: where the time is (RFC 3339 string or a number in `timeUnit`); else arrival time.
    public var timeField: [String]?
    public var timeUnit: TimeUnit
    public var valueType: ValueType
    /// Store retained messages (sent by the broker on every subscribe) as readings.
    public var storeRetained: Bool

    public init(filter: TopicFilter, format: Format, stream: StreamTemplate? = nil, fields: [(path: [String], stream: StreamTemplate)] = [],
                timeField: [String]? = nil, timeUnit: TimeUnit = .ms, valueType: ValueType = .any, storeRetained: Bool = false) {
        self.filter = filter
        self.format = format
        self.stream = stream
        self.fields = fields
        self.timeField = timeField
        self.timeUnit = timeUnit
        self.valueType = valueType
        self.storeRetained = storeRetained
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.filter == b.filter && a.format == b.format && a.stream == b.stream && a.timeField == b.timeField && a.timeUnit == b.timeUnit
            && a.valueType == b.valueType && a.storeRetained == b.storeRetained && a.fields.count == b.fields.count
            && zip(a.fields, b.fields).allSatisfy { $0.path == $1.path && $0.stream == $1.stream }
    }

    /// One reading a message maps to.
    public struct Reading: Sendable, Equatable {
        public var stream: String
        public var t: Int64
        public var value: [UInt8]
    }

    /// The readings `payload` on `topic` maps to, all or none: a message whose mapping fails
    /// anywhere is rejected whole, with the reason.
    public func readings(topic: String, payload: [UInt8], arrival: Int64) throws(ReadingError) -> [Reading] {
        guard let captures = filter.match(topic) else { throw ReadingError("topic \(topic) does not match \(filter.text)") }
        return try readings(topic: topic, captures: captures, payload: payload, arrival: arrival)
    }

    /// As above, for a topic already matched against `filter` (`captures` from `match`).
    func readings(topic: String, captures: [String], payload: [UInt8], arrival: Int64) throws(ReadingError) -> [Reading] {
        var out: [Reading] = []
        switch format {
        case .value, .homeassistant:
            let value = try Self.scalar(payload, homeAssistant: format == .homeassistant)
            try check(value)
            out.append(Reading(stream: try stream!.render(topic: topic, captures: captures), t: arrival, value: value))
        case .json:
            let object: JSONValue
            do {
                object = try JSONValue.parse(payload)
            } catch {
                throw ReadingError("payload is not JSON: \(error.reason) (byte \(error.offset + 1))")
            }
            guard case .object = object else { throw ReadingError("payload is not a JSON object") }
            var t = arrival
            if let timeField {
                guard let tv = Self.lookup(object, timeField) else { throw ReadingError("time field \(timeField.joined(separator: ".")) is missing") }
                t = try time(tv)
            }
            for (path, template) in fields {
                guard let v = Self.lookup(object, path) else { continue }
                let field = path.joined(separator: ".")
                switch v {
                case .number, .bool, .string: break
                case .null: throw ReadingError("field \(field) is null")
                case .object, .array: throw ReadingError("field \(field) is not a number, boolean or string")
                }
                let value = v.serialized()
                try check(value, field: field)
                out.append(Reading(stream: try template.render(topic: topic, captures: captures, field: field), t: t, value: value))
            }
            guard !out.isEmpty else {
                throw ReadingError("none of the configured fields (\(fields.map { $0.path.joined(separator: ".") }.joined(separator: ", "))) is in the message")
            }
        case .senml:
            var batch = ReadingBatch()
            var errors: [LineError] = []
            do {
                try SenMLParser.parse(payload, into: &batch, errors: &errors, now: arrival)
            } catch {
                throw ReadingError("SenML record \(error.line): \(error.reason)")
            }
            for e in batch.entries {
                let value = Array(batch.value(of: e))
                try check(value)
                let name = batch.streams[Int(e.stream)]
                out.append(Reading(stream: try stream!.render(topic: topic, captures: captures, name: name), t: e.t, value: value))
            }
            guard !out.isEmpty else { throw ReadingError("SenML pack has no records with a value") }
        }
        for r in out {
            if let problem = StreamName.problem(with: r.stream) { throw ReadingError(problem) }
            guard r.t >= 0, r.t <= Timestamp.maxMilliseconds else { throw ReadingError("time \(r.t) is outside 1970…9999") }
            let length = ChunkFormat.lineLength(t: r.t, valueBytes: r.value.count)
            guard length <= ChunkFormat.maxPlaintextBytes else { throw ReadingError("reading is \(length) bytes, over the 64 KiB limit") }
        }
        return out
    }

    func check(_ value: [UInt8], field: String? = nil) throws(ReadingError) {
        let kind: ValueType
        switch value.first {
        case 0x22: kind = .string
        case 0x74, 0x66: kind = .boolean
        default: kind = .number
        }
        guard valueType == .any || valueType == kind else {
            throw ReadingError("\(field.map { "field \($0): " } ?? "")expected a \(valueType.rawValue), got a \(kind.rawValue)")
        }
    }

    func time(_ v: JSONValue) throws(ReadingError) -> Int64 {
        switch v {
        case .string(let s):
            guard let t = Timestamp.parseRFC3339(s) else { throw ReadingError("time \"\(s)\" is not RFC 3339 with a time zone") }
            return t
        case .number(let text):
            guard let d = Double(text), d.isFinite else { throw ReadingError("time \(text) is not a number") }
            let ms = timeUnit == .s ? d * 1000 : d
            guard ms >= 0, ms <= Double(Timestamp.maxMilliseconds) else { throw ReadingError("time \(text) is outside 1970…9999") }
            return Int64(ms.rounded())
        default:
            throw ReadingError("time field is not a string or a number")
        }
    }

    static func lookup(_ root: JSONValue, _ path: [String]) -> JSONValue? {
        var v = root
        for key in path {
            switch v {
            case .object(let o):
                guard let next = o[key] else { return nil }
                v = next
            case .array(let a):
                guard let i = Int(key), a.indices.contains(i) else { return nil }
                v = a[i]
            default:
                return nil
            }
        }
        return v
    }

    /// A single-value payload as the JSON text of the reading's value.
    static func scalar(_ payload: [UInt8], homeAssistant: Bool) throws(ReadingError) -> [UInt8] {
        var bytes = payload[...]
        while let c = bytes.first, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { bytes = bytes.dropFirst() }
        while let c = bytes.last, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { bytes = bytes.dropLast() }
        let trimmed = Array(bytes)
        guard let text = String(validating: trimmed, as: UTF8.self) else { throw ReadingError("payload is not UTF-8 text") }
        if homeAssistant {
            switch text.lowercased() {
            case "", "unavailable", "unknown", "none": throw ReadingError("state \"\(text)\" is not a reading")
            case "on": return Array("true".utf8)
            case "off": return Array("false".utf8)
            default: break
            }
        }
        guard !trimmed.isEmpty else { throw ReadingError("payload is empty") }
        if text == "true" || text == "false" { return trimmed }
        if let parsed = try? JSONValue.parse(trimmed) {
            switch parsed {
            case .number, .string: return trimmed
            case .bool: return trimmed
            case .null: throw ReadingError("payload is null")
            case .object, .array: throw ReadingError("payload is a JSON \(trimmed.first == 0x7B ? "object" : "array"); use format = \"json\" or \"senml\"")
            }
        }
        // Plain text: stored as a JSON string.
        var quoted: [UInt8] = []
        JSONText.appendQuoted(text, to: &quoted)
        return quoted
    }
}

/// An MQTT topic filter (MQTT 3.1.1 §4.7): levels separated by `/`, `+` one level, `#` the
/// rest (last level only).
public struct TopicFilter: Sendable, Equatable {
    public let text: String
    let levels: [Substring]
    public var wildcardCount: Int { levels.filter { $0 == "+" || $0 == "#" }.count }

    public init(_ text: String) throws(ConfigurationError) {
        guard !text.isEmpty, text.utf8.count <= 65535 else { throw ConfigurationError("topic filter must be 1…65535 bytes") }
        let levels = text.split(separator: "/", omittingEmptySubsequences: false)
        for (i, level) in levels.enumerated() {
            if level.contains("#") && (level != "#" || i != levels.count - 1) {
                throw ConfigurationError("topic filter \"\(text)\": '#' must be a whole level and the last one")
            }
            if level.contains("+") && level != "+" {
                throw ConfigurationError("topic filter \"\(text)\": '+' must be a whole level")
            }
        }
        self.text = text
        self.levels = levels
    }

    /// The levels the wildcards matched (a `#` match joined by `/`), or nil if `topic` does not
    /// match. Topics starting with `$` never match a filter starting with a wildcard.
    public func match(_ topic: String) -> [String]? {
        let t = topic.split(separator: "/", omittingEmptySubsequences: false)
        if topic.hasPrefix("$"), let first = levels.first, first == "+" || first == "#" { return nil }
        var captures: [String] = []
        for (i, level) in levels.enumerated() {
            if level == "#" {
                captures.append(t[min(i, t.count)...].joined(separator: "/"))
                return captures
            }
            guard i < t.count else { return nil }
            if level == "+" {
                captures.append(String(t[i]))
            } else if level != t[i] {
                return nil
            }
        }
        return t.count == levels.count ? captures : nil
    }
}

/// A stream name with placeholders: `{1}`…`{9}` the topic levels the filter's wildcards
/// matched, `{topic}` the whole topic, `{field}` the JSON field path, `{name}` the SenML name.
public struct StreamTemplate: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case literal(String)
        case capture(Int)
        case topic, field, name
    }

    public let text: String
    let parts: [Part]

    public init(_ text: String, wildcards: Int, allowed: Set<String>) throws(ConfigurationError) {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            literal += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { throw ConfigurationError("stream \"\(text)\": '{' without '}'") }
            let name = String(rest[rest.index(after: open)..<close])
            if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
            if let n = Int(name), n >= 1, n <= 9 {
                guard n <= wildcards else {
                    throw ConfigurationError("stream \"\(text)\": {\(n)} but the topic filter has \(wildcards) wildcard(s)")
                }
                parts.append(.capture(n - 1))
            } else if allowed.contains(name) {
                parts.append(name == "topic" ? .topic : name == "field" ? .field : .name)
            } else {
                throw ConfigurationError("stream \"\(text)\": unknown placeholder {\(name)} (here: {1}…{\(max(wildcards, 1))}, \(allowed.sorted().map { "{\($0)}" }.joined(separator: ", ")))")
            }
            rest = rest[rest.index(after: close)...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.literal(literal)) }
        if parts.allSatisfy({ if case .literal = $0 { return true } else { return false } }), let problem = StreamName.problem(with: text) {
            throw ConfigurationError(problem)
        }
        self.text = text
        self.parts = parts
    }

    func render(topic: String, captures: [String], field: String? = nil, name: String? = nil) throws(ReadingError) -> String {
        var out = ""
        for p in parts {
            switch p {
            case .literal(let s): out += s
            case .capture(let i): out += captures[i]
            case .topic: out += topic
            case .field: out += field ?? ""
            case .name: out += name ?? ""
            }
        }
        if let problem = StreamName.problem(with: out) { throw ReadingError(problem) }
        return out
    }
}
