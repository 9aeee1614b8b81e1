import EdgeVaultCore
import EdgeVaultStore
/// Settings of `vaultd` and `vault-cli`, from (lowest to highest precedence) built-in
/// defaults, the TOML file, `EDGEVAULT_*` environment variables and command-line flags.
/// One table (`settings`) declares each setting's key, variable, flag and type for all three.
/// A relative path is relative to the config file's directory when it comes from the file,
/// to the current directory when it comes from the environment or a flag.
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

    /// A cgroup v2 directory delegated to vaultd: each compute run gets a sub-cgroup there with
    /// `memory.max` (docs/SECURITY.md §"The compute sandbox"). None: runs are bounded by
    /// their Wasm memory limit and the service's own `MemoryMax`.
    public var computeCgroup: String?

    /// MQTT ingest from a local broker (off unless `mqtt.broker` is set).
    public var mqtt = MQTTConfiguration()

    /// Outside witnesses and the quorum setting (`[[witness]]`, `[quorum]`).
    public var witnessing = WitnessConfiguration()

    /// The shares kept for peers (`[fragments]`).
    public var shareLimits = ShareLimits()
    /// How often the sets this vault placed are audited (0: only `vault-cli fragments audit`).
    public var fragmentAuditSeconds = 86_400
    /// The scheduled push (`fragments.push_interval_seconds`, `k`, `n`; off by default).
    public var fragmentPush = FragmentPushSchedule()

    public init() {}

    /// One setting: its TOML key, environment variable and command-line flag, the type of value
    /// it takes, and how a value of that type is checked and stored. The same table serves the
    /// file, the environment and the flags: each source turns its text into the declared type
    /// (a string setting takes `EDGEVAULT_MQTT_USERNAME=1000` as the string "1000"), then the
    /// setting checks it.
    struct Setting: Sendable {
        /// The type of value a setting takes.
        enum Kind: Sendable {
            /// Non-empty text.
            case string
            /// A file or directory path, made absolute where it is read (`Source`).
            case path
            /// An integer within a range.
            case integer(ClosedRange<Int64>)
            /// `true` or `false`.
            case boolean
            /// An array of tables (TOML only).
            case tables
        }

        let key: String
        let env: String?
        let flag: String?
        let kind: Kind
        let set: @Sendable (inout Configuration, Value) throws(ConfigurationError) -> Void

        /// What the key's value must be, for error messages.
        var expected: String {
            switch kind {
            case .string: return "\(key) must be a non-empty string"
            case .path: return "\(key) must be a file path"
            case .integer(let r): return "\(key) must be an integer in \(r.lowerBound)…\(r.upperBound)"
            case .boolean: return "\(key) must be true or false"
            case .tables: return "\(key) must be [[\(key)]] tables"
            }
        }
    }

    /// A setting's value, of the setting's declared type (a path already made absolute).
    enum Value: Sendable {
        case string(String)
        case integer(Int64)
        case boolean(Bool)
        case tables([[String: TOML.Value]])
    }

    /// Where a value comes from: it decides how a relative path is resolved and how an error
    /// names the setting.
    enum Source {
        /// The config file, in `directory`: relative paths are relative to that directory.
        case file(directory: String)
        /// An `EDGEVAULT_*` variable: relative paths are relative to the current directory.
        case environment(String)
        /// A command-line flag: relative paths are relative to the current directory.
        case flag(String)

        func resolve(_ path: String) -> String {
            if case .file(let directory) = self, !path.hasPrefix("/") { return FileIO.absolute(directory + "/" + path) }
            return FileIO.absolute(path)
        }
    }

    /// `text` (from the environment or a flag) as a value of `setting`'s type.
    static func value(_ setting: Setting, text: String, source: Source) throws(ConfigurationError) -> Value {
        switch setting.kind {
        case .string:
            guard !text.isEmpty else { throw ConfigurationError(setting.expected) }
            return .string(text)
        case .path:
            guard !text.isEmpty else { throw ConfigurationError(setting.expected) }
            return .string(source.resolve(text))
        case .integer:
            guard let n = Int64(text) else { throw ConfigurationError("\(setting.expected), not \"\(text)\"") }
            return .integer(n)
        case .boolean:
            guard text == "true" || text == "false" else { throw ConfigurationError("\(setting.expected), not \"\(text)\"") }
            return .boolean(text == "true")
        case .tables:
            throw ConfigurationError("\(setting.key) can only be set in the config file")
        }
    }

    /// A TOML value as a value of `setting`'s type.
    static func value(_ setting: Setting, toml: TOML.Value, source: Source) throws(ConfigurationError) -> Value {
        switch (setting.kind, toml) {
        case (.string, .string(let s)) where !s.isEmpty: return .string(s)
        case (.path, .string(let s)) where !s.isEmpty: return .string(source.resolve(s))
        case (.integer, .integer(let n)): return .integer(n)
        case (.boolean, .boolean(let b)): return .boolean(b)
        case (.tables, .array(let items)):
            var tables: [[String: TOML.Value]] = []
            for item in items {
                guard case .table(let t) = item else { throw ConfigurationError(setting.expected) }
                tables.append(t)
            }
            return .tables(tables)
        default: throw ConfigurationError(setting.expected)
        }
    }

    // MARK: The settings

    /// A text setting; `check` returns why a value is refused, or nil.
    static func string(_ key: String, env: String?, flag: String? = nil, allowed: [String]? = nil,
                       check: @escaping @Sendable (String) -> String? = { _ in nil },
                       _ store: @escaping @Sendable (inout Configuration, String) -> Void) -> Setting {
        Setting(key: key, env: env, flag: flag, kind: .string) { (c, v) throws(ConfigurationError) in
            guard case .string(let s) = v else { throw ConfigurationError("\(key) must be a non-empty string") }
            if let allowed, !allowed.contains(s) { throw ConfigurationError("\(key) must be one of \(allowed.joined(separator: ", ")), not \"\(s)\"") }
            if let problem = check(s) { throw ConfigurationError(problem) }
            store(&c, s)
        }
    }

    /// A path setting (made absolute by its source).
    static func path(_ key: String, env: String?, flag: String? = nil, _ store: @escaping @Sendable (inout Configuration, String) -> Void) -> Setting {
        Setting(key: key, env: env, flag: flag, kind: .path) { (c, v) throws(ConfigurationError) in
            guard case .string(let s) = v else { throw ConfigurationError("\(key) must be a file path") }
            store(&c, s)
        }
    }

    static func integer<I: FixedWidthInteger & SendableMetatype>(_ key: String, env: String?, _ range: ClosedRange<Int64>,
                                                                 _ kp: WritableKeyPath<Configuration, I> & Sendable) -> Setting {
        Setting(key: key, env: env, flag: nil, kind: .integer(range)) { (c, v) throws(ConfigurationError) in
            guard case .integer(let n) = v, range.contains(n) else {
                throw ConfigurationError("\(key) must be an integer in \(range.lowerBound)…\(range.upperBound)")
            }
            c[keyPath: kp] = I(n)
        }
    }

    static func boolean(_ key: String, env: String?, _ kp: WritableKeyPath<Configuration, Bool> & Sendable) -> Setting {
        Setting(key: key, env: env, flag: nil, kind: .boolean) { (c, v) throws(ConfigurationError) in
            guard case .boolean(let b) = v else { throw ConfigurationError("\(key) must be true or false") }
            c[keyPath: kp] = b
        }
    }

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    static let settings: [Setting] = coreSettings + witnessSettings + fragmentSettings

    static let coreSettings: [Setting] = [
        path("data_dir", env: "EDGEVAULT_DATA_DIR", flag: "--data-dir") { $0.dataDir = $1 },
        path("admin_socket", env: "EDGEVAULT_ADMIN_SOCKET", flag: "--admin-socket") { $0.adminSocket = $1 },
        string("listen", env: "EDGEVAULT_LISTEN", flag: "--listen", check: {
            ListenAddress($0) == nil ? "listen must be host:port (for example 127.0.0.1:8080 or [::]:8443), not \"\($0)\"" : nil
        }) { $0.listen = $1 },
        string("metrics_listen", env: "EDGEVAULT_METRICS_LISTEN", check: {
            guard let address = ListenAddress($0) else {
                return "metrics_listen must be host:port on loopback (for example 127.0.0.1:9464 or [::1]:9464)"
            }
            guard address.isLoopback else {
                return "metrics_listen must be a loopback address (127.0.0.1:PORT or [::1]:PORT), not \"\($0)\": metrics show the person's activity"
            }
            return nil
        }) { $0.metricsListen = $1 },
        integer("public.header_timeout_seconds", env: "EDGEVAULT_HEADER_TIMEOUT_SECONDS", 1...300, \.headerTimeoutSeconds),
        integer("public.max_connections_per_address", env: "EDGEVAULT_MAX_CONNECTIONS_PER_ADDRESS", 1...65_536, \.maxConnectionsPerAddress),
        integer("public.max_connections", env: "EDGEVAULT_MAX_CONNECTIONS", 1...65_536, \.maxConnections),
        path("tls_certificate", env: "EDGEVAULT_TLS_CERTIFICATE") { $0.tlsCertificate = $1 },
        path("tls_key", env: "EDGEVAULT_TLS_KEY") { $0.tlsKey = $1 },
        string("log_level", env: "EDGEVAULT_LOG_LEVEL", flag: "--log-level", allowed: logLevels) { $0.logLevel = $1 },
        string("log_format", env: "EDGEVAULT_LOG_FORMAT", flag: "--log-format", allowed: ["logfmt", "json"]) { $0.logFormat = $1 },
        integer("event_loop_threads", env: "EDGEVAULT_EVENT_LOOP_THREADS", 1...64, \.eventLoopThreads),
        boolean("ingest.auto_create_streams", env: "EDGEVAULT_AUTO_CREATE_STREAMS", \.autoCreateStreams),
        integer("ingest.default_bucket_seconds", env: "EDGEVAULT_DEFAULT_BUCKET_SECONDS", 1...31_622_400, \.defaultBucketSeconds),
        integer("ingest.segment_grace_seconds", env: "EDGEVAULT_SEGMENT_GRACE_SECONDS", 0...86_400, \.segmentGraceSeconds),
        integer("ingest.max_body_bytes", env: "EDGEVAULT_MAX_INGEST_BODY_BYTES", 65_536...1_073_741_824, \.maxIngestBodyBytes),
        integer("ingest.retention_sweep_seconds", env: "EDGEVAULT_RETENTION_SWEEP_SECONDS", 1...86_400, \.retentionSweepSeconds),
        boolean("requests.allow_unknown_orgs", env: "EDGEVAULT_ALLOW_UNKNOWN_ORGS", \.allowUnknownOrgs),
        path("compute.cgroup", env: "EDGEVAULT_COMPUTE_CGROUP") { $0.computeCgroup = $1 },
        integer("requests.max_pending_per_org", env: "EDGEVAULT_MAX_PENDING_PER_ORG", 1...10_000, \.maxPendingPerOrg),
        integer("requests.max_pending_total", env: "EDGEVAULT_MAX_PENDING_TOTAL", 1...100_000, \.maxPendingTotal),
        integer("requests.per_minute", env: "EDGEVAULT_REQUESTS_PER_MINUTE", 1...1_000_000, \.requestsPerMinute),
        string("mqtt.broker", env: "EDGEVAULT_MQTT_BROKER", check: {
            MQTTConfiguration.endpoint($0) == nil ? "mqtt.broker must be mqtt://host[:port] or mqtts://host[:port]" : nil
        }) { $0.mqtt.broker = $1 },
        string("mqtt.client_id", env: "EDGEVAULT_MQTT_CLIENT_ID", check: {
            $0.utf8.count > 65535 ? "mqtt.client_id must be at most 65535 bytes" : nil
        }) { $0.mqtt.clientId = $1 },
        string("mqtt.username", env: "EDGEVAULT_MQTT_USERNAME") { $0.mqtt.username = $1 },
        path("mqtt.password_file", env: "EDGEVAULT_MQTT_PASSWORD_FILE") { $0.mqtt.passwordFile = $1 },
        path("mqtt.ca_file", env: "EDGEVAULT_MQTT_CA_FILE") { $0.mqtt.caFile = $1 },
        integer("mqtt.keep_alive_seconds", env: "EDGEVAULT_MQTT_KEEP_ALIVE_SECONDS", 5...3600, \.mqtt.keepAliveSeconds),
        integer("mqtt.reconnect_max_seconds", env: "EDGEVAULT_MQTT_RECONNECT_MAX_SECONDS", 1...3600, \.mqtt.reconnectMaxSeconds),
        integer("mqtt.max_payload_bytes", env: "EDGEVAULT_MQTT_MAX_PAYLOAD_BYTES", 16...1_048_576, \.mqtt.maxPayloadBytes),
        Setting(key: "mqtt.subscription", env: nil, flag: nil, kind: .tables) { (c, v) throws(ConfigurationError) in
            guard case .tables(let tables) = v else { throw ConfigurationError("mqtt.subscription must be [[mqtt.subscription]] tables") }
            guard tables.count <= 256 else { throw ConfigurationError("at most 256 [[mqtt.subscription]] tables") }
            c.mqtt.subscriptions = []
            for (i, t) in tables.enumerated() {
                c.mqtt.subscriptions.append(try MQTTConfiguration.subscription(t, index: i))
            }
        },
    ]

    /// Applies a parsed TOML document; unknown keys are errors (a typo must not be ignored).
    /// Relative paths in it are relative to `directory`, the config file's directory (the
    /// current directory when nil).
    public mutating func apply(toml root: [String: TOML.Value], relativeTo directory: String? = nil) throws(ConfigurationError) {
        var flat: [String: TOML.Value] = [:]
        func flatten(_ t: [String: TOML.Value], _ prefix: String) {
            for (k, v) in t {
                if case .table(let sub) = v { flatten(sub, prefix + k + ".") } else { flat[prefix + k] = v }
            }
        }
        flatten(root, "")
        let source = Source.file(directory: FileIO.absolute(directory ?? "."))
        for (key, value) in flat.sorted(by: { $0.key < $1.key }) {
            guard let s = Self.settings.first(where: { $0.key == key }) else {
                throw ConfigurationError("unknown setting \"\(key)\"")
            }
            try s.set(&self, try Self.value(s, toml: value, source: source))
        }
    }

    /// Applies `EDGEVAULT_*` variables, each read as its setting's type; relative paths are
    /// relative to the current directory. An error names the variable.
    public mutating func apply(environment: [String: String]) throws(ConfigurationError) {
        for s in Self.settings {
            guard let name = s.env, let text = environment[name] else { continue }
            do {
                try s.set(&self, try Self.value(s, text: text, source: .environment(name)))
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

    /// Applies command-line flags (highest precedence), each as its setting's type; relative
    /// paths are relative to the current directory. An error names the flag.
    public mutating func apply(dataDir: String?, adminSocket: String?, listen: String? = nil,
                               logLevel: String? = nil, logFormat: String? = nil) throws(ConfigurationError) {
        let given: [(flag: String, text: String?)] = [
            ("--data-dir", dataDir), ("--admin-socket", adminSocket), ("--listen", listen),
            ("--log-level", logLevel), ("--log-format", logFormat),
        ]
        for (flag, text) in given {
            guard let text else { continue }
            guard let s = Self.settings.first(where: { $0.flag == flag }) else { preconditionFailure("no setting has the flag \(flag)") }
            do {
                try s.set(&self, try Self.value(s, text: text, source: .flag(flag)))
            } catch {
                throw ConfigurationError("\(flag): \(error.message)")
            }
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
                try c.apply(toml: try TOML.parse(String(decoding: bytes, as: UTF8.self)),
                            relativeTo: FileIO.parentDirectory(FileIO.absolute(path)))
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
        if fragmentPush.k >= fragmentPush.n {
            throw ConfigurationError("fragments.k (\(fragmentPush.k)) must be less than fragments.n (\(fragmentPush.n))")
        }
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

