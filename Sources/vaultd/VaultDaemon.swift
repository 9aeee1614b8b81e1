import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import Hummingbird
import Logging

@main
struct VaultDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vaultd",
        abstract: "EdgeVault daemon: keeps a person's readings encrypted and serves the admin API.",
        discussion: """
            Settings come from built-in defaults, then the config file (--config, default \
            \(Configuration.defaultPath); a missing default file is fine), then EDGEVAULT_* \
            environment variables, then these flags. Create a vault first with `vault-cli init`.
            Stop with SIGTERM or SIGINT: buffered readings are committed and every segment key is wiped.
            """,
        version: EdgeVaultVersion.current)

    @Option(help: "Config file (TOML).")
    var config: String?

    @Option(help: "Data directory holding the database and the log key.")
    var dataDir: String?

    @Option(help: "Admin API Unix socket path.")
    var adminSocket: String?

    @Option(help: "Public API address, host:port (port 0 picks a free port).")
    var listen: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(help: "Log format: logfmt or json.")
    var logFormat: String?

    /// First thing, before arguments are parsed or any key or reading is in memory: no core
    /// dumps, no same-user ptrace, files owner-only (umask 077).
    static func main() async {
        for failure in ProcessHardening.apply(restrictUmask: true) { printError("process hardening failed: \(failure)") }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    mutating func run() async throws {
        var configuration: Configuration
        do {
            configuration = try Configuration.load(path: config, environment: Configuration.processEnvironment())
            try configuration.apply(dataDir: dataDir, adminSocket: adminSocket, listen: listen, logLevel: logLevel, logFormat: logFormat)
        } catch {
            printError(error.message)
            throw ExitCode(78)  // EX_CONFIG
        }
        LineLogHandler.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
        RequestMetrics.bootstrap()
        let logger = Logger(label: "vaultd")
        do {
            let daemon = try await buildApplication(configuration: configuration, logger: logger)
            try await daemon.runService()
            // One line for the journal: a clean stop (SIGTERM/SIGINT), everything committed.
            logger.info("vaultd stopped", metadata: ["reason": "signal", "state": "clean"])
        } catch let e as VaultError {
            logger.critical("vaultd cannot start", metadata: ["error": "\(e.message)"])
            throw ExitCode.failure
        } catch {
            logger.critical("vaultd stopped on an error", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
    }
}

func printError(_ message: String) {
    FileIO.writeStderr("vaultd: \(message)\n")
}
