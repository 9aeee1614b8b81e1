import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// The whole daemon: the admin API on the Unix socket, the public API on TCP, and the
/// services behind them (segment manager, checkpoint signer), stopped together.
public struct EdgeVaultDaemon: Service {
    let services: [any Service]
    let logger: Logger
    /// Held for the daemon's life: no second daemon on the same data directory.
    let lock: DataDirectoryLock

    public func run() async throws {
        defer { withExtendedLifetime(lock) {} }
        try await ServiceGroup(configuration: .init(services: services, logger: logger)).run()
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func runService() async throws {
        try await ServiceGroup(configuration: .init(services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}

/// Builds the whole daemon from its configuration: logger, store, services, routers and
/// listeners. `vaultd` and the tests call this same function.
public func buildApplication(configuration: Configuration, logger: Logger? = nil) async throws -> EdgeVaultDaemon {
    var logger = logger ?? Logger(label: "vaultd")
    logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    guard FileIO.isDirectory(configuration.dataDir) else {
        throw VaultError(.vaultMissing, "no vault in \(configuration.dataDir) (run `vault-cli init --data-dir \(configuration.dataDir)` first)")
    }
    // Before the database is opened: a second daemon on this directory stops here, having
    // touched nothing (segments, socket, log key).
    let lock = try DataDirectoryLock.acquire(dataDir: configuration.dataDir)
    let store = try VaultStore.open(dataDir: configuration.dataDir)
    let ledger = try await LedgerService(store: store, dataDir: configuration.dataDir, logger: logger)
    let manager = try await SegmentManager(
        store: store,
        settings: .init(autoCreateStreams: configuration.autoCreateStreams, defaultBucketSeconds: configuration.defaultBucketSeconds,
                        graceMilliseconds: configuration.segmentGraceSeconds * 1000),
        logger: logger)
    try AdminSocket.prepare(path: configuration.adminSocket)
    guard let listen = ListenAddress(configuration.listen) else { throw VaultError(.config, "invalid listen address \(configuration.listen)") }
    let metricsListen = try configuration.metricsListen.map { text -> ListenAddress in
        guard let a = ListenAddress(text), a.isLoopback else { throw VaultError(.config, "metrics_listen must be a loopback host:port, not \(text)") }
        return a
    }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
    let notifier = RequestNotifier()
    let readiness = Readiness(expected: metricsListen == nil ? 3 : 4, logger: logger)
    let mqttMonitor = MQTTMonitor(configuration: configuration.mqtt)

    let metrics = Metrics(store: store, manager: manager, ledger: ledger, mqtt: mqttMonitor)
    let adminRouter = buildAdminRouter(store: store, ledger: ledger, manager: manager, configuration: configuration,
                                       mqtt: mqttMonitor, notifier: notifier, metrics: metrics)
    let socketPath = configuration.adminSocket
    let admin = ListenerService(name: "admin", application: Application(
        router: adminRouter,
        configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: nil),
        services: [SegmentSweepService(manager: manager), LedgerCheckpointService(ledger: ledger),
                   RetentionService(store: store, ledger: ledger, interval: .seconds(configuration.retentionSweepSeconds), logger: logger)],
        onServerRunning: { _ in
            AdminSocket.restrictPermissions(path: socketPath)
            await readiness.ready("admin_socket", socketPath)
        },
        eventLoopGroupProvider: .shared(group),
        logger: logger))

    let publicRouter = try await buildPublicRouter(store: store, ledger: ledger, configuration: configuration, notifier: notifier)
    // Server limits for the network-facing listener: headers at most 16 KiB in 100 fields,
    // idle connections closed after 30 s, at most `max_connections` connections at once, at
    // most `max_connections_per_address` from one address, and a complete request head within
    // `header_timeout_seconds` (slowloris; see ConnectionLimits).
    let limits = ConnectionLimits(headerTimeout: .seconds(Int64(configuration.headerTimeoutSeconds)),
                                  maxPerAddress: configuration.maxConnectionsPerAddress)
    let counter = ConnectionCounter()
    let guardLogger = logger
    let http1 = HTTPServerBuilder.http1(configuration: .init(
        additionalChannelHandlers: [ConnectionGuardHandler(limits: limits, counter: counter, logger: guardLogger)],
        idleTimeout: .seconds(30),
        httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 16 * 1024, maxHeaderFieldCount: 100)))
    let server = try publicServer(http1, configuration: configuration)
    let scheme = configuration.tlsCertificate == nil ? "http" : "https"
    let publicAPI = ListenerService(name: "public", application: Application(
        router: publicRouter,
        server: server,
        configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil,
                             availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? listen.port
            await readiness.ready("listen", listen.host.contains(":") ? "[\(listen.host)]:\(port)" : "\(listen.host):\(port)")
            await readiness.ready("scheme", scheme)
        },
        eventLoopGroupProvider: .shared(group),
        logger: logger))

    // Graceful shutdown runs in reverse order: MQTT first (its last batch still commits and is
    // acknowledged), then the public API, then the admin API and the segment manager.
    var services: [any Service] = [admin, publicAPI]
    if let metricsListen {
        // Metrics show the person's activity (readings, requests, MQTT topics): never on the
        // public listener; on this loopback-only address when configured (for a local scraper).
        let metricsRouter = Router(context: BasicRequestContext.self)
        let routes = RouteTable()
        metricsRouter.add(middleware: ProblemMiddleware(routes: routes))
        MetricsController(metrics: metrics).addRoutes(to: metricsRouter)
        routes.load(from: metricsRouter)
        services.append(Application(
            router: metricsRouter,
            configuration: .init(address: .hostname(metricsListen.host, port: metricsListen.port), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(16)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? metricsListen.port
                await readiness.ready("metrics", metricsListen.host.contains(":") ? "[\(metricsListen.host)]:\(port)" : "\(metricsListen.host):\(port)")
            },
            eventLoopGroupProvider: .shared(group),
            logger: logger))
    }
    if configuration.mqtt.isEnabled {
        services.append(try MQTTIngestService(configuration: configuration.mqtt, manager: manager, monitor: mqttMonitor, group: group, logger: logger))
    }
    return EdgeVaultDaemon(services: services, logger: logger, lock: lock)
}

/// The admin API's routes (the person's tools, over the Unix socket), exactly as the daemon
/// serves them.
public func buildAdminRouter(store: VaultStore, ledger: LedgerService, manager: SegmentManager, configuration: Configuration,
                             mqtt: MQTTMonitor, notifier: RequestNotifier, metrics: Metrics) -> Router<BasicRequestContext> {
    let adminRouter = Router(context: BasicRequestContext.self)
    // Outermost: every request is counted and timed by route template, with the status it got.
    adminRouter.add(middleware: MetricsMiddleware())
    let routes = RouteTable()
    adminRouter.add(middleware: ProblemMiddleware(routes: routes))
    AdminController(store: store, manager: manager, configuration: configuration, startedAt: Timestamp.now(), mqtt: mqtt, ledger: ledger).addRoutes(to: adminRouter)
    LogController(store: store, ledger: ledger).addRoutes(to: adminRouter)
    AdminLogController(store: store, ledger: ledger).addRoutes(to: adminRouter)
    AdminOrgsController(store: store, ledger: ledger).addRoutes(to: adminRouter)
    AdminRequestsController(store: store, notifier: notifier).addRoutes(to: adminRouter)
    AdminDecisionsController(store: store, ledger: ledger, manager: manager).addRoutes(to: adminRouter)
    AdminRevocationsController(store: store, ledger: ledger, manager: manager).addRoutes(to: adminRouter)
    AdminKeysController(store: store, ledger: ledger).addRoutes(to: adminRouter)
    AdminDeletionsController(store: store, ledger: ledger, manager: manager).addRoutes(to: adminRouter)
    let dataDir = configuration.dataDir
    adminRouter.post("/v1/backup") { _, _ in
        // Streamed from a consistent copy in the data directory: memory stays flat however
        // large the vault is; the copy is removed once sent.
        let backup = try await Backup.prepare(store: store, dataDir: dataDir)
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                        body: ResponseBody(contentLength: backup.totalBytes) { writer in
                            try await backup.stream { try await writer.write(ByteBuffer(bytes: $0)) }
                            try await writer.finish(nil)
                        })
    }
    MetricsController(metrics: metrics).addRoutes(to: adminRouter)
    routes.load(from: adminRouter)
    return adminRouter
}

/// Plain HTTP/1.1, or TLS around it when a certificate and key are configured.
func publicServer(_ http1: HTTPServerBuilder, configuration: Configuration) throws -> HTTPServerBuilder {
    switch (configuration.tlsCertificate, configuration.tlsKey) {
    case (nil, nil):
        return http1
    case (let cert?, let key?):
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
            tls.minimumTLSVersion = .tlsv12
            return try .tls(http1, tlsConfiguration: tls)
        } catch {
            throw VaultError(.config, "cannot load the TLS certificate \(cert) or key \(key): \(error)")
        }
    default:
        throw VaultError(.config, "TLS needs both tls_certificate and tls_key")
    }
}

/// The public API's routes (organizations and the log), exactly as the daemon serves them.
public func buildPublicRouter(store: VaultStore, ledger: LedgerService, configuration: Configuration,
                              notifier: RequestNotifier) async throws -> Router<PublicRequestContext> {
    let router = Router(context: PublicRequestContext.self)
    // Outermost: every request is counted and timed by route template (never its path, which
    // holds request and segment ids), with the status it got; shown on the admin socket only.
    router.add(middleware: MetricsMiddleware())
    let routes = RouteTable()
    router.add(middleware: ProblemMiddleware(routes: routes))
    router.get("/healthz") { _, _ in JSONBody(["status": "ok"]) }
    // No /metrics here: it is on the admin socket (and `metrics_listen`, loopback only).
    // The operations openapi.yaml documents are the ones routed here (a test keeps them equal).
    let document = ByteBuffer(bytes: OpenAPIDocument.bytes)
    router.get("/v1/openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: document))
    }
    LogController(store: store, ledger: ledger).addRoutes(to: router)
    router.get("/v1/vault") { _, _ -> JSONBody<PublicVaultInfo> in
        let v = ledger.vault
        return JSONBody(PublicVaultInfo(origin: v.origin, userKeyId: v.userKeyId, userKey: Encoding.base64url([UInt8](v.userSigningKey)),
                                        logKey: ledger.verifier.text))
    }
    let limits = RequestLimits(maxPendingPerOrg: configuration.maxPendingPerOrg, maxPendingTotal: configuration.maxPendingTotal,
                               allowUnknownOrgs: configuration.allowUnknownOrgs)
    // One middleware (one nonce store, one rate limiter) for every organization-facing route.
    let violations = ViolationRecorder(store: store, ledger: ledger)
    let signatureMiddleware = SignatureMiddleware(store: store, nonces: try await NonceStore(store: store),
                                                  limiter: RateLimiter(perMinute: configuration.requestsPerMinute), violations: violations)
    let signed = router.group("/v1/requests")
        .add(middleware: signatureMiddleware)
        .group(context: OrgRequestContext.self)
    RequestsController(store: store, ledger: ledger, limits: limits, notifier: notifier, violations: violations).addRoutes(to: signed)
    let grants = router.group("/v1/grants")
        .add(middleware: signatureMiddleware)
        .group(context: OrgRequestContext.self)
    GrantsController(store: store, ledger: ledger, violations: violations).addRoutes(to: grants)
    routes.load(from: router)
    return router
}

/// Logs `vaultd ready` (with every listener's address) once all listeners are up.
actor Readiness {
    let expected: Int
    let logger: Logger
    var addresses: [(String, String)] = []

    init(expected: Int, logger: Logger) {
        self.expected = expected
        self.logger = logger
    }

    func ready(_ name: String, _ address: String) {
        addresses.append((name, address))
        guard addresses.count == expected else { return }
        var metadata: Logger.Metadata = ["version": "\(EdgeVaultVersion.current)"]
        for (k, v) in addresses { metadata[k] = "\(v)" }
        logger.notice("vaultd ready", metadata: metadata)
    }
}

/// The admin socket's file: refuse to steal another daemon's socket, create its directory,
/// and make it 0660 (owner and group `edgevault`) once bound.
enum AdminSocket {
    static func prepare(path: String) throws {
        guard path.utf8.count < 104 else {
            throw VaultError(.config, "admin socket path is too long (\(path.utf8.count) bytes; the limit is 103): \(path)")
        }
        let directory = FileIO.parentDirectory(path)
        func refuse(_ why: String) -> VaultError {
            VaultError(.config, "cannot create the admin socket \(path) (\(why)): run vaultd as a user who may, or move the socket "
                       + "with admin_socket in the config, --admin-socket or EDGEVAULT_ADMIN_SOCKET (for example under $HOME)")
        }
        do {
            try EdgeVaultCore.FileIO.makeDirectories(directory, mode: 0o750)
        } catch {
            throw refuse((error as? EdgeVaultCore.FileIO.Failure)?.description ?? "\(error)")
        }
        // The directory exists but may not be ours to write in (binding would fail with a bare
        // "stat(pathname:outStat:): Permission denied").
        guard access(directory, W_OK | X_OK) == 0 else {
            throw refuse("\(directory): \(String(cString: strerror(errno)))")
        }
        if FileIO.exists(path) && isAlive(path: path) {
            throw VaultError(.config, "another vaultd is already serving \(path)")
        }
    }

    /// Whether something accepts connections on the socket at `path`.
    static func isAlive(path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() where i < p.count - 1 { p[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return rc == 0
    }

    static func restrictPermissions(path: String) {
        _ = chmod(path, 0o660)
    }
}
