import ArgumentParser
import EdgeVaultCore
import EdgeVaultClient
import EdgeVaultRecovery
import EdgeVaultTerminal
#if canImport(Glibc)
import Glibc
#endif

/// `vault-cli recovery …` (docs/PROTOCOL.md §"Key recovery", docs/OPERATIONS.md "When the
/// gateway dies"): SLIP-0039 mnemonic shares of the person's root secret.
struct RecoveryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Key recovery: split your key into SLIP-0039 word shares for people you trust; rebuild it from enough of them.",
        discussion: """
            The shares hold your root secret itself (any SLIP-0039 tool recovers it): whoever gathers enough of them \
            can open everything in your vault and sign in your name. Only the groups and thresholds are recorded in \
            the ledger, never a share.

            Example:
              vault-cli recovery split --out shares.txt     # 2 of 3 groups: 1of1, 2of3, 2of3
              vault-cli recovery verify --shares shares.txt
              vault-cli recovery recover --new-key ~/.config/edgevault/user.key
            """,
        subcommands: [Split.self, Verify.self, Recover.self, Record.self, OpenShare.self])

    /// The split's shape: `--group-threshold G --group TofN …` (default 2 of 1of1, 2of3, 2of3).
    struct PolicyOptions: ParsableArguments {
        @Option(help: "How many groups are needed to recover (default 2).")
        var groupThreshold: Int = Slip39.defaultGroupThreshold

        @Option(name: .customLong("group"), help: "A group as TofN: T of its N shares are needed (repeat, in order; default 1of1 2of3 2of3).")
        var groupTexts: [String] = []

        var groups: [RecoveryPolicy.Group] {
            groupTexts.isEmpty ? Slip39.defaultGroups.map { RecoveryPolicy.Group(threshold: $0.threshold, count: $0.count) }
                               : groupTexts.compactMap(Self.group)
        }

        static func group(_ text: String) -> RecoveryPolicy.Group? {
            let parts = text.lowercased().split(separator: "of", omittingEmptySubsequences: false)
            guard parts.count == 2, let t = Int(parts[0]), let n = Int(parts[1]) else { return nil }
            return RecoveryPolicy.Group(threshold: t, count: n)
        }

        func validate() throws {
            if let bad = groupTexts.first(where: { Self.group($0) == nil }) {
                throw ValidationError("--group \(bad): write a group as TofN, for example 2of3")
            }
            if let problem = RecoveryPolicy.problem(groupThreshold: groupThreshold, groups: groups) { throw ValidationError(problem) }
        }

        /// `--group-threshold 2 --group 1of1 …`, to show as a command.
        var arguments: String {
            "--group-threshold \(groupThreshold) " + groups.map { "--group \($0.threshold)of\($0.count)" }.joined(separator: " ")
        }
    }

    /// The optional SLIP-0039 passphrase: empty unless the person sets one.
    struct Slip39PassphraseOptions: ParsableArguments {
        @Flag(name: .customLong("slip39-passphrase"), help: "Ask for a SLIP-0039 passphrase (needed again to recover; nothing tells a wrong one).")
        var ask = false

        @Option(name: .customLong("slip39-passphrase-file"), help: "Read the SLIP-0039 passphrase from this file.")
        var file: String?

        var isSet: Bool { ask || file != nil }

        func read(confirm: Bool) throws -> String {
            guard isSet else { return "" }
            let secret = try Passphrase.read(prompt: "SLIP-0039 passphrase: ", confirm: confirm && file == nil, file: file)
            return secret.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
    }

    struct Split: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split your root secret into SLIP-0039 word shares and record the policy (groups and thresholds) in the ledger.",
            discussion: """
                Without --out, on a terminal, shows the shares group by group; it refuses to print them anywhere else. \
                With --out, writes them one per line in group order (mode 0600; never overwrites).

                With --seal-group G --to-peer NAME…, group G's shares are not shown: each is sealed to one peer's \
                witness key and kept on that peer's gateway, where its person can open it for you \
                (`vault-cli recovery open-share`) the day you need it.

                Example: vault-cli recovery split --group-threshold 2 --group 1of1 --group 2of3 --group 2of3 --out shares.txt
                Example: vault-cli recovery split --out shares.txt --seal-group 3 --to-peer bob --to-peer carol --to-peer dave
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var policy: PolicyOptions
        @OptionGroup var slip39: Slip39PassphraseOptions

        @Option(help: "Write the mnemonics to this new file, one per line (mode 0600).")
        var out: String?

        @Option(help: "Seal this group's shares (1-based) to peers instead of showing them: one share to each --to-peer, kept on their gateways.")
        var sealGroup: Int?

        @Option(name: .customLong("to-peer"), help: "A peer (its name in `vault-cli peer list`) to seal one share of --seal-group to; repeat, as many as the group has shares.")
        var toPeers: [String] = []

        func validate() throws {
            guard let g = sealGroup else {
                if !toPeers.isEmpty { throw ValidationError("--to-peer needs --seal-group (which group's shares go to the peers)") }
                return
            }
            let groups = policy.groups
            guard (1...groups.count).contains(g) else { throw ValidationError("--seal-group must be 1…\(groups.count)") }
            guard toPeers.count == groups[g - 1].count, Set(toPeers).count == toPeers.count else {
                throw ValidationError("group \(g) has \(groups[g - 1].count) shares: name that many different peers with --to-peer")
            }
            guard groups.count > 1 else { throw ValidationError("with a single group, the peers alone would hold your key: add a group of your own") }
        }

        @Option(help: "Read the key file's passphrase from this file instead of asking.")
        var passphraseFile: String?

        func execute() async throws {
            if let out, FileIO.exists(out) { throw VaultError(.badRequest, "\(out) already exists; refusing to overwrite it") }
            if out == nil, isatty(1) == 0 {
                throw VaultError(.badRequest, "standard output is not a terminal: the words are shown only on a terminal; pass --out FILE")
            }
            let file = try UserKeyFile.read(from: global.userKeyPath)
            let (keys, root) = try global.unlockWithRoot(file, passphraseFile: passphraseFile)
            let passphrase = try slip39.read(confirm: true)
            let groups = policy.groups
            let shares = try Slip39.split(secret: root, groupThreshold: policy.groupThreshold,
                                          groups: groups.map { ($0.threshold, $0.count) }, passphrase: passphrase)
            // Checked before anyone is handed a word: a minimal set gives this key back.
            var check = ShareCollector()
            for (i, m) in shares.joined().enumerated() { try check.add(m, label: "share \(i + 1)") }
            guard try Slip39.keyId(ofRoot: try Slip39.combine(mnemonics: try check.minimalSet(), passphrase: passphrase)) == file.keyId else {
                throw VaultError(.internalError, "the shares made do not give this key back; nothing was written")
            }
            // The sealed group first: if a peer does not take its share, nothing has been shown yet.
            if let g = sealGroup { try await sealToPeers(shares[g - 1], group: g) }
            let kept = shares.enumerated().filter { $0.offset + 1 != sealGroup }.map(\.element)
            if let out {
                try FileIO.writeNew(out, Array((kept.joined().joined(separator: "\n") + "\n").utf8), mode: 0o600)
                print("wrote \(count(kept.joined().count, "share")) in \(count(kept.count, "group")) to \(out) (mode 0600), one per line in group order"
                      + (sealGroup.map { " (group \($0) is with your peers)" } ?? ""))
            } else {
                try SharesScreen(groupThreshold: policy.groupThreshold, shares: shares, passphrase: slip39.isSet,
                                 sealed: sealGroup.map { ($0 - 1, toPeers) }).show()
            }
            print("these shares recover your key \(Fingerprint.of(thumbprint: file.keyId) ?? file.keyId)")
            try await recordPolicy(keys: keys)
        }

        /// Seals share i of `members` to peer `toPeers[i]`'s witness key and has vaultd leave each
        /// with its peer.
        func sealToPeers(_ members: [String], group: Int) async throws {
            let client = try global.client()
            let vault = try await client.vault()
            let peers = try await client.peers().peers
            var items: [AdminAPI.RecoverySharesInput.Item] = []
            for (i, name) in toPeers.enumerated() {
                guard let peer = peers.first(where: { $0.name == name }), let witnessKey = peer.witnessKey, peer.url != nil else {
                    throw VaultError(.badRequest, "no peer named \"\(TerminalText.escape(name))\" with a URL and a witness key (vault-cli peer list); nothing was shown or written")
                }
                let sealed = try SealedRecoveryShare.seal(mnemonic: members[i], vault: vault.origin, holder: peer.origin, group: group, member: i + 1,
                                                          witnessKey: witnessKey)
                items.append(.init(peer: name, share: String(decoding: sealed.json.serialized(), as: UTF8.self)))
            }
            do {
                let r = try await client.deliverRecoveryShares(items)
                print("group \(group): one share sealed to each of \(r.delivered.joined(separator: ", ")) and kept on their gateways")
            } catch let e as VaultError {
                throw VaultError(e.code, "\(e.message); nothing was shown or written: run the split again")
            }
        }

        func recordPolicy(keys: UserKeys) async throws {
            do {
                try await RecoveryCommand.record(global: global, keys: keys, policy: policy, passphrase: slip39.isSet)
            } catch let e as VaultError {
                eprint("the policy was NOT recorded in the ledger (\(e.message)); the shares are valid all the same. "
                       + "Once vaultd runs: vault-cli recovery record \(policy.arguments)\(slip39.isSet ? " --with-slip39-passphrase" : "")\n")
                if e.code != .daemonUnreachable { throw ExitCode(1) }
            }
        }
    }

    struct Record: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a split's policy (groups and thresholds) in the ledger, when `recovery split` could not reach vaultd.",
            discussion: "Example: vault-cli recovery record --group-threshold 2 --group 1of1 --group 2of3 --group 2of3")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var policy: PolicyOptions

        @Flag(help: "The split used a SLIP-0039 passphrase.")
        var withSlip39Passphrase = false

        @Option(help: "Read the key file's passphrase from this file instead of asking.")
        var passphraseFile: String?

        func execute() async throws {
            let keys = try global.unlock(passphraseFile: passphraseFile)
            try await RecoveryCommand.record(global: global, keys: keys, policy: policy, passphrase: withSlip39Passphrase)
        }
    }

    /// Records the policy and says where it went.
    static func record(global: GlobalOptions, keys: UserKeys, policy: PolicyOptions, passphrase: Bool) async throws {
        let r = try await global.client().recordRecoveryPolicy(groupThreshold: policy.groupThreshold, groups: policy.groups,
                                                               passphrase: passphrase, keys: keys)
        print("recorded the policy (groups and thresholds, no share): ledger entry #\(r.leafIndex) (recovery.policy) in checkpoint \(r.checkpointSize)")
    }
}
