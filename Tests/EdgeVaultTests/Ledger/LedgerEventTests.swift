import Testing
@testable import EdgeVaultCore

@Suite("Typed ledger events")
struct LedgerEventTests {
    @Test("Each event writes the fields docs/PROTOCOL.md names for its leaf type, and a data.released leaf reads back as the page it was")
    func fieldsAndRoundTrip() throws {
        let sha = [UInt8](repeating: 7, count: 32)
        let page = LedgerEvent.DataReleased(grant: "g", segment: "s", firstSeq: 3, lastSeq: 9, count: 120, sha256: sha)
        let leaf = LedgerEvent.dataReleased(page).leaf(org: "k", time: 1_793_491_200_000)
        #expect(leaf.type == "data.released" && leaf.org == "k")
        #expect(LedgerEvent.DataReleased(try LedgerLeaf(bytes: leaf.bytes)) == page)
        #expect(leaf.json["chunks"]?.stringValue == "3-9" && leaf.json["count"]?.numberText == "120")
        let expected: [(LedgerEvent, String, Set<String>)] = [
            (.orgSeen(name: "A"), "org.seen", ["name"]),
            (.requestReceived(id: "r", name: "A", streams: ["s"], from: 0, to: 1, expires: 2, payloadSha256: sha), "request.received",
             ["id", "name", "streams", "from", "to", "expires", "payloadSha256"]),
            (.requestWithdrawn(id: "r"), "request.withdrawn", ["id"]),
            (.requestDenied(id: "r", payloadSha256: sha, reason: "no"), "request.denied", ["id", "payloadSha256", "reason"]),
            (.requestDenied(id: "r", payloadSha256: sha, reason: nil), "request.denied", ["id", "payloadSha256"]),
            (.grantIssued(id: "r", name: "A", payloadSha256: sha, segments: 2, streams: ["s"], from: 0, to: 1, expires: 2), "grant.issued",
             ["id", "name", "payloadSha256", "segments", "streams", "from", "to", "expires"]),
            (.grantRevoked(grant: "r", revocationSha256: sha, reason: nil), "grant.revoked", ["grant", "revocationSha256"]),
            (.orgViolation(kind: "replayed-call", detail: "d"), "org.violation", ["kind", "detail"]),
            (.keysUpgraded(count: 1, documentSha256: sha), "keys.upgraded", ["count", "documentSha256"]),
            (.streamRetention(stream: "s", retentionSeconds: nil, changeSha256: sha, signedAt: 0), "stream.retention",
             ["stream", "retentionSeconds", "changeSha256", "signedAt"]),
            (.retentionDeleted(stream: "s", segments: ["a"], readings: 1, chunks: 1, before: 0, retentionSeconds: 60), "data.deleted",
             ["stream", "segments", "readings", "chunks", "before", "retentionSeconds"]),
        ]
        for (event, type, fields) in expected {
            let leaf = event.leaf(time: 0)
            guard case .object(let o) = leaf.json else { Issue.record("\(type) is not an object"); continue }
            #expect(leaf.type == type)
            #expect(Set(o.keys) == fields.union(["type", "time", "salt"]), "\(type)")
        }
    }
}
