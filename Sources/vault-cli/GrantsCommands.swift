import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

struct GrantsCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants",
        abstract: "List grants: live, revoked and expired, with what was released under each.", discussion: "Example: vault-cli grants")

    @OptionGroup var global: GlobalOptions

    func execute() async throws {
        let client = try global.client()
        let grants = try await client.grants()
        if grants.isEmpty {
            print("no grants")
            return
        }
        // The name each grant was signed under (what the person approved), and the person's own
        // name for the key when they pinned it.
        let orgs = Dictionary((try await client.orgs()).map { ($0.keyId, $0) }, uniquingKeysWith: { a, _ in a })
        func name(_ g: AdminAPI.GrantSummary) -> String {
            let signed = g.name ?? orgs[g.org]?.name ?? g.org
            if let pinned = orgs[g.org]?.pinnedName, pinned != signed { return "\(signed) (yours: \(pinned))" }
            return signed
        }
        printTable(header: ["GRANT", "ORGANIZATION", "STATUS", "STREAMS", "RANGE", "EXPIRES", "RELEASED"],
                   rows: grants.map { g in
                       [g.id, name(g), g.status.rawValue, g.streams.joined(separator: ","), "\(g.from) → \(g.to)", g.expires,
                        "\(g.readingsReleased) readings in \(g.releases) pages"]
                   })
    }
}

struct RevokeCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a grant: signed by you, recorded in the ledger; fetches are refused from then on.", discussion: "Example: vault-cli revoke study-2026 --reason \"study over\"")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The grant id.")
    var grantId: String

    @Option(parsing: .unconditional, help: "The organization's key id, when several used the same id.")
    var org: String?

    @Option(help: "Why (recorded in the ledger).")
    var reason: String?

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func execute() async throws {
        let client = try global.client()
        let matches = try await client.grants().filter { $0.id == grantId && (org == nil || $0.org == org) }
        guard let grant = matches.first else { throw VaultError(.notFound, "no grant \(grantId)") }
        guard matches.count == 1 else { throw VaultError(.badRequest, "several organizations have a grant \(grantId); pass --org KEYID") }
        guard grant.status == .live else { throw VaultError(.notPending, "grant \(grantId) is already \(grant.status.rawValue)") }
        let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
        let r = try await client.revoke(Revocation.make(grant: grantId, org: grant.org, reason: reason, at: Timestamp.now(), keys: keys))
        print("revoked \(r.grant); ledger entry #\(r.leafIndex) in checkpoint \(r.checkpointSize)")
    }
}
