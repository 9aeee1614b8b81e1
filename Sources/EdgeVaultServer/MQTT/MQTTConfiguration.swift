import EdgeVaultCore
import EdgeVaultStore
/// The `[mqtt]` section: which broker to subscribe to and how messages become readings.
/// MQTT is off unless `broker` is set.
public struct MQTTConfiguration: Sendable, Equatable {
    /// `mqtt://host[:port]` (1883) or `mqtts://host[:port]` (8883, TLS).
    public var broker: String?
    public var clientId = "edgevault"
    public var username: String?
    /// File holding the broker password (first line); kept out of the config file.
    public var passwordFile: String?
    /// PEM CA bundle to verify an `mqtts://` broker; the system's roots when unset.
    public var caFile: String?
    public var keepAliveSeconds = 60
    /// Longest wait between reconnection attempts (exponential backoff with jitter up to it).
    public var reconnectMaxSeconds = 60
    /// Larger payloads are counted as rejected and dropped without being buffered.
    public var maxPayloadBytes = 65_536
    public var subscriptions: [MQTTSubscription] = []

    public init() {}

    public var isEnabled: Bool { broker != nil }

    /// Host, port and TLS from `broker`.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var tls: Bool
    }

    public static func endpoint(_ url: String) -> Endpoint? {
        let tls: Bool
        let rest: Substring
        if url.hasPrefix("mqtt://") { tls = false; rest = url.dropFirst(7) }
        else if url.hasPrefix("mqtts://") { tls = true; rest = url.dropFirst(8) }
        else { return nil }
        let hostPort = rest.hasSuffix("/") ? rest.dropLast() : rest
        guard !hostPort.isEmpty, !hostPort.contains("/"), !hostPort.contains("@") else { return nil }
        if let address = ListenAddress(String(hostPort)) {
            return address.port == 0 ? nil : Endpoint(host: address.host, port: address.port, tls: tls)
        }
        // No port given.
        var host = String(hostPort)
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        else if host.contains(":") { return nil }
        return Endpoint(host: host, port: tls ? 8883 : 1883, tls: tls)
    }

    /// One `[[mqtt.subscription]]` table.
    static func subscription(_ table: [String: TOML.Value], index: Int) throws(ConfigurationError) -> MQTTSubscription {
        let at = "mqtt.subscription #\(index + 1)"
        func string(_ key: String) throws(ConfigurationError) -> String? {
            guard let v = table[key] else { return nil }
            guard case .string(let s) = v, !s.isEmpty else { throw ConfigurationError("\(at): \(key) must be a non-empty string") }
            return s
        }
        let known: Set<String> = ["topic", "format", "stream", "fields", "time_field", "time_unit", "value_type", "store_retained"]
        for key in table.keys.sorted() where !known.contains(key) {
            throw ConfigurationError("\(at): unknown setting \"\(key)\"")
        }
        guard let topic = try string("topic") else { throw ConfigurationError("\(at): topic is required") }
        let filter = try TopicFilter(topic)
        let formatText = try string("format") ?? "value"
        guard let format = MQTTSubscription.Format(rawValue: formatText) else {
            throw ConfigurationError("\(at): format must be one of \(MQTTSubscription.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let wildcards = filter.wildcardCount
        var sub = MQTTSubscription(filter: filter, format: format)
        do throws(ConfigurationError) {
            switch format {
            case .value, .homeassistant:
                guard let s = try string("stream") else { throw ConfigurationError("stream is required for format \(formatText)") }
                sub.stream = try StreamTemplate(s, wildcards: wildcards, allowed: ["topic"])
            case .senml:
                sub.stream = try StreamTemplate(try string("stream") ?? "{name}", wildcards: wildcards, allowed: ["topic", "name"])
            case .json:
                guard case .table(let fields)? = table["fields"], !fields.isEmpty else {
                    throw ConfigurationError("format json needs a [mqtt.subscription.fields] table: value path = stream")
                }
                for (path, v) in fields.sorted(by: { $0.key < $1.key }) {
                    guard case .string(let s) = v else { throw ConfigurationError("fields.\(path) must be a stream name") }
                    let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    guard !parts.contains("") else { throw ConfigurationError("field path \"\(path)\" has an empty part") }
                    sub.fields.append((parts, try StreamTemplate(s, wildcards: wildcards, allowed: ["topic", "field"])))
                }
            }
            if format != .json, table["fields"] != nil { throw ConfigurationError("fields is only for format json") }
            if format != .json && format != .senml, table["stream"] == nil { throw ConfigurationError("stream is required") }
            if format == .json, table["stream"] != nil { throw ConfigurationError("format json takes its streams from fields, not stream") }
            if let tf = try string("time_field") {
                guard format == .json else { throw ConfigurationError("time_field is only for format json") }
                sub.timeField = tf.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            }
            if let tu = try string("time_unit") {
                guard let unit = MQTTSubscription.TimeUnit(rawValue: tu) else { throw ConfigurationError("time_unit must be ms or s") }
                sub.timeUnit = unit
            }
            if let vt = try string("value_type") {
                guard let t = MQTTSubscription.ValueType(rawValue: vt) else {
                    throw ConfigurationError("value_type must be one of \(MQTTSubscription.ValueType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sub.valueType = t
            }
            if let r = table["store_retained"] {
                guard case .boolean(let b) = r else { throw ConfigurationError("store_retained must be true or false") }
                sub.storeRetained = b
            }
        } catch {
            throw ConfigurationError("\(at) (\(topic)): \(error.message)")
        }
        return sub
    }
}
