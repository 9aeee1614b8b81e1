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

/// The admin API's routes (the person's tools, over the Unix socket), exactly as the daemon
/// serves them.
public func buildAdminRouter(store: VaultStore, ledger: LedgerService, manager: SegmentManager, configuration: Configuration,
                             mqtt: MQTTMonitor, notifier: RequestNotifier, metrics: Metrics, witnessing: Witnessing?,
                             fragments: FragmentService? = nil) -> Router<BasicRequestContext> {
    buildAdminRouter(context: BasicRequestContext.self, store: store, ledger: ledger, manager: manager, configuration: configuration,
                     mqtt: mqtt, notifier: notifier, metrics: metrics, witnessing: witnessing, fragments: fragments)
}

/// The same routes for any request context: tests drive them in-process (no socket).
public func buildAdminRouter<Context: RequestContext>(
    context: Context.Type, store: VaultStore, ledger: LedgerService, manager: SegmentManager, configuration: Configuration,
    mqtt: MQTTMonitor, notifier: RequestNotifier, metrics: Metrics, witnessing: Witnessing? = nil, fragments: FragmentService? = nil
) -> Router<Context> {
    let adminRouter = Router(context: Context.self)
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
    AdminGrantsController(store: store, ledger: ledger, manager: manager).addRoutes(to: adminRouter)
    AdminKeysController(store: store, ledger: ledger).addRoutes(to: adminRouter)
    AdminDeletionsController(store: store, ledger: ledger, manager: manager).addRoutes(to: adminRouter)
    AdminComputeController<Context>(store: store, ledger: ledger).addRoutes(to: adminRouter)
    AdminRecoveryController<Context>(store: store, ledger: ledger).addRoutes(to: adminRouter)
    if let witnessing { AdminPeersController<Context>(store: store, ledger: ledger, witnessing: witnessing, dataDir: configuration.dataDir).addRoutes(to: adminRouter) }
    if let fragments { AdminFragmentsController<Context>(fragments: fragments).addRoutes(to: adminRouter) }
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
