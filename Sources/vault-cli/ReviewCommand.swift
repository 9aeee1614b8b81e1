import ArgumentParser
import EdgeVault
#if canImport(Glibc)
import Glibc
#endif

struct ReviewCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Review pending requests one by one: approve, deny, skip or show details.",
        discussion: """
            For each request: the organization as it names itself, its fingerprint, whether it is \
            new, its track record from the ledger, the streams and whole-bucket range (and whether \
            it is ongoing), what that covers today, the purpose and the expiry. Your passphrase is \
            asked once. With --watch the prompt waits for new requests (Ctrl-D or q to stop).
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Keep waiting for new requests.")
    var watch = false

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func execute() async throws {
        let client = try global.client()
        let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
        let maker = DecisionMaker(client: client, keys: keys)
        let reviewer = Reviewer(client: client)
        let color = isatty(1) != 0
        let bold: (String) -> String = { color ? "\u{1B}[1m\($0)\u{1B}[0m" : $0 }
        let warn: (String) -> String = { color ? "\u{1B}[1;33m\($0)\u{1B}[0m" : $0 }
        var handled = Set<String>()
        var version = -1
        while true {
            let pending = try await client.requests(status: "pending").filter { !handled.contains($0.org + " " + $0.id) }
            if pending.isEmpty && !watch {
                print(handled.isEmpty ? "no pending requests" : "no more pending requests")
                return
            }
            for request in pending {
                handled.insert(request.org + " " + request.id)
                let screen = try await reviewer.screen(for: request)
                print(screen.render(bold: bold, warn: warn), terminator: "")
                decision: while true {
                    print("[a]pprove  [d]eny  [s]kip  [v]iew details  [q]uit › ", terminator: "")
                    fflush(nil)
                    guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return }
                    switch answer {
                    case "a", "approve":
                        let r = try await maker.decide(request, kind: .grant)
                        print("granted \(r.id): \(r.segments) segment key(s) sealed to the organization; ledger entry #\(r.leafIndex)")
                        break decision
                    case "d", "deny":
                        print("reason (optional, shown to the organization) › ", terminator: "")
                        fflush(nil)
                        let reason = readLine()?.trimmingCharacters(in: .whitespaces)
                        let r = try await maker.decide(request, kind: .deny, reason: reason?.isEmpty == false ? reason : nil)
                        print("denied \(r.id); ledger entry #\(r.leafIndex)")
                        break decision
                    case "s", "skip", "":
                        print("skipped \(request.id)")
                        break decision
                    case "v", "view", "details":
                        print(request.jws)
                    case "q", "quit":
                        return
                    default:
                        print("answer a, d, s, v or q")
                    }
                }
            }
            guard watch else { continue }
            print("waiting for new requests… (Ctrl-C to stop)")
            fflush(nil)
            version = try await client.waitForRequests(after: version)
        }
    }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

extension Set where Element == Character {
    static var whitespaces: Set<Character> { [" ", "\t", "\r"] }
}
