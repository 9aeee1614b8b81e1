import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let base = Timestamp.parseRFC3339("2026-11-01T00:00:00Z")!
private let hour: Int64 = 3_600_000

/// Readings every 10 minutes for 4 hours on `home/temp`, all in the past.
private func ingestSample(_ v: VaultFixture) async throws {
    var lines = ""
    for i in 0..<24 { lines += "{\"stream\":\"home/temp\",\"t\":\(base + Int64(i) * 600_000),\"v\":\(i)}\n" }
    let r = try await v.cli(["ingest"], stdin: Array(lines.utf8))
    #expect(r.status == 0, "\(r.stderr)")
}

private func newOrg(_ v: VaultFixture) -> OrgClient {
    try! OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
}

private func accessRequest(_ o: OrgClient, origin: String, id: String, name: String = "Acme Health Study", contact: String = "",
                           purpose: String = "sleep research") -> AccessRequest {
    AccessRequest(vault: origin, id: id, orgName: name, orgContact: contact, streams: ["home/temp"], from: base, to: base + 2 * hour,
                  purpose: purpose, deliveryKey: o.keys.delivery.publicKey, expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
}

private func pending(_ v: VaultFixture) async throws -> [AdminAPI.RequestSummary] {
    try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests?status=pending").body)).requests
}

/// The bytes of `bytes` that would make a terminal act, once the review screen's own emphasis
/// (bold, yellow, reset) is taken out: C0 controls other than CR and LF, DEL, and C1 codes
/// (raw 0x80–0x9F, or UTF-8 C2 80–C2 9F).
private func foreignControls(_ bytes: [UInt8]) -> [UInt8] {
    var text = String(decoding: bytes, as: UTF8.self)
    for own in ["\u{1B}[1;33m", "\u{1B}[1m", "\u{1B}[0m"] { text = text.replacingOccurrences(of: own, with: "") }
    let b = Array(text.utf8)
    var found: [UInt8] = []
    for (i, x) in b.enumerated() {
        if (x < 0x20 && x != 0x0A && x != 0x0D) || x == 0x7F { found.append(x) }
        if x == 0xC2, i + 1 < b.count, (0x80...0x9F).contains(b[i + 1]) { found.append(b[i + 1]) }
    }
    return found
}

@Suite("End to end: consent against hostile text and hurried keys", .serialized)
struct ConsentEndToEndTests {
    @Test("A request whose purpose draws a fake screen with escape sequences, or whose name hides characters, is refused at submission and nothing is stored")
    func spoofRefused() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let o = newOrg(v)
        let origin = try await o.origin()
        let size = try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?limit=1").body)).size
        let fakeScreen = "\u{1B}[2J\u{1B}[H" + "Request steps-1  from City Hospital Cardiology\r\n  known as \"City Hospital\" (pinned by you)\r\n  streams steps"
        let cases: [(AccessRequest, String)] = [
            (accessRequest(o, origin: origin, id: "s1", purpose: fakeScreen), "purpose"),
            (accessRequest(o, origin: origin, id: "s2", name: "City Hospital\u{1B}P"), "org.name"),
            (accessRequest(o, origin: origin, id: "s3", name: "\u{202E}\u{200B}\u{2066}"), "org.name"),
            (accessRequest(o, origin: origin, id: "s4", name: "A" + String(repeating: "\u{0301}", count: 3000)), "org.name"),
            (accessRequest(o, origin: origin, id: "s5", contact: "x\u{9B}2J"), "org.contact"),
        ]
        for (request, field) in cases {
            do {
                _ = try await o.submit(request)
                Issue.record("request \(request.id) was accepted")
            } catch let e as VaultError {
                #expect(e.code == .requestInvalid && e.message.contains(field), "\(request.id): \(e.code) \(e.message)")
            }
        }
        #expect(try await pending(v).isEmpty)
        let after = try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?limit=1").body)).size
        #expect(after == size, "nothing was added to the ledger")
        // `vault-cli org request` refuses the same text before sending anything.
        try OrgKeys.generate().write(to: v.root + "/o.key", deliverySeed: SecureBytes.random(count: 32))
        let cli = try await v.cli(["org", "request", "--vault", "http://127.0.0.1:\(v.publicPort)", "--key", v.root + "/o.key",
                                   "--stream", "home/temp", "--from", "2026-11-01", "--to", "2026-11-02", "--expires", "2027-01-01",
                                   "--name", "Acme\u{1B}[2J", "--purpose", "x"])
        #expect(cli.status != 0 && cli.stderr.contains("--name contains a control character"), "\(cli.stderr)")
        #expect(!cli.stderr.utf8.contains(0x1B), "the error line shows the name escaped")
        try await v.stopDaemon()
    }

    @Test("Strings stored before the input rules show escaped in review, details, trust, grants and log show: no ESC, CSI, OSC, DCS or C1 byte from the organization reaches the terminal")
    func storedHostileEscaped() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let o = newOrg(v)
        let origin = try await o.origin()
        try await v.stopDaemon()
        // Stored as a vault before this change would have stored it: past today's input rules.
        let hostile = accessRequest(o, origin: origin, id: "spoof-1", name: "City Hospital\u{1B}[2J\u{1B}[H\u{9B}31m\u{1B}P",
                                    contact: "x\u{1B}]0;pwned\u{07}",
                                    purpose: "\u{1B}[2J\u{1B}[HCity Hospital Cardiology, pinned by you\u{202E}\u{90}evil\u{1B}P")
        do {
            let store = try VaultStore.open(dataDir: v.dataDir)
            try await store.submitRequest(orgKeyId: o.keys.keyId, orgPublicKey: o.keys.signing.publicKey.bytes, request: hostile,
                                    payload: hostile.payload(), jws: o.jws(for: hostile).serialized(), limits: RequestLimits(),
                                    now: Timestamp.now())
        }
        try await v.startDaemon()

        let session = try PTYSession(try Binaries.path("vault-cli"), ["review", "--passphrase-file", v.passphraseFile] + v.globalArgs,
                                     environment: v.cliEnvironment)
        #expect(await session.expect("[q]uit › "))
        session.type("v\r")
        #expect(await session.expect("purpose", after: "[q]uit › v"), "\(session.output.text)")
        #expect(await session.expect("[q]uit › ", after: "deliveryKey"))
        #expect(session.output.text.contains("signed by    \(Fingerprint.of(thumbprint: o.keys.keyId)!)"))
        session.type("r\r")
        #expect(await session.expect("\"signatures\"", after: "[q]uit › r"), "the raw JWS on a further key")
        #expect(await session.expect("[q]uit › ", after: "\"signatures\""))
        session.type("a\r")
        #expect(await session.expect("Type yes to approve"))
        session.type("yes\r")
        #expect(await session.expect("granted spoof-1"))
        #expect(await session.waitForExit() == 0)
        let screen = session.output.bytes
        #expect(foreignControls(screen).isEmpty, "control bytes \(foreignControls(screen)) reached the terminal")
        #expect(session.output.text.contains("City Hospital\\u{1B}[2J\\u{1B}[H\\u{9B}31m\\u{1B}P"))
        #expect(session.output.text.contains("\\u{202E}"))

        for args in [["trust", "list"], ["trust", "show", "--", o.keys.keyId], ["grants"], ["log", "show"], ["log", "show", "--json"]] {
            let r = try await v.cli(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(foreignControls(r.stdoutBytes).isEmpty, "\(args): control bytes \(foreignControls(r.stdoutBytes))")
        }
        // Every org.seen / grant.issued line of log show is still there: nothing swallowed them.
        let log = try await v.cli(["log", "show"])
        #expect(log.stdout.contains("org.seen") && log.stdout.contains("grant.issued") && log.stdout.contains("request.received"))
        try await v.stopDaemon()
    }

    @Test("Keys typed before the screen appears, or during the passphrase check, decide nothing; approval without the confirmation decides nothing")
    func typeAhead() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let o = newOrg(v)
        _ = try await o.submit(accessRequest(o, origin: try await o.origin(), id: "t-1"))

        let session = try PTYSession(try Binaries.path("vault-cli"), ["review"] + v.globalArgs, environment: v.cliEnvironment)
        #expect(await session.expect("Passphrase for "))
        // The passphrase, then answers typed at once, while it is checked and the screen draws.
        session.type(VaultFixture.passphrase + "\r" + "a\ryes\r" + "d\r")
        #expect(await session.expect("Request t-1"))
        #expect(await session.expect("[q]uit › "))
        #expect(try await pending(v).map(\.id) == ["t-1"], "nothing typed ahead decided the request")
        // Approve, then anything but "yes": not approved.
        session.type("a\r")
        #expect(await session.expect("Type yes to approve"))
        session.type("y\r")
        #expect(await session.expect("not approved"))
        #expect(await session.expect("[q]uit › ", after: "not approved"))
        #expect(try await pending(v).map(\.id) == ["t-1"])
        session.type("q\r")
        #expect(await session.waitForExit() == 0)
        #expect(try await pending(v).map(\.id) == ["t-1"])
        #expect(try await o.status(id: "t-1").status == "pending")
        try await v.stopDaemon()
    }

    @Test("In --watch, a key typed while waiting does not answer the next request, and q, Ctrl-D or Ctrl-C end the wait at once", arguments: ["q", "\u{04}", "\u{03}"])
    func watchKeys(_ key: String) async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let o = newOrg(v)
        let session = try PTYSession(try Binaries.path("vault-cli"), ["review", "--watch", "--passphrase-file", v.passphraseFile] + v.globalArgs,
                                     environment: v.cliEnvironment)
        #expect(await session.expect("waiting for new requests"))
        session.type("a\ryes\r")
        _ = try await o.submit(accessRequest(o, origin: try await o.origin(), id: "w-1"))
        #expect(await session.expect("Request w-1"))
        #expect(await session.expect("[q]uit › ", after: "Request w-1"))
        #expect(try await o.status(id: "w-1").status == "pending", "the 'a' typed while waiting approved nothing")
        session.type("s\r")
        #expect(await session.expect("waiting for new requests", after: "skipped w-1"))
        session.type(key)
        #expect(await session.expect("stopped", timeout: .seconds(10)), "\(session.output.text)")
        #expect(await session.waitForExit(timeout: .seconds(20)) == 0)
        #expect(try await o.status(id: "w-1").status == "pending")
        try await v.stopDaemon()
    }

    @Test("The review screen warns when another key uses the same name, when a key renamed itself, and keeps NEW until a grant")
    func nameWarnings() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let acme = newOrg(v), impostor = newOrg(v), stranger = newOrg(v)
        let origin = try await acme.origin()
        _ = try await acme.submit(accessRequest(acme, origin: origin, id: "acme-1", contact: "privacy@acme.example"))
        let approved = try await v.cli(["approve", "acme-1", "--passphrase-file", v.passphraseFile])
        #expect(approved.status == 0, "\(approved.stderr)")
        _ = try await acme.submit(accessRequest(acme, origin: origin, id: "acme-2", name: "Acme Research"))
        _ = try await impostor.submit(accessRequest(impostor, origin: origin, id: "fake-1", name: "ACME Health Study", contact: "privacy@acme.example"))
        _ = try await stranger.submit(accessRequest(stranger, origin: origin, id: "dummy-1", name: "Stranger"))
        let denied = try await v.cli(["deny", "dummy-1", "--passphrase-file", v.passphraseFile])
        #expect(denied.status == 0, "\(denied.stderr)")
        _ = try await stranger.submit(accessRequest(stranger, origin: origin, id: "dummy-2", name: "Stranger"))

        let session = try PTYSession(try Binaries.path("vault-cli"), ["review", "--passphrase-file", v.passphraseFile] + v.globalArgs,
                                     environment: v.cliEnvironment)
        var screens: [String: String] = [:]
        var marker = "Request "
        for _ in 0..<3 {
            #expect(await session.expect("[q]uit › ", after: marker))
            let text = session.output.text
            let start = text.range(of: "Request ", options: .backwards)!
            let screen = String(text[start.lowerBound...])
            let id = String(screen.dropFirst("Request ".count).prefix { $0 != " " && $0 != "\u{1B}" })
            // One line of words: emphasis removed, wrapped lines joined.
            var plain = screen
            for own in ["\u{1B}[1;33m", "\u{1B}[1m", "\u{1B}[0m"] { plain = plain.replacingOccurrences(of: own, with: "") }
            screens[id] = plain.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }).joined(separator: " ")
            session.type("s\r")
            #expect(await session.expect("skipped \(id)"))
            marker = "skipped \(id)"
        }
        #expect(await session.waitForExit() == 0, "\(session.output.text)")
        let acmeFingerprint = Fingerprint.of(thumbprint: acme.keys.keyId)!
        #expect(screens["acme-2"]?.contains("RENAMED: this key called itself \"Acme Health Study\" before.") == true, "\(screens["acme-2"] ?? "")")
        #expect(screens["acme-2"]?.contains("NEW") == false, "a key granted before is not NEW")
        #expect(screens["fake-1"]?.contains("ANOTHER KEY (\(acmeFingerprint)) has used the name") == true, "\(screens["fake-1"] ?? "")")
        #expect(screens["fake-1"]?.contains("ANOTHER KEY (\(acmeFingerprint)) gave the same contact") == true)
        #expect(screens["fake-1"]?.contains("NEW organization: first contact") == true)
        #expect(screens["dummy-2"]?.contains("NEW organization: you have never granted this key anything (2 requests so far).") == true,
                "\(screens["dummy-2"] ?? "")")
        // Grants show the name the grant was signed under, not the key's later claim.
        let grants = try await v.cli(["grants"])
        #expect(grants.stdout.contains("Acme Health Study") && !grants.stdout.contains("Acme Research"), "\(grants.stdout)")
        try await v.stopDaemon()
    }

    @Test("approve shows who asks and what approving means before anything is signed, and on a terminal needs a typed yes")
    func approveNotBlind() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let o = newOrg(v)
        let origin = try await o.origin()
        _ = try await o.submit(accessRequest(o, origin: origin, id: "study-2026", name: "City Hospital"))
        _ = try await o.submit(accessRequest(o, origin: origin, id: "study-2027", name: "City Hospital"))
        let args = ["approve", "study-2026", "--passphrase-file", v.passphraseFile] + v.globalArgs
        let refused = try PTYSession(try Binaries.path("vault-cli"), args, environment: v.cliEnvironment)
        #expect(await refused.expect("Type yes to approve"))
        #expect(refused.output.text.contains("City Hospital (name not verified) will be able to decrypt"))
        #expect(refused.output.text.contains("NEW organization"))
        refused.type("no\r")
        #expect(await refused.waitForExit() == 1)
        #expect(refused.output.text.contains("not approved; nothing was signed"))
        #expect(try await o.status(id: "study-2026").status == "pending")

        let approved = try PTYSession(try Binaries.path("vault-cli"), args, environment: v.cliEnvironment)
        #expect(await approved.expect("Type yes to approve"))
        approved.type("yes\r")
        #expect(await approved.expect("granted study-2026"))
        #expect(await approved.waitForExit() == 0)
        // Without a terminal (a script): no question, but the same warnings and sentence.
        let scripted = try await v.cli(["approve", "study-2027", "--passphrase-file", v.passphraseFile])
        #expect(scripted.status == 0, "\(scripted.stderr)")
        #expect(scripted.stdout.contains("Approving: City Hospital (name not verified) will be able to decrypt"), "\(scripted.stdout)")
        try await v.stopDaemon()
    }

    @Test("A second key cannot be pinned under a name (or a look-alike of it) another key is pinned as")
    func noTwinPins() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let real = OrgKeys.generate(), twin = OrgKeys.generate()
        let pass = ["--passphrase-file", v.passphraseFile]
        #expect(try await v.cli(["trust", "add", "--name", "Acme Health Study"] + pass + ["--", real.keyId]).status == 0)
        let second = try await v.cli(["trust", "add", "--name", "ACME health-study"] + pass + ["--", twin.keyId])
        #expect(second.status == 1 && second.stderr.contains("another key (\(Fingerprint.of(thumbprint: real.keyId)!)) is already pinned"), "\(second.stderr)")
        #expect(second.stderr.split(separator: "\n").count == 1)
        #expect(try await v.cli(["trust", "add", "--name", "Acme Research"] + pass + ["--", twin.keyId]).status == 0)
        try await v.stopDaemon()
    }

    @Test("A sensor's string value reaches a terminal escaped when exported to it, and a file byte for byte")
    func exportToTerminalEscaped() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let t = Timestamp.now() - 60_000
        let line = "{\"stream\":\"home/x\",\"t\":\(t),\"v\":\"\u{9B}31m\u{202E}ok\"}\n"  // raw C1 and bidi inside a JSON string
        #expect(try await v.cli(["ingest"], stdin: Array(line.utf8)).status == 0)
        let session = try PTYSession(try Binaries.path("vault-cli"), ["export", "--passphrase-file", v.passphraseFile] + v.globalArgs,
                                     environment: v.cliEnvironment)
        #expect(await session.waitForExit() == 0)
        #expect(foreignControls(session.output.bytes).isEmpty, "\(session.output.text)")
        #expect(session.output.text.contains("\\u009b31m\\u202eok"), "JSON escapes: the same value, \(session.output.text)")
        #expect(try await v.cli(["export", "--passphrase-file", v.passphraseFile, "-o", v.root + "/x.ndjson"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: v.root + "/x.ndjson")) == Data(line.utf8), "a file gets the exact bytes")
        try await v.stopDaemon()
    }
}
