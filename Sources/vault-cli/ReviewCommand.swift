import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal
#if canImport(Glibc)
import Glibc
#endif

struct ReviewCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Review pending requests one by one: approve, deny, skip or show details.",
        discussion: """
            For each request: the organization as it names itself (not verified), its key's \
            fingerprint, warnings (a key you never granted anything, another key using the same \
            name or contact, a key that renamed itself), its track record from the ledger, the \
            streams and whole-bucket range (and whether it is ongoing), what that covers today, \
            its purpose in its own words, the expiry, and in plain words what approving means. \
            Keys typed before a screen is fully shown are ignored; approving asks you to confirm \
            with "yes". Your passphrase is asked once. With --watch the prompt waits for new \
            requests; q, Ctrl-D or Ctrl-C stop it.

            Example: vault-cli review --watch
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Keep waiting for new requests.")
    var watch = false

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func execute() async throws {
        let client = try global.client()
        // Cheap checks before the passphrase: the daemon answers, and something is pending.
        if try await client.requests(status: .pending).isEmpty && !watch {
            print("no pending requests")
            return
        }
        let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
        let maker = DecisionMaker(client: client, keys: keys)
        let reviewer = Reviewer(client: client)
        let input = TerminalInput()
        let (bold, warn) = emphasis()
        var handled = Set<String>()
        var version = -1
        while true {
            let pending = try await client.requests(status: .pending).filter { !handled.contains($0.org + " " + $0.id) }
            if pending.isEmpty && !watch {
                print(handled.isEmpty ? "no pending requests" : "no more pending requests")
                return
            }
            for request in pending {
                handled.insert(request.org + " " + request.id)
                let screen = try await reviewer.screen(for: request)
                writeRaw(screen.render(bold: bold, warn: warn))
                await input.settleAfterDrawing()
                decision: while true {
                    guard let answer = input.ask("[a]pprove  [d]eny  [s]kip  [v]iew details  [q]uit › ")?.lowercased() else { return }
                    switch answer {
                    case "a", "approve":
                        guard let confirmation = input.ask(screen.confirmation(bold: bold, warn: warn)) else { return }
                        guard confirmation.lowercased() == "yes" else {
                            print("not approved")
                            continue decision
                        }
                        let r = try await maker.decide(request, kind: .grant)
                        print(grantedLine(r, compute: screen.access.isCompute))
                        try await runOnceJob(screen.access, org: request.org, client: client, keys: keys, choice: .ask, input: input)
                        break decision
                    case "d", "deny":
                        let reason = input.ask("reason (optional, shown to the organization) › ", fresh: false) ?? ""
                        if let problem = UntrustedText.problem(with: reason, field: "the reason", limits: .reason) {
                            print(problem + "; not denied")
                            continue decision
                        }
                        let r = try await maker.decide(request, kind: .deny, reason: reason.isEmpty ? nil : UntrustedText.normalized(reason))
                        print("denied \(r.id); ledger entry #\(r.leafIndex)")
                        break decision
                    case "s", "skip", "":
                        print("skipped \(request.id)")
                        break decision
                    case "v", "view", "details":
                        print(details(request, vault: try? await client.vault()))
                        if let c = screen.compute {
                            print("program      \(c.module), \(c.sizeText)")
                            print("  imports    " + (c.imports.isEmpty ? "none" : c.imports.joined(separator: ", ")))
                            print("  exports    " + (c.exports.isEmpty ? "none" : c.exports.joined(separator: ", ")))
                            print("  other requests naming it: " + (c.otherRequests.isEmpty ? "none" : c.otherRequests.joined(separator: ", ")))
                        }
                        print("([r]aw shows the JWS exactly as received)")
                    case "r", "raw":
                        print(request.jws)
                    case "q", "quit":
                        return
                    default:
                        print("answer a, d, s, v, r or q")
                    }
                }
            }
            guard watch else { continue }
            // One wait (the keyboard watched throughout) until a request not yet shown arrives.
            let (after, seen) = (version, handled)
            switch try await input.waitWatchingForQuit(banner: "waiting for new requests… (q, Ctrl-D or Ctrl-C to stop)\n", { () async throws -> Int in
                var v = after
                while true {
                    v = try await client.waitForRequests(after: v)
                    if try await client.requests(status: .pending).contains(where: { !seen.contains($0.org + " " + $0.id) }) { return v }
                }
            }) {
            case .done(let v): version = v
            case .quit:
                print("stopped")
                return
            }
        }
    }

    /// The request exactly as the organization signed it, decoded: who signed it (key id and
    /// fingerprint, the signature's protected header), when it arrived, and every payload field
    /// (printed through the escaping `print`). `[r]aw` after it prints the JWS as received.
    func details(_ request: AdminAPI.RequestSummary, vault: AdminAPI.VaultInfo?) -> String {
        var lines = ["signed by    \(Fingerprint.of(thumbprint: request.org) ?? "?") (key id \(request.org))",
                     "received     \(request.received)"]
        if let vault { lines.append("your key     \(vault.userFingerprint) (key id \(vault.userKeyId)): a grant is co-signed by it") }
        if let jws = try? JWS(json: Array(request.jws.utf8)) {
            for s in jws.signatures {
                var header = s.header
                if case .object(var h) = header, case .object(var jwk)? = h["jwk"] {
                    jwk["x"] = jwk["x"].map { .string(($0.stringValue ?? "") + " (the key above)") }
                    h["jwk"] = .object(jwk)
                    header = .object(h)
                }
                lines.append("signature    " + String(decoding: header.serialized(), as: UTF8.self))
            }
            if case .object(let o)? = try? JSONValue.parse(jws.payload) {
                lines.append("payload (the organization's words and claims):")
                for k in o.keys.sorted() {
                    let v = o[k]!
                    lines.append("  " + k.padding(11) + (v.stringValue ?? String(decoding: v.serialized(), as: UTF8.self)))
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }

    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

extension Set where Element == Character {
    static var whitespaces: Set<Character> { [" ", "\t", "\r"] }
}
