import EdgeVaultCore
import EdgeVaultClient
import Foundation
import Testing

@Suite("End to end: key recovery from SLIP-0039 word shares", .serialized)
struct RecoveryEndToEndTests {
    static let newPassphrase = "a new passphrase for the recovered key"

    /// The mnemonics of a `--out` file, one per line.
    static func shares(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Whether `text` holds any three consecutive words of any share (base64 and hex never hold
    /// a space, so this cannot match by chance).
    static func holdsWords(_ text: String, of shares: [String]) -> Bool {
        shares.contains { share in
            let words = share.split(separator: " ")
            return (0...(words.count - 3)).contains { text.contains(words[$0..<($0 + 3)].joined(separator: " ")) }
        }
    }

    /// `vault-cli recovery recover --new-key` in a PTY with `shares` typed one per prompt and
    /// `newPassphrase` twice; true when it wrote the key file and exited 0.
    static func recoverByTyping(_ v: VaultFixture, shares: [String]) async throws -> Bool {
        let session = try PTYSession(try Binaries.path("vault-cli"), ["recovery", "recover", "--new-key", v.keyFile, "--kdf", "interactive"] + v.globalArgs,
                                     environment: v.cliEnvironment)
        for (i, share) in shares.enumerated() {
            guard await session.expect("share \(i + 1) › ") else { return false }
            session.type(share + "\r")
        }
        guard await session.expect("New passphrase: ") else { return false }
        session.type(newPassphrase + "\r")
        guard await session.expect("Repeat passphrase: ") else { return false }
        session.type(newPassphrase + "\r")
        guard await session.expect("wrote the key file") else { return false }
        return await session.waitForExit() == 0
    }

    /// The default split's file: group 1 (1 share), group 2 (3), group 3 (3).
    static func splitDefault(_ v: VaultFixture, to path: String) async throws -> RunResult {
        try await v.cli(["recovery", "split", "--out", path, "--passphrase-file", v.passphraseFile])
    }

    @Test("split --out writes 7 shares (0600, never overwritten) and a recovery.policy leaf with groups and thresholds only; with the key file deleted, words typed in a PTY (a wrong word named by position, that share typed again) rebuild a key file with the same key id that approves a request and verifies the log")
    func splitThenRecoverByTyping() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        let original = try UserKeyFile.read(from: v.keyFile)

        // No daemon: the shares are written all the same, and the command says how to record the policy.
        let file = v.root + "/shares.txt"
        let offline = try await Self.splitDefault(v, to: file)
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stderr.contains("the policy was NOT recorded")
                && offline.stderr.contains("vault-cli recovery record --group-threshold 2 --group 1of1 --group 2of3 --group 2of3"), "\(offline.stderr)")
        #expect(offline.stdout.contains("these shares recover your key \(Fingerprint.of(thumbprint: original.keyId)!)"))
        let shares = try Self.shares(file)
        #expect(shares.count == 7 && shares.allSatisfy { $0.split(separator: " ").count == 33 })
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600)
        let again = try await Self.splitDefault(v, to: file)
        #expect(again.status == 1 && again.stderr.contains("refusing to overwrite"))
        #expect(try Self.shares(file) == shares)

        try await v.startDaemon()
        let record = try await v.cli(["recovery", "record", "--passphrase-file", v.passphraseFile])
        #expect(record.status == 0 && record.stdout.contains("(recovery.policy)"), "\(record.stderr)")
        let online = try await v.cli(["recovery", "split", "--group-threshold", "1", "--group", "2of2", "--out", v.root + "/other.txt",
                                      "--passphrase-file", v.passphraseFile])
        #expect(online.status == 0 && online.stdout.contains("(recovery.policy)"), "\(online.stderr)")
        let otherShares = try Self.shares(v.root + "/other.txt")

        let show = try await v.cli(["log", "show", "--from-index", "0", "--limit", "1000", "--json"])
        #expect(show.status == 0)
        let policies = try show.stdout.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
            .filter { $0["type"]?.stringValue == "recovery.policy" }
        #expect(policies.count == 2)
        #expect(policies.first?["groupThreshold"]?.numberText == "2" && policies.last?["groupThreshold"]?.numberText == "1")
        #expect(policies.first?["groups"].map { String(decoding: $0.serialized(), as: UTF8.self) } == #"[{"count":1,"threshold":1},{"count":3,"threshold":2},{"count":3,"threshold":2}]"#)
        if case .object(let o)? = policies.first {
            #expect(Set(o.keys) == ["type", "time", "salt", "groupThreshold", "groups", "passphrase", "policySha256", "signedAt"])
        }
        #expect(!Self.holdsWords(show.stdout, of: shares + otherShares), "no word of a share in any leaf")
        #expect(!Self.holdsWords(v.daemonLog?.text ?? "", of: shares + otherShares), "nor in the daemon's log")

        // The key file is lost; the person types shares of groups 2 and 1.
        try FileManager.default.removeItem(atPath: v.keyFile)
        let session = try PTYSession(try Binaries.path("vault-cli"), ["recovery", "recover", "--new-key", v.keyFile, "--kdf", "interactive"] + v.globalArgs,
                                     environment: v.cliEnvironment)
        #expect(await session.expect("share 1 › "))
        var words = shares[1].split(separator: " ").map(String.init)
        words[6] = words[6] == "academic" ? "acid" : "academic"
        session.type(words.joined(separator: " ") + "\r")
        #expect(await session.expect("type that share again"))
        #expect(session.output.text.contains("word 7"), "the prompt names the wrong word's position")
        #expect(await session.expect("share 1 › ", after: "type that share again"))
        session.type(shares[1] + "\r")
        #expect(await session.expect("group 2: 1 of 2 shares"))
        #expect(await session.expect("share 2 › "))
        session.type(shares[3] + "\r")
        #expect(await session.expect("group 2: 2 of 2 shares"))
        #expect(await session.expect("share 3 › "))
        session.type(shares[0] + "\r")
        #expect(await session.expect("enough shares"))
        #expect(await session.expect("New passphrase: "))
        session.type(Self.newPassphrase + "\r")
        #expect(await session.expect("Repeat passphrase: "))
        session.type(Self.newPassphrase + "\r")
        #expect(await session.expect("wrote the key file"))
        #expect(await session.waitForExit() == 0)
        #expect(!session.output.text.contains(Self.newPassphrase), "the new passphrase is not echoed")

        let recovered = try UserKeyFile.read(from: v.keyFile)
        #expect(recovered.keyId == original.keyId && recovered.signingKey == original.signingKey && recovered.boxKey == original.boxKey)
        #expect(recovered.ciphertext != original.ciphertext, "under a new passphrase")
        let newPassFile = v.root + "/new-passphrase"
        try Data((Self.newPassphrase + "\n").utf8).write(to: URL(fileURLWithPath: newPassFile))
        #expect(try await v.cli(["recovery", "verify", "--shares", file]).stdout.contains("these shares recover your key"))

        // The recovered key works: it approves a request, and the log verifies.
        #expect(try await v.cli(["stream", "add", "home/temp"]).status == 0)
        let now = Timestamp.now()
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"home/temp\",\"t\":\(now - 7_200_000),\"v\":1}\n".utf8)).status == 0)
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        let request = AccessRequest(vault: try await o.origin(), id: "after-recovery", orgName: "Study", orgContact: "", streams: ["home/temp"],
                                    from: now - 86_400_000, to: now, purpose: "test", deliveryKey: o.keys.delivery.publicKey,
                                    expires: now + 86_400_000, created: now)
        #expect(try await o.submit(request).status == "pending")
        let approve = try await v.cli(["approve", "after-recovery", "--passphrase-file", newPassFile])
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(try await o.status(id: "after-recovery").status == "granted")
        let verify = try await v.cli(["log", "verify"])
        #expect(verify.status == 0, "\(verify.stderr)")
        try await v.stopDaemon()
    }

    @Test("recovery verify passes for a good set and names what is missing for too few shares; split refuses a non-terminal stdout; the shamir-mnemonic reference recovers the key file's root secret from the --out file")
    func verifyAndReference() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        let keyId = try UserKeyFile.read(from: v.keyFile).keyId
        let refused = try await v.cli(["recovery", "split", "--passphrase-file", v.passphraseFile])
        #expect(refused.status == 1 && refused.stderr.contains("not a terminal"), "\(refused.stderr)")

        let file = v.root + "/shares.txt"
        #expect(try await Self.splitDefault(v, to: file).status == 0)
        let shares = try Self.shares(file)
        let good = try await v.cli(["recovery", "verify", "--shares", file])
        #expect(good.status == 0 && good.stdout.contains("7 shares checked: a consistent set")
                && good.stdout.contains("these shares recover your key \(Fingerprint.of(thumbprint: keyId)!)"), "\(good.stdout)\(good.stderr)")

        let few = v.root + "/few.txt"
        try Data((shares[0] + "\n" + shares[4] + "\n").utf8).write(to: URL(fileURLWithPath: few))
        let short = try await v.cli(["recovery", "verify", "--shares", few])
        #expect(short.status == 1 && short.stderr.contains("not enough shares: 2 groups needed, 1 complete; group 3: 1 of 2 shares"), "\(short.stderr)")

        // A split under a SLIP-0039 passphrase: without it the shares recover another key, which verify names.
        let slipPass = v.root + "/slip39-passphrase"
        try Data("paper and pencil\n".utf8).write(to: URL(fileURLWithPath: slipPass))
        let withPass = v.root + "/with-passphrase.txt"
        let split = try await v.cli(["recovery", "split", "--group-threshold", "1", "--group", "2of3", "--out", withPass,
                                     "--slip39-passphrase-file", slipPass, "--passphrase-file", v.passphraseFile])
        #expect(split.status == 0 && split.stderr.contains("--with-slip39-passphrase"), "\(split.stderr)")
        let without = try await v.cli(["recovery", "verify", "--shares", withPass])
        #expect(without.status == 1 && without.stderr.contains("not your key \(Fingerprint.of(thumbprint: keyId)!)")
                && without.stderr.contains("SLIP-0039 passphrase"), "\(without.stderr)")
        let with = try await v.cli(["recovery", "verify", "--shares", withPass, "--slip39-passphrase-file", slipPass])
        #expect(with.status == 0 && with.stdout.contains("these shares recover your key"), "\(with.stderr)")

        // recover never overwrites a key file, and asks nothing before saying so.
        let overwrite = try await v.cli(["recovery", "recover", "--shares", file, "--new-key", v.keyFile, "--passphrase-file", v.passphraseFile])
        #expect(overwrite.status == 1 && overwrite.stderr.contains("refusing to overwrite"), "\(overwrite.stderr)")

        // An independent implementation: Trezor's shamir-mnemonic combines group 1 and two of group 2.
        let venv = repositoryRoot.path + "/.build/slip39-oracle-venv/bin/python"
        if !FileManager.default.isExecutableFile(atPath: venv) {
            #expect(try await run(repositoryRoot.path + "/scripts/slip39-oracle-venv", []).status == 0)
        }
        let program = "import sys, shamir_mnemonic as s\nm = [l.strip() for l in sys.stdin if l.strip()]\nprint(s.combine_mnemonics([m[0], m[1], m[3]]).hex())"
        let oracle = try await run(venv, ["-c", program], stdin: Array((shares.joined(separator: "\n") + "\n").utf8))
        #expect(oracle.status == 0, "\(oracle.stderr)")
        var root = try #require(Encoding.fromHex(oracle.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(root.count == 32)
        #expect(UserKeys(root: SecureBytes(wiping: &root)).publicKeys.keyId == keyId, "the reference recovers exactly the key file's root secret")
    }

    @Test("split on a terminal shows one group per screen after an explanation, waits for Enter, clears the screen and its scrollback after each group, and shows 33 numbered words per share")
    func splitOnATerminal() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        let session = try PTYSession(try Binaries.path("vault-cli"), ["recovery", "split", "--passphrase-file", v.passphraseFile] + v.globalArgs,
                                     environment: v.cliEnvironment)
        #expect(await session.expect("Press Enter to show group 1"))
        #expect(session.output.text.contains("Whoever gathers enough shares can open everything in your vault"))
        session.type("\r")
        #expect(await session.expect("this share alone stands for the group"))
        #expect(await session.expect("Press Enter to clear the screen and show group 2"))
        session.type("\r")
        #expect(await session.expect("any 2 of these 3 shares stand for the group"))
        #expect(await session.expect("Share 3 of 3, group 2:"))
        #expect(await session.expect("show group 3", after: "Share 3 of 3, group 2:"))
        session.type("\r")
        #expect(await session.expect("Share 3 of 3, group 3:"))
        #expect(await session.expect("Press Enter to clear the screen › ", after: "Share 3 of 3, group 3:"))
        session.type("\r")
        #expect(await session.expect("All 3 groups shown"))
        #expect(await session.expect("the policy was NOT recorded"))
        #expect(await session.waitForExit() == 0)
        let text = session.output.text
        #expect(text.components(separatedBy: "\u{1B}[2J\u{1B}[3J").count - 1 == 5, "cleared before the explanation, before each group and at the end")
        #expect(text.contains(" 33 "), "words are numbered up to 33")
    }
}
