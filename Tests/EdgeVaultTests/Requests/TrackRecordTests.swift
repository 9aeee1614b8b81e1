import Foundation
import Testing
@testable import EdgeVault

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
        let summary = AdminAPI.RequestSummary(org: keys.keyId, id: "study-1", status: "pending", streams: access.streams, from: "", to: "",
                                              expires: "", received: "", reason: nil, jws: "")
        var record = TrackRecord.compute([leaf(.orgSeen), leaf(.requestReceived)])
        let screen = ReviewScreen(request: summary, access: access, org: nil, record: record, segments: 3, readings: 180,
                                  bucketStart: Timestamp.parseRFC3339("2026-11-01T01:00:00Z")!, bucketEnd: access.to, now: now)
        let text = screen.render()
        for line in text.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        #expect(text.contains("Acme Health Study") && text.contains(Fingerprint.of(thumbprint: keys.keyId)!))
        #expect(text.contains("NEW organization"))
        #expect(text.contains("ongoing"))
        #expect(text.contains("3 segments, 180 readings"))
        #expect(text.contains("2026-11-01T01:00:00Z → 2026-12-01T00:00:00Z"))
        #expect(text.contains("home/livingroom/temperature, phone/steps"))
        #expect(text.contains("1 request, 0 granted"))
        record.requests = 4
        let known = ReviewScreen(request: summary, access: access, org: nil, record: record, segments: 0, readings: 0,
                                 bucketStart: 0, bucketEnd: 0, now: Timestamp.parseRFC3339("2027-01-01T00:00:00Z")!)
        #expect(!known.render().contains("NEW") && !known.render().contains("ongoing"))
    }
}
