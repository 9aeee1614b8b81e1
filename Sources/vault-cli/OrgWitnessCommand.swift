import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Logging

/// `vault-cli org witness serve`: an organization witnesses the vaults it has grants with, so
/// its own records become part of each vault's chain (docs/PROTOCOL.md §"Witnesses").
struct OrgWitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run a C2SP witness for the vaults you have grants with.",
        subcommands: [Serve.self, Key.self])

    struct WitnessOptions: ParsableArguments {
        @Option(help: "The organization's key file (its directory holds the witness's key, state and the vault pins).")
        var key: String

        @Option(help: "The witness's name (its key's name; default org/<first 16 characters of your key id>/witness).")
        var name: String?

        var directory: String { FileIO.parentDirectory(FileIO.absolute(key)) }

        func cosigner() throws -> Cosigner {
            let keys = try OrgKeys.read(from: FileIO.absolute(key))
            let name = self.name ?? "org/\(keys.keyId.prefix(16))/witness"
            if let problem = PeerChange.originProblem(name) { throw VaultError(.badRequest, "--name: \(problem)") }
            return try WitnessKeyFile.loadOrCreate(path: directory + "/org-" + WitnessKeyFile.name, name: name)
        }
    }

    struct Key: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the witness's key (made on first use): what a person lists as key in a [[witness]] table.",
            discussion: "Example: vault-cli org witness key --key acme.key")

        @OptionGroup(visibility: .hidden) var global: GlobalOptions
        @OptionGroup var options: WitnessOptions

        func execute() async throws {
            print(try options.cosigner().verifier.text)
        }
    }

    struct Serve: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cosign checkpoints of the vaults you pinned (and any --log) at POST /v1/witness/add-checkpoint until stopped.",
            discussion: """
                Each vault you fetched from is pinned beside your key file (vault-pins/); its log is witnessed. \
                The state (size and root cosigned per log) is kept in witness.db beside your key file: a log can \
                never make this witness cosign a checkpoint that does not extend the last one. Give each person \
                the URL and the key: in their vaultd.toml, [[witness]] url = "http://HOST:PORT/v1/witness", key = "…".

                Example: vault-cli org witness serve --key acme.key --listen 0.0.0.0:9443
                """)

        @OptionGroup(visibility: .hidden) var global: GlobalOptions
        @OptionGroup var options: WitnessOptions

        @Option(help: "Address to listen on, host:port (port 0: any free port, printed).")
        var listen: String = "127.0.0.1:9443"

        @Option(help: "Also witness this log (its C2SP verifier key; repeatable).")
        var log: [String] = []

        func validate() throws {
            guard ListenAddress(listen) != nil else { throw ValidationError("--listen must be host:port, not \(listen)") }
            for key in log {
                if let problem = PeerChange.logKeyProblem(key) { throw ValidationError("--log: \(problem)") }
            }
        }

        func execute() async throws {
            let cosigner = try options.cosigner()
            let database = try WitnessDatabase(path: options.directory + "/witness.db")
            var keys = log
            let pinsDir = options.directory + "/vault-pins"
            for file in (try? FileIO.list(pinsDir)) ?? [] where file.hasSuffix(".json") {
                guard let bytes = try? FileIO.read(pinsDir + "/" + file, limit: 64 * 1024),
                      let pins = try? JSONDecoder().decode(OrgFetcher.Pins.self, from: Data(bytes)) else {
                    eprint("vault-cli: skipping \(pinsDir)/\(file): not a vault pins file\n")
                    continue
                }
                keys.append(pins.logKey)
            }
            guard !keys.isEmpty else {
                throw VaultError(.config, "no log to witness: fetch from a vault first (its pins go to \(pinsDir)) or give --log")
            }
            for key in keys {
                let verifier = try SignedNote.Verifier(key)
                try database.addLog(origin: verifier.name, logKey: verifier.text)
                print("witnessing \(verifier.name)")
            }
            var logger = Logger(label: "org-witness")
            logger.logLevel = .warning
            let address = ListenAddress(listen)!
            let service = WitnessServer.make(witness: Witness(state: database, cosigner: cosigner, logger: logger), listen: address,
                                             logger: logger) { port in
                let host = address.host.contains(":") ? "[\(address.host)]" : address.host
                print("witness key: \(cosigner.verifier.text)")
                print("witness ready: http://\(host):\(port)/v1/witness")
            }
            try await WitnessServer.run(service, logger: logger)
        }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
