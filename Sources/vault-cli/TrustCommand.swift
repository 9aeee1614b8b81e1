import ArgumentParser
import EdgeVault

struct TrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Organizations known to this vault: pin a key with a name, block one, list them.",
        subcommands: [List.self, Show.self, Add.self, Block.self])

    struct List: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations: fingerprint, names, trust, first contact.")

        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            let orgs = try await global.client().orgs()
            if orgs.isEmpty {
                print("no organizations yet")
                return
            }
            printTable(header: ["FINGERPRINT", "TRUST", "NAME (yours)", "NAME (claimed)", "FIRST SEEN", "KEY ID"],
                       rows: orgs.map { [$0.fingerprint, $0.trust, $0.pinnedName ?? "-", $0.name.isEmpty ? "-" : $0.name, $0.firstSeen ?? "never", $0.keyId] })
        }
    }

    struct Show: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "An organization's track record, computed from the ledger.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The organization's key id. One that starts with '-' goes after `--`.")
        var keyId: String

        func execute() async throws {
            let client = try global.client()
            guard let org = try await client.orgs().first(where: { $0.keyId == keyId }) else {
                throw VaultError(.notFound, "no organization \(keyId) is known to this vault")
            }
            let leaves = try await client.leaves(about: keyId)
            let record = TrackRecord.compute(leaves)
            print("\(org.pinnedName ?? org.name) (\(org.fingerprint)), \(org.trust)")
            if org.pinnedName != nil, !org.name.isEmpty { print("  calls itself: \(org.name)") }
            if !org.contact.isEmpty { print("  contact:      \(org.contact)") }
            print("  first seen:   \(org.firstSeen ?? "never")")
            print("  record:       \(record.summary)")
            for leaf in leaves.suffix(20) {
                let id = leaf.json["id"]?.stringValue ?? leaf.json["grant"]?.stringValue ?? leaf.json["kind"]?.stringValue ?? ""
                print("  \(Timestamp.rfc3339(milliseconds: leaf.time))  \(leaf.type)  \(id)")
            }
        }
    }

    struct Add: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pin an organization's key id ahead of its first request, with your name for it.",
            discussion: "With requests.allow_unknown_orgs = false, only pinned organizations may send requests.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The organization's key id (its RFC 7638 thumbprint, 43 characters; `vault-cli org keygen` prints it). One that starts with '-' goes after `--`.")
        var keyId: String

        @Option(help: "Your name for this organization.")
        var name: String

        func validate() throws {
            guard Encoding.fromBase64url(keyId)?.count == 32 else { throw ValidationError("not a key id: \(keyId)") }
        }

        func execute() async throws {
            let org = try await global.client().pinOrg(keyId: keyId, name: name)
            print("pinned \(org.fingerprint) as \"\(org.pinnedName ?? name)\"")
        }
    }

    struct Block: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Block an organization's key: its calls and requests are refused (org_blocked).")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The organization's key id. One that starts with '-' goes after `--`.")
        var keyId: String

        func validate() throws {
            guard Encoding.fromBase64url(keyId)?.count == 32 else { throw ValidationError("not a key id: \(keyId)") }
        }

        func execute() async throws {
            let org = try await global.client().blockOrg(keyId: keyId)
            print("blocked \(org.fingerprint)")
        }
    }
}
