import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultCompute
import SystemPackage
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
    // Per-segment compute jobs (docs/PROTOCOL.md §"Compute jobs"): each run in an
    // edgevault-sandbox process beside vaultd.
    let compute = ComputeService(store: store, ledger: ledger, runner: SandboxRunner(cgroup: configuration.computeCgroup.map { FilePath($0) }), userBoxKey: [UInt8](ledger.vault.userBoxKey),
                                 logger: logger)
    await manager.attach(compute: compute)
    let witnessing = try await Witnessing.make(store: store, ledger: ledger, dataDir: configuration.dataDir,
                                               configuration: configuration.witnessing, logger: logger)
    // The vault's encrypted backup as fragment sets on its peers, signed with the witness key
    // they know (docs/PROTOCOL.md §"Fragments").
    let fragments = FragmentService(store: store, ledger: ledger, dataDir: configuration.dataDir,
                                    keyPair: witnessing.witness.cosigner.keyPair, logger: logger)
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
                                       mqtt: mqttMonitor, notifier: notifier, metrics: metrics, witnessing: witnessing, fragments: fragments)
    let socketPath = configuration.adminSocket
    let admin = ListenerService(name: "admin", application: Application(
        router: adminRouter,
        configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: nil),
        services: [SegmentSweepService(manager: manager), LedgerCheckpointService(ledger: ledger, collector: witnessing.collector),
                   RetentionService(store: store, ledger: ledger, interval: .seconds(configuration.retentionSweepSeconds), logger: logger),
                   FragmentSchedule.audit(fragments, interval: .seconds(configuration.fragmentAuditSeconds), logger: logger),
                   FragmentSchedule.push(fragments, input: .init(k: configuration.fragmentPush.k, n: configuration.fragmentPush.n),
                                         interval: .seconds(configuration.fragmentPush.seconds), logger: logger),
                   FragmentSchedule.pushAfterGrowth(fragments, input: .init(k: configuration.fragmentPush.k, n: configuration.fragmentPush.n),
                                                    bytes: configuration.fragmentPush.afterBytes,
                                                    interval: .seconds(configuration.fragmentPush.checkSeconds), logger: logger)],
        onServerRunning: { _ in
            AdminSocket.restrictPermissions(path: socketPath)
            await readiness.ready("admin_socket", socketPath)
        },
        eventLoopGroupProvider: .shared(group),
        logger: logger))

    let publicRouter = try await buildPublicRouter(store: store, ledger: ledger, configuration: configuration, notifier: notifier,
                                                   witnessing: witnessing)
    // Server limits for the network-facing listener: headers at most 16 KiB in 100 fields,
    // idle connections closed after 30 s, at most `max_connections` connections at once, at
    // most `max_connections_per_address` from one address, and a complete request head within
    // `header_timeout_seconds` (slowloris; see ConnectionLimits).
    var guardLimits = ConnectionLimits(headerTimeout: .seconds(Int64(configuration.headerTimeoutSeconds)),
                                       maxPerAddress: configuration.maxConnectionsPerAddress)
    guardLimits.maxUploadBytes = Int64(configuration.shareLimits.maxShareBytes)
    let limits = guardLimits
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
