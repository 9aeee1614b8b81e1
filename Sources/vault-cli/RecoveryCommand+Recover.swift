import ArgumentParser
import EdgeVaultCore
import EdgeVaultClient
import EdgeVaultRecovery
import EdgeVaultTerminal

extension RecoveryCommand {
    struct Verify: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that shares are a complete, consistent set and which key they recover, without showing the secret.",
            discussion: """
                Every share given is used in at least one check (digests at both levels). When your key file is \
                there, the key the shares recover is compared with it.

                Example: vault-cli recovery verify --shares shares.txt
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var slip39: Slip39PassphraseOptions

        @Option(help: "Read the shares from this file (one per line) instead of typing them.")
        var shares: String?

        func execute() async throws {
            let collector = try ShareInput.collect(file: shares)
            let set = try collector.verifyAll()
            print("\(count(collector.count, "share")) checked: a consistent set (\(set.groupThreshold) of \(count(set.groupCount, "group")) needed; "
                  + collector.progress.map { "group \($0.groupIndex + 1): \(count($0.have, "share")), \($0.need) needed" }.joined(separator: ", ") + ")")
            let keyId = try Slip39.keyId(ofRoot: try Slip39.combine(mnemonics: try collector.minimalSet(), passphrase: try slip39.read(confirm: false)))
            let fingerprint = Fingerprint.of(thumbprint: keyId) ?? keyId
            guard let file = try? UserKeyFile.read(from: global.userKeyPath) else {
                print("these shares recover the key \(fingerprint) (no key file at \(global.userKeyPath) to compare with)")
                return
            }
            guard file.keyId == keyId else {
                throw VaultError(.recoveryInvalid, "these shares recover the key \(fingerprint), not your key \(Fingerprint.of(thumbprint: file.keyId) ?? file.keyId)"
                    + (slip39.isSet ? " (is the SLIP-0039 passphrase right?)" : " (were they split with a SLIP-0039 passphrase? pass --slip39-passphrase)"))
            }
            print("these shares recover your key \(fingerprint)")
        }
    }

    struct Recover: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild your key file from enough shares, under a new passphrase.",
            discussion: """
                Type the shares at the prompt (each is checked as you type it: a wrong word is named by its \
                position and you type that share again), or pass --shares FILE. The new key file has the same \
                keys and key id as the lost one. When vaultd is reachable, the key is checked to be this vault's.

                Example: vault-cli recovery recover --new-key ~/.config/edgevault/user.key
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var slip39: Slip39PassphraseOptions

        @Option(help: "Read the shares from this file (one per line) instead of typing them.")
        var shares: String?

        @Option(help: "Where to write the new key file (default: the key file path); never overwrites.")
        var newKey: String?

        @Option(help: "Argon2id cost: moderate (256 MiB, default) or interactive (64 MiB, for small boards).")
        var kdf: InitCommand.KDFProfile = .moderate

        @Option(help: "Read the new passphrase from this file instead of asking twice.")
        var passphraseFile: String?

        func execute() async throws {
            let target = FileIO.absolute(newKey ?? global.userKeyPath)
            if FileIO.exists(target) { throw VaultError(.keyFileExists, "a key file already exists at \(target); refusing to overwrite it") }
            let collector = try ShareInput.collect(file: shares)
            let root = try Slip39.combine(mnemonics: try collector.minimalSet(), passphrase: try slip39.read(confirm: false))
            let keyId = try Slip39.keyId(ofRoot: root)
            let fingerprint = Fingerprint.of(thumbprint: keyId) ?? keyId
            if let vault = try? await global.client().vault(), vault.userKeyId != keyId {
                throw VaultError(.keyMismatch, "these shares recover the key \(fingerprint), but this vault's key is \(vault.userFingerprint)"
                    + (slip39.isSet ? " (is the SLIP-0039 passphrase right?)" : " (were they split with a SLIP-0039 passphrase?)") + "; nothing was written")
            }
            print("these shares recover the key \(fingerprint); choose a new passphrase for it")
            let passphrase = try Passphrase.read(prompt: "New passphrase: ", confirm: passphraseFile == nil, file: passphraseFile, new: true)
            let cost: KeyDerivation.PasswordCost = kdf == .moderate ? .moderate : .interactive
            let (file, _) = try UserKeyFile.create(root: root, passphrase: passphrase, cost: cost)
            try file.write(to: target)
            print("wrote the key file \(target) (mode 0600): key id \(file.keyId), fingerprint \(fingerprint)")
        }
    }
}
