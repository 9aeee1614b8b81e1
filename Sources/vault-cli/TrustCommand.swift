import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

struct TrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Organizations known to this vault: pin a key with a name, block or unblock one, list them.",
        discussion: """
            Pinning, renaming, blocking and unblocking are signed with your key (they ask for your \
            passphrase) and recorded in the ledger; the daemon refuses them unsigned.
            """,
        subcommands: [List.self, Show.self, Add.self, Block.self, Unblock.self])

    struct List: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "List organizations: fingerprint, names, trust, first contact.", discussion: "Example: vault-cli trust list")

        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            let orgs = try await global.client().orgs()
            if orgs.isEmpty {
                print("no organizations yet")
                return
            }
            printTable(header: ["FINGERPRINT", "TRUST", "NAME (yours)", "NAME (claimed)", "FIRST SEEN", "KEY ID"],
                       rows: orgs.map { [$0.fingerprint, $0.pinSigned == false ? "pinned (unsigned)" : $0.trust.rawValue, $0.pinnedName ?? "-", $0.name.isEmpty ? "-" : $0.name, $0.firstSeen ?? "never", $0.keyId] })
        }
    }

    struct Show: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "An organization's track record, computed from the ledger.", discussion: "Example: vault-cli trust show ABCD-EFGH-IJKL-MNOP")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The organization's key id or fingerprint (ABCD-EFGH-IJKL-MNOP, any case, dashes optional). One that starts with '-' goes after `--`.")
        var keyId: String

        func validate() throws { try validateOrgReference(keyId) }

        func execute() async throws {
            let client = try global.client()
            let orgs = try await client.orgs()
            let keyId = try resolveOrg(self.keyId, among: orgs)
            guard let org = orgs.first(where: { $0.keyId == keyId }) else {
                throw VaultError(.notFound, "no organization \(keyId) is known to this vault")
            }
            let leaves = try await client.leaves(about: keyId)
            let record = TrackRecord.compute(leaves)
            print("\(org.pinnedName ?? org.name) (\(org.fingerprint)), \(org.trust)")
            if org.pinnedName != nil, !org.name.isEmpty { print("  calls itself: \(org.name)") }
            if org.pinSigned == false {
                print("  warning:      pinned before trust changes were signed: anything that could reach the admin socket could have set this")
                print("                name. Confirm it with `vault-cli trust add \(org.keyId) --name …` (signed by you).")
            }
            if !org.contact.isEmpty { print("  contact:      \(org.contact)") }
            print("  first seen:   \(org.firstSeen ?? "never")")
            print("  record:       \(record.summary)")
            let trustKinds = Set([LedgerLeaf.Kind.orgPinned, .orgRenamed, .orgBlocked, .orgUnblocked].map(\.rawValue))
            let changes = leaves.filter { trustKinds.contains($0.type) }
            if !changes.isEmpty {
                print("  your trust changes (signed by you):")
                for leaf in changes {
                    var what = leaf.type
                    if let name = leaf.json["name"]?.stringValue { what += " \"\(name)\"" }
                    if let previous = leaf.json["previousName"]?.stringValue { what += " (was \"\(previous)\")" }
                    if let denied = leaf.json["denied"]?.numberText { what += ", \(denied) pending request(s) denied" }
                    print("    \(Timestamp.rfc3339(milliseconds: leaf.time))  \(what)")
                }
            }
            for leaf in leaves.suffix(20) {
                let id = leaf.json["id"]?.stringValue ?? leaf.json["grant"]?.stringValue ?? leaf.json["kind"]?.stringValue
                    ?? leaf.json["name"]?.stringValue.map { "\"\($0)\"" } ?? ""
                print("  \(Timestamp.rfc3339(milliseconds: leaf.time))  \(leaf.type)  \(id)")
            }
        }
    }

    struct Add: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pin an organization's key id with your name for it (ahead of its first request, or to rename it). Signed by you.",
            discussion: "With requests.allow_unknown_orgs = false, only pinned organizations may send requests.\n\nExample: vault-cli trust add ABCD-EFGH-IJKL-MNOP --name \"Dr. Alvarez (cardiology)\"")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The organization's key id (its RFC 7638 thumbprint, 43 characters; `vault-cli org keygen` prints it), or the fingerprint of a key that has contacted this vault. One that starts with '-' goes after `--`.")
        var keyId: String

        @Option(help: "Your name for this organization.")
        var name: String

        @Option(help: "Read the passphrase from this file instead of asking.")
        var passphraseFile: String?

        func validate() throws {
            try validateOrgReference(keyId)
            if let problem = TrustChange.nameProblem(UntrustedText.normalized(name)) { throw ValidationError("--name: \(problem)") }
        }

        func execute() async throws {
            let client = try global.client()
            let vault = try await client.vault()
            let orgs = try await client.orgs()
            let keyId = try resolveOrg(self.keyId, among: orgs)
            let name = UntrustedText.normalized(self.name)
            // Two keys under one name of yours would make either pass for the other.
            if let twin = orgs.first(where: { $0.keyId != keyId && $0.pinnedName.map(UntrustedText.skeleton) == UntrustedText.skeleton(name) }) {
                throw VaultError(.trustConflict, "another key (\(twin.fingerprint)) is already pinned as \"\(twin.pinnedName ?? "")\"; "
                                 + "give this one a name of its own, or block the other first")
            }
            if let org = orgs.first(where: { $0.keyId == keyId }) {
                if org.trust == .blocked { throw VaultError(.trustConflict, "\(org.fingerprint) is blocked; unblock it first (vault-cli trust unblock)") }
                if org.trust == .pinned, org.pinnedName == name, org.pinSigned != false { throw VaultError(.trustConflict, "\(org.fingerprint) is already pinned as \"\(name)\"") }
            }
            let changer = try TrustChanger(client: client, keys: try global.unlock(passphraseFile: passphraseFile), vault: vault)
            let r = try await changer.pin(org: keyId, name: name)
            let verb = r.change == LedgerLeaf.Kind.orgRenamed.rawValue ? "renamed" : "pinned"
            print("\(verb) \(r.org.fingerprint) as \"\(r.org.pinnedName ?? name)\"; ledger entry #\(r.leafIndex) (\(r.change)) in checkpoint \(r.checkpointSize)")
        }
    }

    struct Block: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Block organizations' keys: their calls and requests are refused, and their pending requests are denied in the same step. Signed by you.",
            discussion: "Several key ids take one passphrase entry.\n\nExample: vault-cli trust block ABCD-EFGH-IJKL-MNOP")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The organizations' key ids or fingerprints. One that starts with '-' goes after `--`.")
        var keyIds: [String]

        @Option(help: "Read the passphrase from this file instead of asking.")
        var passphraseFile: String?

        func validate() throws {
            guard !keyIds.isEmpty else { throw ValidationError("give the key id of the organization to block") }
            guard keyIds.count <= 1000 else { throw ValidationError("at most 1000 key ids at once") }
            for k in keyIds { try validateOrgReference(k) }
        }

        func execute() async throws {
            let client = try global.client()
            let vault = try await client.vault()
            let known = try await client.orgs()
            let keyIds = try self.keyIds.map { try resolveOrg($0, among: known) }
            guard Set(keyIds).count == keyIds.count else { throw VaultError(.badRequest, "an organization is given twice; nothing was blocked") }
            for k in keyIds {
                guard let org = known.first(where: { $0.keyId == k }) else { throw VaultError(.notFound, "no organization \(k) is known to this vault; nothing was blocked") }
                if org.trust == .blocked { throw VaultError(.trustConflict, "\(org.fingerprint) is already blocked; nothing was blocked") }
            }
            let changer = try TrustChanger(client: client, keys: try global.unlock(passphraseFile: passphraseFile), vault: vault)
            for (n, k) in keyIds.enumerated() {
                let outcome: TrustChanger.BlockOutcome
                do {
                    outcome = try await changer.block(org: k)
                } catch let e as VaultError where n > 0 {
                    throw VaultError(e.code, "blocking \(k): \(e.message) (the \(n) key(s) before it are blocked)")
                }
                let r = outcome.block
                var line = "blocked \(r.org.fingerprint); ledger entry #\(r.leafIndex) (org.blocked)"
                let denied = outcome.denied
                if let first = denied.first, let last = denied.last {
                    line += ", \(denied.count) pending request(s) denied (request.denied #\(first.leafIndex)…#\(last.leafIndex))"
                } else {
                    line += ", no pending requests"
                }
                if outcome.relisted > 0 { line += "; listed again \(outcome.relisted) time(s): requests kept arriving while it was signed" }
                print(line + " in checkpoint \(outcome.followUp?.checkpointSize ?? r.checkpointSize)")
            }
        }
    }

    struct Unblock: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Unblock an organization's key: it may call and ask again. Signed by you.", discussion: "Example: vault-cli trust unblock ABCD-EFGH-IJKL-MNOP")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The organization's key id or fingerprint. One that starts with '-' goes after `--`.")
        var keyId: String

        @Option(help: "Read the passphrase from this file instead of asking.")
        var passphraseFile: String?

        func validate() throws { try validateOrgReference(keyId) }

        func execute() async throws {
            let client = try global.client()
            let vault = try await client.vault()
            let orgs = try await client.orgs()
            let keyId = try resolveOrg(self.keyId, among: orgs)
            guard let org = orgs.first(where: { $0.keyId == keyId }) else {
                throw VaultError(.notFound, "no organization \(keyId) is known to this vault")
            }
            guard org.trust == .blocked else { throw VaultError(.trustConflict, "\(org.fingerprint) is not blocked") }
            let changer = try TrustChanger(client: client, keys: try global.unlock(passphraseFile: passphraseFile), vault: vault)
            let r = try await changer.unblock(org: keyId)
            print("unblocked \(r.org.fingerprint) (now \(r.org.trust)); ledger entry #\(r.leafIndex) (org.unblocked) in checkpoint \(r.checkpointSize)")
        }
    }
}

func isKeyId(_ text: String) -> Bool { text.count == 43 && Encoding.fromBase64url(text)?.count == 32 }

/// The 16 base32 characters of a fingerprint as people copy it (any case, with or without the
/// dashes or spaces), or nil.
func fingerprintDigits(_ text: String) -> String? {
    let digits = String(text.uppercased().filter { $0 != "-" && $0 != " " })
    guard digits.count == 16, digits.allSatisfy({ ("A"..."Z").contains($0) || ("2"..."7").contains($0) }) else { return nil }
    return digits
}

/// An organization as a person names it: its key id, or the fingerprint every screen shows.
func validateOrgReference(_ text: String) throws {
    guard isKeyId(text) || fingerprintDigits(text) != nil else {
        throw ValidationError("not a key id or fingerprint: \(text) (a key id has 43 characters; a fingerprint looks like ABCD-EFGH-IJKL-MNOP)")
    }
}

/// The key id `text` names among `orgs` (a key id is taken as it is).
func resolveOrg(_ text: String, among orgs: [AdminAPI.Org]) throws -> String {
    if isKeyId(text) { return text }
    guard let digits = fingerprintDigits(text),
          let org = orgs.first(where: { $0.fingerprint.filter { $0 != "-" } == digits })
    else { throw VaultError(.notFound, "no organization with fingerprint \(text) is known to this vault") }
    return org.keyId
}
