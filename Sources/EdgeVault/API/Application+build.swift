import Hummingbird
import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Builds the whole daemon from its configuration: logger, store, segment manager, routes
/// and listeners. `vaultd` and the tests call this same function.
public func buildApplication(configuration: Configuration, logger: Logger? = nil) async throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "vaultd")
    logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
    let store = try VaultStore.open(dataDir: configuration.dataDir)
    let manager = try SegmentManager(
        store: store,
        settings: .init(autoCreateStreams: configuration.autoCreateStreams, defaultBucketSeconds: configuration.defaultBucketSeconds,
                        graceMilliseconds: configuration.segmentGraceSeconds * 1000),
        logger: logger)
    try AdminSocket.prepare(path: configuration.adminSocket)

    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ProblemMiddleware())
    AdminController(store: store, manager: manager, configuration: configuration, startedAt: Timestamp.now())
        .addRoutes(to: router)

    let socketPath = configuration.adminSocket
    let readyLogger = logger
    let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
    return Application(
        router: router,
        configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: nil),
        services: [IngestService(manager: manager)],
        onServerRunning: { _ in
            AdminSocket.restrictPermissions(path: socketPath)
            readyLogger.notice("vaultd ready", metadata: ["admin_socket": "\(socketPath)", "version": "\(EdgeVaultVersion.current)"])
        },
        eventLoopGroupProvider: .shared(group),
        logger: logger)
}

/// The admin socket's file: refuse to steal another daemon's socket, create its directory,
/// and make it 0660 (owner and group `edgevault`) once bound.
enum AdminSocket {
    static func prepare(path: String) throws {
        guard path.utf8.count < 104 else {
            throw VaultError(.config, "admin socket path is too long (\(path.utf8.count) bytes; the limit is 103): \(path)")
        }
        do {
            try FileIO.makeDirectories(FileIO.parentDirectory(path), mode: 0o750)
        } catch {
            throw VaultError(.config, "cannot create the admin socket's directory: \(error)")
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
