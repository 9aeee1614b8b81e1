import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

/// The organization's toolkit: the same library code the vault verifies with.
struct OrgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org",
        abstract: "The organization's side: keys, signed access requests, status.",
        subcommands: [Keygen.self, Request.self, Status.self, Withdraw.self, Fetch.self, Module.self, Results.self, Combine.self, OrgWitnessCommand.self])

    struct OrgOptions: ParsableArguments {
        @Option(help: "The vault's public API, https://host:port (or http:// on a trusted network).")
        var vault: String

        @Option(help: "The organization's key file (from `vault-cli org keygen`).")
        var key: String

        @Option(help: "PEM certificates to trust for https:// instead of the system's (a gateway's self-signed certificate).")
        var cacert: String?

        func client() throws -> OrgClient {
            try OrgClient(vaultURL: vault, keys: try OrgKeys.read(from: FileIO.absolute(key)), trustRoots: cacert.map(FileIO.absolute))
        }
    }

    /// What `fetch` and `results` verify a grant against: the vault's log key and the pins.
    struct VerifyOptions: ParsableArguments {
        @Option(help: "The vault's log verifier key, when you have it from the person (else pinned on first contact).")
        var logKey: String?

        @Option(help: "Where to keep what you pinned about vaults (default: beside your key file).")
        var pins: String?

        @Option(help: "A C2SP tlog-policy file: the receipt's checkpoint must carry its quorum of witness cosignatures.")
        var policy: String?

        func loadPolicy() throws -> TlogPolicy? {
            try policy.map { try TlogPolicy.load(path: FileIO.absolute($0)) }
        }

        /// The pins file of the vault at `origin` for the organization whose key file is `key`.
        func pinsPath(key: String, origin: String) -> String {
            pins.map(FileIO.absolute)
                ?? (FileIO.parentDirectory(FileIO.absolute(key)) + "/vault-pins/" + FileIO.fileName(forOrigin: origin) + ".json")
        }
    }

    struct Keygen: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Create an Ed25519 signing key and an X25519 delivery key (file mode 0600).", discussion: "Example: vault-cli org keygen -o acme.key")

        // Accepted like everywhere (scripts pass one set), but not listed: an organization has no vault.
        @OptionGroup(visibility: .hidden) var global: GlobalOptions

        @Option(name: [.customShort("o"), .customLong("output"), .customLong("out")], help: "Where to write the key file (refuses to overwrite).")
        var out: String

        func execute() async throws {
            let keys = try OrgKeys.create(at: FileIO.absolute(out))
            print("key id:      \(keys.keyId)")
            print("fingerprint: \(Fingerprint.of(thumbprint: keys.keyId) ?? "?")")
            print("key file:    \(FileIO.absolute(out)) (keep it secret; it signs your requests and opens what you are granted)")
        }
    }

    struct Request: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign and send an access request; prints its id.",
            discussion: "The person sees your name, purpose, streams and range in their review prompt and decides.\n\nExample: vault-cli org request --vault https://gateway.example:8443 --key acme.key --stream phone/steps --from 2026-11-01 --to 2026-12-01 --expires 90d --name \"Acme Health Study\" --purpose \"step counts for a sleep study\"")

        // Accepted like everywhere (scripts pass one set), but not listed: an organization has no vault.
        @OptionGroup(visibility: .hidden) var global: GlobalOptions
        @OptionGroup var org: OrgOptions

        @Option(name: .long, help: "Stream to ask for (repeatable).")
        var stream: [String]

        @Option(help: "Start of the range (RFC 3339 or date).")
        var from: String

        @Option(help: "End of the range, exclusive (may be in the future: an ongoing grant).")
        var to: String

        @Option(help: "Why you ask, in words the person will read.")
        var purpose: String

        @Option(help: "Until when data may be fetched (RFC 3339 or date), or for how long from now (90d, 12h).")
        var expires: String

        @Option(help: "Your organization's name, as shown to the person.")
        var name: String

        @Option(help: "How the person can reach you.")
        var contact: String = ""

        @Option(help: "The request id (default: a new random one).")
        var id: String?

        @Option(help: "Ask to run this module (sha256:<hex>, from `org module push`) instead of receiving readings.")
        var compute: String?

        @Option(help: "With --compute: the job's parameters, as JSON (at most 4 KiB).")
        var params: String = "null"

        @Option(help: "With --compute: once (when approved) or per-segment (as each segment closes).")
        var schedule: String = "once"

        @Option(help: "With --compute: review (the person sees each output first) or auto (per-segment only).")
        var release: String = "review"

        @Option(help: "With --compute: fuel per run (about one unit per Wasm instruction).")
        var fuel: UInt64 = ComputeJob.defaultLimits.fuel
        @Option(help: "With --compute: memory per run, in 64 KiB pages (at least the module's declared maximum).")
        var memoryPages: Int = ComputeJob.defaultLimits.memoryPages
        @Option(help: "With --compute: the largest output a run may write, in bytes.")
        var outputBytes: Int = ComputeJob.defaultLimits.outputBytes
        @Option(help: "With --compute: wall-clock time per run, in milliseconds.")
        var wallMs: Int = ComputeJob.defaultLimits.wallMs

        /// The job, checked as the vault will check it.
        func job() throws -> ComputeJob? {
            guard let compute else { return nil }
            guard let params = try? JSONValue.parse(Array(params.utf8)) else { throw ValidationError("--params: not JSON") }
            let value = JSONValue.object([
                "module": .string(compute), "abi": .string(ComputeJob.abi), "params": params, "schedule": .string(schedule),
                "release": .string(release),
                "limits": .object(["fuel": .number("\(fuel)"), "memoryPages": .number("\(memoryPages)"),
                                   "outputBytes": .number("\(outputBytes)"), "wallMs": .number("\(wallMs)")]),
            ])
            do {
                return try ComputeJob(json: value)
            } catch {
                throw ValidationError(error.detail)
            }
        }

        func validate() throws {
            _ = try job()
            if stream.isEmpty { throw ValidationError("name at least one --stream") }
            for (label, value) in [("--from", from), ("--to", to)] where Timestamp.parseFlexible(value) == nil {
                throw ValidationError("\(label): not a time: \(value)")
            }
            if expiry(now: 0) == nil { throw ValidationError("--expires: not a time or a duration (90d, 12h): \(expires)") }
        }

        /// --expires as a time, or as a duration from `now`.
        func expiry(now: Int64) -> Int64? {
            Timestamp.parseFlexible(expires) ?? RetentionDuration.seconds(expires).map { now + $0 * 1000 }
        }

        func execute() async throws {
            let client = try org.client()
            let origin = try await client.origin()
            let now = Timestamp.now()
            // What the person will read is signed in NFC and checked here first, as the vault will.
            let (name, contact, purpose) = (UntrustedText.normalized(name), UntrustedText.normalized(contact), UntrustedText.normalized(purpose))
            try UntrustedText.check(name, field: "--name", limits: .name)
            try UntrustedText.check(contact, field: "--contact", limits: .contact)
            try UntrustedText.check(purpose, field: "--purpose", limits: .purpose)
            let request = AccessRequest(
                vault: origin, id: id ?? "req-" + Encoding.base32(Sodium.randomBytes(8), lowercase: true), orgName: name, orgContact: contact,
                streams: stream, from: Timestamp.parseFlexible(from)!, to: Timestamp.parseFlexible(to)!, purpose: purpose,
                deliveryKey: client.keys.delivery.publicKey, expires: expiry(now: now)!, created: now,
                access: compute == nil ? "raw" : "compute", job: try job())
            let status = try await client.submit(request)
            print("\(status.id) \(status.status)")
        }
    }

    struct Status: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Show the status of one of your requests.", discussion: "Example: vault-cli org status req-abc123 --vault https://gateway.example:8443 --key acme.key")

        // Accepted like everywhere (scripts pass one set), but not listed: an organization has no vault.
        @OptionGroup(visibility: .hidden) var global: GlobalOptions
        @OptionGroup var org: OrgOptions

        @Argument(help: "The request id.")
        var requestId: String

        func execute() async throws {
            let s = try await org.client().status(id: requestId)
            print("\(s.id) \(s.status)" + (s.reason.map { " (\($0))" } ?? ""))
        }
    }

    struct Fetch: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a grant and its receipt, then fetch and decrypt what it covers into NDJSON.",
            discussion: """
                Checks both signatures (yours and the person's, whose key is pinned at first \
                contact), the receipt (inclusion proof against a checkpoint signed by the vault's \
                log key, pinned at first contact or given with --log-key) and consistency with the \
                last checkpoint you saw from this vault. Then opens each segment key with your \
                delivery key and decrypts every chunk. Output: {"stream","t","v"} per line, stream \
                by stream. Run the same command again with the same -o to resume an interrupted \
                fetch or, for an ongoing grant, to append only what is new (the progress is kept in \
                FILE.fetch-state): nothing is fetched, or counted as released, twice.

                Example: vault-cli org fetch req-abc123 --vault https://gateway.example:8443 --key acme.key -o data.ndjson
                """)

        // Accepted like everywhere (scripts pass one set), but not listed: an organization has no vault.
        @OptionGroup(visibility: .hidden) var global: GlobalOptions
        @OptionGroup var org: OrgOptions

        @Argument(help: "The grant id (your request id).")
        var grantId: String

        @Option(name: [.customShort("o"), .customLong("output"), .customLong("out")], help: "Where to write the readings (NDJSON).")
        var out: String

        @OptionGroup var verify: VerifyOptions

        func execute() async throws {
            let client = try org.client()
            let pinsPath = verify.pinsPath(key: org.key, origin: try await client.origin())
            let progress = ProgressBar(label: "fetch", total: 0, unit: "chunks")
            let s = try await OrgFetcher(client: client, pinsPath: pinsPath, policy: try verify.loadPolicy()).fetch(id: grantId, logKey: verify.logKey, output: FileIO.absolute(out), progress: progress)
            progress.finish()
            print("verified grant \(grantId); fetched \(count(s.readings, "new reading")) from \(count(s.segments, "segment")) (\(count(s.chunks, "chunk")))"
                  + (s.skipped > 0 ? "; \(count(s.skipped, "segment")) had nothing new" : ""))
        }
    }

    struct Withdraw: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw one of your pending requests.", discussion: "Example: vault-cli org withdraw req-abc123 --vault https://gateway.example:8443 --key acme.key")

        // Accepted like everywhere (scripts pass one set), but not listed: an organization has no vault.
        @OptionGroup(visibility: .hidden) var global: GlobalOptions
        @OptionGroup var org: OrgOptions

        @Argument(help: "The request id.")
        var requestId: String

        func execute() async throws {
            let s = try await org.client().withdraw(id: requestId)
            print("\(s.id) \(s.status)")
        }
    }

    struct Module: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload WebAssembly modules for compute requests.",
            subcommands: [Push.self])

        struct Push: VaultCommand {
            static let configuration = CommandConfiguration(
                abstract: "Upload a module (a WASI command, wasi-p1-stdio/1) to a vault; prints its name for --compute.",
                discussion: "docs/MODULES.md says how to write one.\n\nExample: vault-cli org module push Modules/aggregate.wasm --vault https://gateway.example:8443 --key acme.key")

            @OptionGroup(visibility: .hidden) var global: GlobalOptions
            @OptionGroup var org: OrgOptions

            @Argument(help: "The .wasm file.")
            var file: String

            func execute() async throws {
                let bytes = try FileIO.read(FileIO.absolute(file), limit: ComputeJob.maxModuleBytes + 1)
                guard bytes.count <= ComputeJob.maxModuleBytes else {
                    throw VaultError(.tooLarge, "\(file) is larger than a vault takes (\(ComputeJob.maxModuleBytes) bytes)")
                }
                let (name, created) = try await org.client().pushModule(bytes)
                print("\(name) " + (created ? "uploaded" : "already on the vault") + " (\(bytes.count) bytes)")
            }
        }
    }

    struct Results: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify and fetch the results of a compute grant into a directory.",
            discussion: """
                Checks the grant as `org fetch` does, then each result: its receipt (inclusion in a \
                checkpoint signed by the vault's log key, consistent with what you saw before), \
                that its ledger entry is of your grant, and that the opened output's SHA-256 is the \
                one recorded. Writes SEQ.out, SEQ.leaf.json and SEQ.receipt.json per run; run it \
                again to fetch only new results.

                Example: vault-cli org results req-abc123 --vault https://gateway.example:8443 --key acme.key --out results/
                """)

        @OptionGroup(visibility: .hidden) var global: GlobalOptions
        @OptionGroup var org: OrgOptions

        @Argument(help: "The grant id (your request id).")
        var grantId: String

        @Option(name: [.customShort("o"), .customLong("output"), .customLong("out")], help: "The directory for the results.")
        var out: String

        @OptionGroup var verify: VerifyOptions

        func execute() async throws {
            let client = try org.client()
            let pinsPath = verify.pinsPath(key: org.key, origin: try await client.origin())
            let s = try await OrgResultsFetcher(client: client, pinsPath: pinsPath, policy: try verify.loadPolicy()).fetch(id: grantId, logKey: verify.logKey, directory: FileIO.absolute(out))
            print("verified grant \(grantId); \(count(s.released, "output")) released, \(s.withheld) withheld, \(s.failed) failed"
                  + (s.known > 0 ? " (\(s.known) already here)" : ""))
        }
    }

    struct Combine: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Average linreg-sgd updates from several vaults, weighted by their sample counts (federated averaging).",
            discussion: "Example: vault-cli org combine results/alice results/bob --out model.json   (then: --params \"$(cat model.json)\" for the next round)")

        @OptionGroup(visibility: .hidden) var global: GlobalOptions

        @Argument(help: "Result directories written by `org results`.")
        var directories: [String]

        @Option(name: [.customShort("o"), .customLong("output"), .customLong("out")], help: "Where to write the combined model.")
        var out: String

        func execute() async throws {
            guard !directories.isEmpty else { throw ValidationError("name at least one result directory") }
            let model = try ModelCombiner.combine(directories: directories.map(FileIO.absolute))
            try FileIO.replace(FileIO.absolute(out), ModelCombiner.document(model), mode: 0o644)
            print("combined \(count(model.updates, "update")) over \(count(model.samples, "sample")) into \(out)")
        }
    }
}
