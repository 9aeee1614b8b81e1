import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Track record and the review screen")
struct TrackRecordTests {
    func leaf(_ kind: LedgerLeaf.Kind, _ fields: [String: JSONValue] = [:], time: Int64 = 1_793_491_200_000) -> LedgerLeaf {
        LedgerLeaf(kind: kind, fields: fields, org: "k", time: time)
    }

    @Test("The track record counts exactly the ledger's leaves about the organization")
    func compute() {
        let r = TrackRecord.compute([
            leaf(.orgSeen, time: 5), leaf(.requestReceived), leaf(.requestReceived), leaf(.requestReceived), leaf(.grantIssued),
            leaf(.requestDenied), leaf(.requestWithdrawn), leaf(.grantRevoked), leaf(.dataReleased, ["count": .number("120")]),
            leaf(.dataReleased, ["count": .number("30")]), leaf(.orgViolation), leaf(.genesis),
        ])
        #expect(r.requests == 3 && r.grants == 1 && r.denials == 1 && r.withdrawals == 1 && r.revocations == 1)
        #expect(r.releases == 2 && r.readingsReleased == 150 && r.violations == 1 && r.firstSeen == 5)
        #expect(r.summary == "3 requests, 1 granted, 1 denied, 1 withdrawn, 1 revoked by you, 2 releases (150 readings), 1 violation")
        #expect(TrackRecord.compute([]) == TrackRecord())
        // The same page fetched twice is two releases but its readings count once.
        let page = ["grant": JSONValue.string("g"), "segment": .string("s"), "chunks": .string("0-3"), "count": .number("40")]
        let twice = TrackRecord.compute([leaf(.dataReleased, page), leaf(.dataReleased, page)])
        #expect(twice.releases == 2 && twice.readingsReleased == 40)
    }

    @Test("The review screen shows what the person decides on, fits 80 columns, and marks new and ongoing")
    func render() throws {
        let keys = OrgKeys.generate()
        let now = Timestamp.parseRFC3339("2026-11-24T12:00:00Z")!
        let access = AccessRequest(vault: "edgevault.local/x", id: "study-1", orgName: "Acme Health Study", orgContact: "privacy@acme.example",
                                   streams: ["home/livingroom/temperature", "phone/steps"], from: Timestamp.parseRFC3339("2026-11-01T00:30:00Z")!,
                                   to: Timestamp.parseRFC3339("2026-12-01T00:00:00Z")!,
                                   purpose: String(repeating: "A long purpose that must wrap. ", count: 8), deliveryKey: keys.delivery.publicKey,
                                   expires: Timestamp.parseRFC3339("2026-12-31T00:00:00Z")!, created: now)
        let summary = AdminAPI.RequestSummary(org: keys.keyId, id: "study-1", status: .pending, streams: access.streams, from: "", to: "",
                                              expires: "", received: "", reason: nil, jws: "")
        var record = TrackRecord.compute([leaf(.orgSeen), leaf(.requestReceived)])
        let screen = ReviewScreen(request: summary, access: access, org: nil, record: record, segments: 3, readings: 180,
                                  ranges: access.streams.map { .init(stream: $0, start: Timestamp.parseRFC3339("2026-11-01T01:00:00Z")!, end: access.to) }, now: now)
        let text = screen.render()
        for line in text.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        #expect(text.contains("Acme Health Study") && text.contains(Fingerprint.of(thumbprint: keys.keyId)!))
        #expect(text.contains("NEW organization"))
        #expect(text.contains("ongoing"))
        #expect(text.contains("3 segments, 180 readings"))
        #expect(text.contains("2026-11-01T01:00:00Z → 2026-12-01T00:00:00Z"))
        #expect(text.contains("home/livingroom/temperature, phone/steps"))
        #expect(text.contains("1 request, 0 granted"))
        #expect(screen.meaning.hasPrefix("Acme Health Study (name not verified) will be able to decrypt and keep 180 readings of "
            + "home/livingroom/temperature, phone/steps from 1 Nov 2026 01:00 UTC to now, and new ones as they arrive until 1 Dec 2026."))
        #expect(screen.meaning.hasSuffix("Revoking stops future access; what was fetched stays with them."))
        #expect(text.contains("Approving: Acme Health Study (name not verified) will be able to decrypt"))
        // A dummy first request does not make a stranger look known: NEW stays until a grant.
        record.requests = 4
        let later = ReviewScreen(request: summary, access: access, org: nil, record: record, segments: 0, readings: 0,
                                 ranges: access.streams.map { .init(stream: $0, start: 0, end: 0) }, now: Timestamp.parseRFC3339("2027-01-01T00:00:00Z")!)
        #expect(later.warnings.contains("NEW organization: you have never granted this key anything (4 requests so far)."))
        record.grants = 1
        let known = ReviewScreen(request: summary, access: access, org: nil, record: record, segments: 0, readings: 0,
                                 ranges: access.streams.map { .init(stream: $0, start: 0, end: 0) }, now: Timestamp.parseRFC3339("2027-01-01T00:00:00Z")!)
        #expect(!known.render().contains("NEW") && !known.render().contains("ongoing"))
    }

    func request(_ keys: OrgKeys, id: String, name: String, contact: String = "") -> (AdminAPI.RequestSummary, AccessRequest) {
        let access = AccessRequest(vault: "edgevault.local/x", id: id, orgName: name, orgContact: contact, streams: ["phone/steps"],
                                   from: 0, to: 3_600_000, purpose: "p", deliveryKey: keys.delivery.publicKey,
                                   expires: Timestamp.now() + 1000, created: 0)
        let jws = String(decoding: JWS.sign(payload: access.payload(), header: .object(["alg": .string("Ed25519")]), keyPair: keys.signing).serialized(),
                         as: UTF8.self)
        return (AdminAPI.RequestSummary(org: keys.keyId, id: id, status: .pending, streams: access.streams, from: "", to: "", expires: "",
                                        received: "", reason: nil, jws: jws), access)
    }

    @Test("Another key using the same name or contact, and a key that renamed itself, are warned about on the screen")
    func nameWarnings() {
        let acme = OrgKeys.generate(), impostor = OrgKeys.generate()
        let (first, _) = request(acme, id: "r1", name: "Acme Health Study", contact: "privacy@acme.example")
        let (renamed, renamedAccess) = request(acme, id: "r2", name: "Acme Research")
        let (fake, fakeAccess) = request(impostor, id: "r3", name: "ACME  health-study", contact: "Privacy@Acme.example")
        let orgs = [AdminAPI.Org(keyId: acme.keyId, fingerprint: "AAAA-AAAA-AAAA-AAAA", name: "Acme Research", pinnedName: nil,
                                 contact: "privacy@acme.example", trust: .seen, firstSeen: nil)]
        let all = [first, renamed, fake]

        let impostorHistory = Reviewer.history(of: impostor.keyId, claiming: fakeAccess, orgs: orgs, requests: all, leaves: [])
        #expect(impostorHistory.sameName == ["AAAA-AAAA-AAAA-AAAA"] && impostorHistory.sameContact == ["AAAA-AAAA-AAAA-AAAA"])
        #expect(impostorHistory.earlierNames.isEmpty)
        let screen = ReviewScreen(request: fake, access: fakeAccess, org: nil, record: TrackRecord(), history: impostorHistory,
                                  segments: 0, readings: 0, ranges: [.init(stream: "phone/steps", start: 0, end: 3_600_000)], now: Timestamp.now()).render()
        #expect(screen.contains("ANOTHER KEY (AAAA-AAAA-AAAA-AAAA) has used the name"))
        #expect(screen.contains("ANOTHER KEY (AAAA-AAAA-AAAA-AAAA) gave the same contact"))

        let acmeHistory = Reviewer.history(of: acme.keyId, claiming: renamedAccess, orgs: orgs, requests: all, leaves: [])
        #expect(acmeHistory.earlierNames == ["Acme Health Study"])
        #expect(acmeHistory.sameName.isEmpty, "an impostor's look-alike name is not this key's own earlier name")
        let renamedScreen = ReviewScreen(request: renamed, access: renamedAccess, org: nil, record: TrackRecord(), history: acmeHistory,
                                         segments: 0, readings: 0, ranges: [.init(stream: "phone/steps", start: 0, end: 3_600_000)], now: Timestamp.now()).render()
        #expect(renamedScreen.contains("RENAMED: this key called itself \"Acme Health Study\" before."))
    }

    @Test("Outside strings stored before the input rules reach the screen escaped; the only escape sequences are the screen's own emphasis")
    func escapedScreen() {
        let keys = OrgKeys.generate()
        var (summary, access) = request(keys, id: "r1", name: "City Hospital\u{1B}[2J\u{1B}[H\u{9B}31m")
        access.orgContact = "x\u{1B}]0;t\u{07}"
        access.purpose = "\u{1B}[2J\u{1B}[HCity Hospital Cardiology, pinned by you\u{202E}\u{1B}P"
        summary.id = "r1\u{1B}[1A"
        let text = ReviewScreen(request: summary, access: access, org: nil, record: TrackRecord(), segments: 0, readings: 0,
                                ranges: access.streams.map { .init(stream: $0, start: 0, end: 3_600_000) }, now: Timestamp.now())
            .render(bold: { "\u{1B}[1m\($0)\u{1B}[0m" }, warn: { "\u{1B}[1;33m\($0)\u{1B}[0m" })
        let stripped = text.replacingOccurrences(of: "\u{1B}[1;33m", with: "").replacingOccurrences(of: "\u{1B}[1m", with: "")
            .replacingOccurrences(of: "\u{1B}[0m", with: "")
        #expect(UntrustedTextTests.controlBytes(stripped).isEmpty)
        #expect(!stripped.unicodeScalars.contains { $0.properties.isBidiControl })
        #expect(stripped.contains("City Hospital\\u{1B}[2J"))
    }

    @Test("Streams with different bucket lengths: the range is shown per stream, and ongoing when any stream's last whole bucket ends after now")
    func mixedBuckets() {
        let keys = OrgKeys.generate()
        let now = Timestamp.parseRFC3339("2026-11-27T10:30:00Z")!
        let access = AccessRequest(vault: "v", id: "mixed", orgName: "Acme", orgContact: "", streams: ["heart_rate", "diagnosis/hiv"],
                                   from: now - 4 * 86_400_000, to: now + 2 * 3_600_000, purpose: "p", deliveryKey: keys.delivery.publicKey,
                                   expires: now + 86_400_000, created: now)
        let ranges = Reviewer.ranges(of: access, streams: [("heart_rate", 60), ("diagnosis/hiv", 86_400)])
        #expect(ranges[0].end == now + 2 * 3_600_000, "minute buckets end at to")
        #expect(ranges[1].end == Timestamp.parseRFC3339("2026-11-27T00:00:00Z")!, "day buckets end at the last midnight")
        let summary = AdminAPI.RequestSummary(org: keys.keyId, id: "mixed", status: .pending, streams: access.streams, from: "", to: "",
                                              expires: "", received: "", reason: nil, jws: "")
        let screen = ReviewScreen(request: summary, access: access, org: nil, record: TrackRecord(), segments: 0, readings: 0,
                                  ranges: ranges, now: now)
        #expect(screen.isOngoing, "new heart_rate readings keep flowing")
        let text = screen.render()
        #expect(text.contains("ongoing") && text.contains("heart_rate: ") && text.contains("diagnosis/hiv: "), "\(text)")
        #expect(screen.meaning.contains("and new ones as they arrive until"))
        let unknown = Reviewer.ranges(of: access, streams: [])
        #expect(unknown.allSatisfy { !$0.exists } && unknown[0].end == Timestamp.parseRFC3339("2026-11-27T12:00:00Z")!, "a stream not created yet: hourly buckets")
    }

    @Test("A long purpose or many streams cannot push the warnings off the screen: they come last, above what approving means, and the screen stays short")
    func warningsStayVisible() {
        let keys = OrgKeys.generate()
        let now = Timestamp.now()
        let purpose = "text" + String(repeating: "\n", count: 40) + "This request was checked: the key is the one you granted before."
        let streams = (0..<30).map { "decoy/stream-number-\($0)-with-a-long-name-to-fill-the-line" } + ["diagnosis/hiv"]
        let access = AccessRequest(vault: "v", id: "flood", orgName: "Acme", orgContact: "", streams: streams, from: 0, to: 3_600_000,
                                   purpose: purpose, deliveryKey: keys.delivery.publicKey, expires: now + 60_000, created: now)
        let summary = AdminAPI.RequestSummary(org: keys.keyId, id: "flood", status: .pending, streams: streams, from: "", to: "",
                                              expires: "", received: "", reason: nil, jws: "")
        let ranges = streams.map { ReviewScreen.StreamRange(stream: $0, start: 0, end: 3_600_000, exists: $0 == "diagnosis/hiv") }
        let screen = ReviewScreen(request: summary, access: access, org: nil, record: TrackRecord(),
                                  history: .init(sameName: ["AAAA-AAAA-AAAA-AAAA"]), segments: 1, readings: 24, ranges: ranges, now: now)
        let lines = screen.render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count <= 28, "\(lines.count) lines")
        let warning = lines.firstIndex { $0.contains("ANOTHER KEY") }!, approving = lines.firstIndex { $0.contains("Approving:") }!
        let purposeEnd = lines.lastIndex { $0.contains("This request was checked") }!
        #expect(purposeEnd < warning && warning < approving && lines.count - approving <= 7, "\(lines.joined(separator: "\n"))")
        #expect(!lines.contains { $0.isEmpty } || lines.filter { $0.trimmingCharacters(in: .whitespaces).isEmpty }.count <= 2, "blank lines collapsed")
        #expect(lines.contains { $0.contains("streams      diagnosis/hiv") })
        #expect(lines.contains { $0.contains("+ 30 your vault does not have yet") })
        #expect(screen.meaning.contains("of diagnosis/hiv (and 30 streams your vault does not have yet)"))
        #expect(screen.confirmation().contains("ANOTHER KEY") && screen.confirmation().hasSuffix("Type yes to approve, anything else to go back › "))
    }

    @Test("A purpose may have paragraphs, not a wall of line breaks")
    func purposeLineFeeds() {
        #expect(UntrustedText.problem(with: "one\n\ntwo", field: "purpose", limits: .purpose) == nil)
        #expect(UntrustedText.problem(with: "one\n\n\ntwo", field: "purpose", limits: .purpose) != nil)
        #expect(UntrustedText.problem(with: "\none", field: "purpose", limits: .purpose) != nil)
        #expect(UntrustedText.problem(with: (0..<12).map { "p\($0)" }.joined(separator: "\n"), field: "purpose", limits: .purpose)?.contains("11 line breaks") == true)
    }

    @Test("A stream whose buckets are longer than the range gets nothing: the screen says so and the sentence leaves it out")
    func streamWithoutWholeBucket() {
        let keys = OrgKeys.generate()
        let now = Timestamp.parseRFC3339("2026-11-27T10:00:00Z")!
        let from = Timestamp.parseRFC3339("2026-11-20T06:00:00Z")!, to = Timestamp.parseRFC3339("2026-11-20T18:00:00Z")!
        let access = AccessRequest(vault: "v", id: "w", orgName: "Acme", orgContact: "", streams: ["phone/steps", "health/weight"],
                                   from: from, to: to, purpose: "p", deliveryKey: keys.delivery.publicKey, expires: now + 86_400_000, created: now)
        let ranges = Reviewer.ranges(of: access, streams: [("phone/steps", 3600), ("health/weight", 86_400)])
        #expect(ranges[1].start >= ranges[1].end)
        let summary = AdminAPI.RequestSummary(org: keys.keyId, id: "w", status: .pending, streams: access.streams, from: "", to: "",
                                              expires: "", received: "", reason: nil, jws: "")
        let screen = ReviewScreen(request: summary, access: access, org: nil, record: TrackRecord(), segments: 12, readings: 12,
                                  ranges: ranges, now: now)
        #expect(screen.render().contains("health/weight: no whole bucket in the range (nothing from it)"))
        #expect(screen.meaning.contains("readings of phone/steps (1 more stream asked for: no whole bucket in the range, nothing from it)"), "\(screen.meaning)")
    }
}
