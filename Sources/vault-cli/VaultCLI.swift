import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

@main
struct VaultCLI: AsyncParsableCommand {
    /// First thing, before arguments are parsed or any key is unlocked: no core dumps (a dump
    /// would hold the person's unlocked keys) and no same-user ptrace.
    static func main() async {
        ProcessHardening.apply(restrictUmask: false)
        let arguments = ArgumentOrder.globalsMovedBack(Array(CommandLine.arguments.dropFirst()))
        let names = configuration.subcommands.map { $0._commandName }
        if let first = arguments.first, let near = ArgumentOrder.suggestion(for: first, among: names) {
            fail("no command \(first); did you mean \(near)? (vault-cli --help lists them)")
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // swift-argument-parser's messages quote what was typed (an argument pasted from an
            // organization's message may hold escape sequences): shown escaped like every output.
            let code = exitCode(for: error)
            let message = TerminalText.escape(fullMessage(for: error), keepLineFeeds: true)
            if code == .success {
                if !message.isEmpty { writeRaw(message + "\n") }
            } else if !message.isEmpty {
                FileIO.writeStderr(message + "\n")  // a bare ExitCode (ingest --skip-invalid's 2) has said its piece
            }
            Glibc.exit(code.rawValue)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "vault-cli",
        abstract: "The person's tool for their EdgeVault: keys, streams, readings, export.",
        discussion: """
            Every subcommand accepts --config, --data-dir, --admin-socket and --user-key, so \
            scripts can pass the same set everywhere. Settings also come from the config file \
            (default \(Configuration.defaultPath)) and EDGEVAULT_* environment variables.
            """,
        version: EdgeVaultVersion.current,
        subcommands: [InitCommand.self, StatusCommand.self, StreamCommand.self, IngestCommand.self, ExportCommand.self, DeleteCommand.self, LogCommand.self, TrustCommand.self, PeerCommand.self, WitnessCommand.self, OrgCommand.self, ApproveCommand.self, DenyCommand.self, GrantsCommand.self, RevokeCommand.self, ReviewCommand.self, ResultsCommand.self, ReleaseCommand.self, WithholdCommand.self, ModulesCommand.self, BackupCommand.self, RestoreCommand.self, RecoveryCommand.self, FragmentsCommand.self])
}

/// A subcommand whose errors print as one line (`vault-cli: …`) with a non-zero exit.
protocol VaultCommand: AsyncParsableCommand {
    func execute() async throws
}

extension VaultCommand {
    mutating func run() async throws {
        do {
            try await execute()
        } catch let e as ExitCode {
            throw e
        } catch let e as VaultError {
            fail(e.message)
        } catch let e as ConfigurationError {
            fail(e.message)
        } catch let e as FileIO.Failure {
            fail(e.description)
        } catch {
            fail("\(error)")
        }
    }
}

func fail(_ message: String) -> Never {
    FileIO.writeStderr("vault-cli: \(TerminalText.escape(message))\n")  // one line, escaped
    exit(1)
}

#if canImport(Glibc)
import Glibc
#endif
