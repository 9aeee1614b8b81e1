import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// An organization's witness (`vault-cli org witness serve`, docs/PROTOCOL.md §"Witnesses"):
/// the same `Witness` and route as vaultd's, on a listener of its own, its state in its own
/// SQLite file. Answers `POST /v1/witness/add-checkpoint` and `GET /healthz`.
public enum WitnessServer {
    public static func make(witness: Witness, listen: ListenAddress, logger: Logger,
                            onReady: @escaping @Sendable (Int) async -> Void) -> some Service {
        let router = Router(context: BasicRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: ProblemMiddleware(routes: routes))
        router.get("/healthz") { _, _ in JSONBody(["status": "ok"]) }
        WitnessController<BasicRequestContext>(witness: witness).addRoutes(to: router)
        routes.load(from: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(256)),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? listen.port) },
            logger: logger)
    }

    /// Runs `service` until SIGTERM or SIGINT.
    public static func run(_ service: some Service, logger: Logger) async throws {
        try await ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}
