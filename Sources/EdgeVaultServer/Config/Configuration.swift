import EdgeVaultCore
import EdgeVaultStore
/// Settings of `vaultd` and `vault-cli`, from (lowest to highest precedence) built-in
/// defaults, the TOML file, `EDGEVAULT_*` environment variables and command-line flags.
///
/// Every key is documented in `deploy/vaultd.toml`.
public struct Configuration: Sendable, Equatable {
    public static let defaultPath = "/etc/edgevault/vaultd.toml"

    /// Where the database and the log key live.
    public var dataDir = "/var/lib/edgevault"
    /// The admin API's Unix socket (sensors and the person's CLI).
    public var adminSocket = "/run/edgevault/admin.sock"
    /// The public API's TCP address (`host:port`, `[v6]:port`); port 0 picks a free port.
    public var listen = "127.0.0.1:8080"
    /// A separate address serving only `GET /metrics` (loopback only; nil: metrics are served
    /// on the admin socket alone, never on the public listener).
    public var metricsListen: String?
    /// Public listener limits (slowloris): seconds a connection may take to send a complete
    /// request head, connections one client address may hold, connections in all.
    public var headerTimeoutSeconds = 10
    public var maxConnectionsPerAddress = 16
    public var maxConnections = 256
    /// PEM certificate chain and private key for TLS on the public listener (both or neither).
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    /// logfmt or json.
    public var logFormat = "logfmt"
    /// SwiftNIO event-loop threads; 1 suits a Raspberry Pi.
    public var eventLoopThreads = 1
    /// Create a stream the first time a reading names it.
    public var autoCreateStreams = true
    /// Bucket length of automatically created streams.
    public var defaultBucketSeconds: Int64 = 3600
    /// How long after its bucket ends a segment stays open for late readings.
    public var segmentGraceSeconds: Int64 = 300
    /// Largest admin-API ingest body.
    public var maxIngestBodyBytes = 32 * 1024 * 1024
    /// How often streams' retention is applied.
    public var retentionSweepSeconds = 60

    /// Accept requests from organizations the person has not added (trust on first use).
    public var allowUnknownOrgs = true
    /// Pending requests kept per organization and in total.
    public var maxPendingPerOrg = 20
    public var maxPendingTotal = 200
    /// Signed calls per organization per minute.
    public var requestsPerMinute = 1200

    /// MQTT ingest from a local broker (off unless `mqtt.broker` is set).
    public var mqtt = MQTTConfiguration()

    public init() {}

    /// One setting: its TOML key, environment variable and how to apply a value.
    struct Setting: Sendable {
        let key: String
        let env: String?
        let apply: @Sendable (inout Configuration, TOML.Value) throws(ConfigurationError) -> Void
    }

    static func string(_ kp: WritableKeyPath<Configuration, String> & Sendable, _ key: String, allowed: [String]? = nil) -> @Sendable (inout Configuration, TOML.Value) throws(ConfigurationError) -> Void {
        return { (c, v) throws(ConfigurationError) in
            guard case .string(let s) = v, !s.isEmpty else { throw ConfigurationError("\(key) must be a non-empty string") }
            if let allowed, !allowed.contains(s) { throw ConfigurationError("\(key) must be one of \(allowed.joined(separator: ", ")), not \"\(s)\"") }
            c[keyPath: kp] = s
        }
    }

    static func integer<I: FixedWidthInteger & SendableMetatype>(_ kp: WritableKeyPath<Configuration, I> & Sendable, _ key: String, _ range: ClosedRange<Int64>) -> @Sendable (inout Configuration, TOML.Value) throws(ConfigurationError) -> Void {
        return { (c, v) throws(ConfigurationError) in
            guard case .integer(let n) = v, range.contains(n) else {
                throw ConfigurationError("\(key) must be an integer in \(range.lowerBound)…\(range.upperBound)")
            }
            c[keyPath: kp] = I(n)
        }
    }

    /// A file path, made absolute.
    static func path(_ kp: WritableKeyPath<Configuration, String?> & Sendable, _ key: String) -> @Sendable (inout Configuration, TOML.Value) throws(ConfigurationError) -> Void {
        return { (c, v) throws(ConfigurationError) in
            guard case .string(let s) = v, !s.isEmpty else { throw ConfigurationError("\(key) must be a file path") }
            c[keyPath: kp] = FileIO.absolute(s)
        }
    }

    static func boolean(_ kp: WritableKeyPath<Configuration, Bool> & Sendable, _ key: String) -> @Sendable (inout Configuration, TOML.Value) throws(ConfigurationError) -> Void {
        return { (c, v) throws(ConfigurationError) in
            guard case .boolean(let b) = v else { throw ConfigurationError("\(key) must be true or false") }
            c[keyPath: kp] = b
        }
    }

    static let settings: [Setting] = [
        Setting(key: "data_dir", env: "EDGEVAULT_DATA_DIR", apply: string(\.dataDir, "data_dir")),
        Setting(key: "admin_socket", env: "EDGEVAULT_ADMIN_SOCKET", apply: string(\.adminSocket, "admin_socket")),
        Setting(key: "listen", env: "EDGEVAULT_LISTEN", apply: { (c, v) throws(ConfigurationError) in
            guard case .string(let s) = v, ListenAddress(s) != nil else {
                throw ConfigurationError("listen must be host:port (for example 127.0.0.1:8080 or [::]:8443)")
            }
            c.listen = s
        }),
        Setting(key: "metrics_listen", env: "EDGEVAULT_METRICS_LISTEN", apply: { (c, v) throws(ConfigurationError) in
            guard case .string(let s) = v, let address = ListenAddress(s) else {
                throw ConfigurationError("metrics_listen must be host:port on loopback (for example 127.0.0.1:9464 or [::1]:9464)")
            }
            guard address.isLoopback else {
                throw ConfigurationError("metrics_listen must be a loopback address (127.0.0.1:PORT or [::1]:PORT), not \"\(s)\": metrics show the person's activity")
            }
            c.metricsListen = s
        }),
        Setting(key: "public.header_timeout_seconds", env: "EDGEVAULT_HEADER_TIMEOUT_SECONDS",
                apply: integer(\.headerTimeoutSeconds, "public.header_timeout_seconds", 1...300)),
        Setting(key: "public.max_connections_per_address", env: "EDGEVAULT_MAX_CONNECTIONS_PER_ADDRESS",
                apply: integer(\.maxConnectionsPerAddress, "public.max_connections_per_address", 1...65_536)),
        Setting(key: "public.max_connections", env: "EDGEVAULT_MAX_CONNECTIONS",
                apply: integer(\.maxConnections, "public.max_connections", 1...65_536)),
        Setting(key: "tls_certificate", env: "EDGEVAULT_TLS_CERTIFICATE", apply: path(\.tlsCertificate, "tls_certificate")),
        Setting(key: "tls_key", env: "EDGEVAULT_TLS_KEY", apply: path(\.tlsKey, "tls_key")),
        Setting(key: "log_level", env: "EDGEVAULT_LOG_LEVEL",
                apply: string(\.logLevel, "log_level", allowed: ["trace", "debug", "info", "notice", "warning", "error", "critical"])),
        Setting(key: "log_format", env: "EDGEVAULT_LOG_FORMAT", apply: string(\.logFormat, "log_format", allowed: ["logfmt", "json"])),
        Setting(key: "event_loop_threads", env: "EDGEVAULT_EVENT_LOOP_THREADS", apply: integer(\.eventLoopThreads, "event_loop_threads", 1...64)),
        Setting(key: "ingest.auto_create_streams", env: "EDGEVAULT_AUTO_CREATE_STREAMS", apply: boolean(\.autoCreateStreams, "ingest.auto_create_streams")),
        Setting(key: "ingest.default_bucket_seconds", env: "EDGEVAULT_DEFAULT_BUCKET_SECONDS",
                apply: integer(\.defaultBucketSeconds, "ingest.default_bucket_seconds", 1...31_622_400)),
        Setting(key: "ingest.segment_grace_seconds", env: "EDGEVAULT_SEGMENT_GRACE_SECONDS",
                apply: integer(\.segmentGraceSeconds, "ingest.segment_grace_seconds", 0...86_400)),
        Setting(key: "ingest.max_body_bytes", env: "EDGEVAULT_MAX_INGEST_BODY_BYTES",
                apply: integer(\.maxIngestBodyBytes, "ingest.max_body_bytes", 65_536...1_073_741_824)),
        Setting(key: "ingest.retention_sweep_seconds", env: "EDGEVAULT_RETENTION_SWEEP_SECONDS",
                apply: integer(\.retentionSweepSeconds, "ingest.retention_sweep_seconds", 1...86_400)),
        Setting(key: "requests.allow_unknown_orgs", env: "EDGEVAULT_ALLOW_UNKNOWN_ORGS", apply: boolean(\.allowUnknownOrgs, "requests.allow_unknown_orgs")),
        Setting(key: "requests.max_pending_per_org", env: "EDGEVAULT_MAX_PENDING_PER_ORG", apply: integer(\.maxPendingPerOrg, "requests.max_pending_per_org", 1...10_000)),
        Setting(key: "requests.max_pending_total", env: "EDGEVAULT_MAX_PENDING_TOTAL", apply: integer(\.maxPendingTotal, "requests.max_pending_total", 1...100_000)),
        Setting(key: "requests.per_minute", env: "EDGEVAULT_REQUESTS_PER_MINUTE", apply: integer(\.requestsPerMinute, "requests.per_minute", 1...1_000_000)),
        Setting(key: "mqtt.broker", env: "EDGEVAULT_MQTT_BROKER", apply: { (c, v) throws(ConfigurationError) in
            guard case .string(let s) = v, MQTTConfiguration.endpoint(s) != nil else {
                throw ConfigurationError("mqtt.broker must be mqtt://host[:port] or mqtts://host[:port]")
            }
            c.mqtt.broker = s
        }),
        Setting(key: "mqtt.client_id", env: "EDGEVAULT_MQTT_CLIENT_ID", apply: { (c, v) throws(ConfigurationError) in
            guard case .string(let s) = v, !s.isEmpty, s.utf8.count <= 65535 else { throw ConfigurationError("mqtt.client_id must be a non-empty string") }
            c.mqtt.clientId = s
        }),
        Setting(key: "mqtt.username", env: "EDGEVAULT_MQTT_USERNAME", apply: { (c, v) throws(ConfigurationError) in
            guard case .string(let s) = v, !s.isEmpty else { throw ConfigurationError("mqtt.username must be a non-empty string") }
            c.mqtt.username = s
        }),
        Setting(key: "mqtt.password_file", env: "EDGEVAULT_MQTT_PASSWORD_FILE", apply: path(\.mqtt.passwordFile, "mqtt.password_file")),
        Setting(key: "mqtt.ca_file", env: "EDGEVAULT_MQTT_CA_FILE", apply: path(\.mqtt.caFile, "mqtt.ca_file")),
        Setting(key: "mqtt.keep_alive_seconds", env: "EDGEVAULT_MQTT_KEEP_ALIVE_SECONDS",
                apply: integer(\.mqtt.keepAliveSeconds, "mqtt.keep_alive_seconds", 5...3600)),
        Setting(key: "mqtt.reconnect_max_seconds", env: "EDGEVAULT_MQTT_RECONNECT_MAX_SECONDS",
                apply: integer(\.mqtt.reconnectMaxSeconds, "mqtt.reconnect_max_seconds", 1...3600)),
        Setting(key: "mqtt.max_payload_bytes", env: "EDGEVAULT_MQTT_MAX_PAYLOAD_BYTES",
                apply: integer(\.mqtt.maxPayloadBytes, "mqtt.max_payload_bytes", 16...1_048_576)),
        Setting(key: "mqtt.subscription", env: nil, apply: { (c, v) throws(ConfigurationError) in
            guard case .array(let items) = v else { throw ConfigurationError("mqtt.subscription must be [[mqtt.subscription]] tables") }
            guard items.count <= 256 else { throw ConfigurationError("at most 256 [[mqtt.subscription]] tables") }
            c.mqtt.subscriptions = []
            for (i, item) in items.enumerated() {
                guard case .table(let t) = item else { throw ConfigurationError("mqtt.subscription must be [[mqtt.subscription]] tables") }
                c.mqtt.subscriptions.append(try MQTTConfiguration.subscription(t, index: i))
            }
        }),
    ]

    /// Applies a parsed TOML document; unknown keys are errors (a typo must not be ignored).
    public mutating func apply(toml root: [String: TOML.Value]) throws(ConfigurationError) {
        var flat: [String: TOML.Value] = [:]
        func flatten(_ t: [String: TOML.Value], _ prefix: String) {
            for (k, v) in t {
                if case .table(let sub) = v { flatten(sub, prefix + k + ".") } else { flat[prefix + k] = v }
            }
        }
        flatten(root, "")
        for (key, value) in flat.sorted(by: { $0.key < $1.key }) {
            guard let s = Self.settings.first(where: { $0.key == key }) else {
                throw ConfigurationError("unknown setting \"\(key)\"")
            }
            try s.apply(&self, value)
        }
    }

    /// Applies `EDGEVAULT_*` variables.
    public mutating func apply(environment: [String: String]) throws(ConfigurationError) {
        for s in Self.settings {
            guard let name = s.env, let text = environment[name] else { continue }
            let value: TOML.Value
            if let n = Int64(text) { value = .integer(n) }
            else if text == "true" || text == "false" { value = .boolean(text == "true") }
            else { value = .string(text) }
            do {
                try s.apply(&self, value)
            } catch {
                throw ConfigurationError("\(name): \(error.message)")
            }
        }
    }

    /// Every environment variable a setting can come from (plus `EDGEVAULT_CONFIG`), read from
    /// this process's environment.
    public static func processEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        for name in settings.compactMap(\.env) + ["EDGEVAULT_CONFIG", "EDGEVAULT_USER_KEY"] {
            if let v = FileIO.environment(name) { env[name] = v }
        }
        return env
    }

    /// Applies command-line flags (highest precedence); paths are made absolute.
    public mutating func apply(dataDir: String?, adminSocket: String?, listen: String? = nil) throws(ConfigurationError) {
        if let dataDir { self.dataDir = FileIO.absolute(dataDir) }
        if let adminSocket { self.adminSocket = FileIO.absolute(adminSocket) }
        if let listen {
            guard ListenAddress(listen) != nil else { throw ConfigurationError("--listen must be host:port, not \"\(listen)\"") }
            self.listen = listen
        }
    }

    /// Loads defaults, then the file (required only when `explicitPath` is given), then the environment.
    public static func load(path explicitPath: String?, environment: [String: String]) throws(ConfigurationError) -> Configuration {
        var c = Configuration()
        let path = explicitPath ?? environment["EDGEVAULT_CONFIG"] ?? defaultPath
        let required = explicitPath != nil || environment["EDGEVAULT_CONFIG"] != nil
        if FileIO.exists(path) {
            let bytes: [UInt8]
            do {
                bytes = try FileIO.read(path, limit: TOML.maxBytes)
            } catch {
                throw ConfigurationError("cannot read config \(path): \(error)")
            }
            do {
                try c.apply(toml: try TOML.parse(String(decoding: bytes, as: UTF8.self)))
            } catch let e as TOML.ParseError {
                throw ConfigurationError("config \(path): \(e)")
            } catch let e as ConfigurationError {
                throw ConfigurationError("config \(path): \(e.message)")
            } catch {
                throw ConfigurationError("config \(path): \(error)")
            }
        } else if required {
            throw ConfigurationError("config file \(path) does not exist")
        }
        try c.apply(environment: environment)
        try c.validate()
        return c
    }

    /// Checks settings that depend on each other.
    public func validate() throws(ConfigurationError) {
        if maxConnectionsPerAddress > maxConnections {
            throw ConfigurationError("public.max_connections_per_address (\(maxConnectionsPerAddress)) must not exceed public.max_connections (\(maxConnections))")
        }
        if mqtt.isEnabled && mqtt.subscriptions.isEmpty {
            throw ConfigurationError("mqtt.broker is set but there is no [[mqtt.subscription]]")
        }
        if !mqtt.isEnabled && !mqtt.subscriptions.isEmpty {
            throw ConfigurationError("[[mqtt.subscription]] tables need mqtt.broker")
        }
        if mqtt.caFile != nil, let b = mqtt.broker, MQTTConfiguration.endpoint(b)?.tls != true {
            throw ConfigurationError("mqtt.ca_file is set but mqtt.broker is not mqtts://")
        }
        if mqtt.passwordFile != nil && mqtt.username == nil {
            throw ConfigurationError("mqtt.password_file needs mqtt.username")
        }
    }
}

public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

