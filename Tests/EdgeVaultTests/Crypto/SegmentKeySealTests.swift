import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Segment keys bound to their segment, stream and bucket")
struct SegmentKeySealTests {
    let person = BoxKeyPair.generate()
    let bound = SegmentKeySeal.Bound(segment: "abcdefghijklmnopqrstuvwxyz", stream: "home/temp", start: 1_793_491_200_000, end: 1_793_494_800_000)

    @Test("A bound key opens to the same DEK and the same facts; the earlier format opens as unbound")
    func roundTrip() throws {
        let dek = SecureBytes.random(count: 32)
        let sealed = try SegmentKeySeal.seal(dek, bound: bound, to: person.publicKey)
        guard case .bound(let facts, let opened) = try SegmentKeySeal.open(sealed, keyPair: person) else {
            Issue.record("not bound")
            return
        }
        #expect(facts == bound && opened.isEqual(to: dek))
        let old = try SealedBox.seal(dek, to: person.publicKey)
        #expect(old.count == SegmentKeySeal.unboundSealedLength)
        guard case .unbound(let plain) = try SegmentKeySeal.open(old, keyPair: person) else {
            Issue.record("not unbound")
            return
        }
        #expect(plain.isEqual(to: dek))
    }

    @Test("A plaintext of neither format, with times out of range, or sealed to another key, does not open")
    func malformed() throws {
        var junk = [UInt8](repeating: 0x41, count: 100)
        let sealed = try SealedBox.seal(SecureBytes(wiping: &junk), to: person.publicKey)
        #expect(throws: CryptoError.self) { try SegmentKeySeal.open(sealed, keyPair: person) }
        var forged = bound
        forged.start = Int64.min
        let outOfRange = try SegmentKeySeal.seal(.random(count: 32), bound: forged, to: person.publicKey)
        #expect(throws: CryptoError.self) { try SegmentKeySeal.open(outOfRange, keyPair: person) }
        #expect(Timestamp.rfc3339(milliseconds: .min).hasSuffix("ms since 1970"), "formatting a hostile time does not trap")
        let other = try SegmentKeySeal.seal(.random(count: 32), bound: bound, to: BoxKeyPair.generate().publicKey)
        #expect(throws: CryptoError.self) { try SegmentKeySeal.open(other, keyPair: person) }
        #expect(throws: CryptoError.self) { try SegmentKeySeal.seal(.random(count: 32), bound: .init(segment: "short", stream: "s", start: 0, end: 1), to: person.publicKey) }
    }

    func listed(_ b: SegmentKeySeal.Bound, id: String? = nil, stream: String? = nil, start: Int64? = nil, keys: UserKeys) throws -> AdminAPI.Segment {
        let sealed = try SegmentKeySeal.seal(.random(count: 32), bound: b, to: keys.box.publicKey)
        let s = start ?? b.start
        return AdminAPI.Segment(id: id ?? b.segment, stream: stream ?? b.stream, start: "", end: "", startMs: s, endMs: s + (b.end - b.start),
                                chunks: 1, readings: 1, open: false, sealedKey: Encoding.base64(sealed))
    }

    @Test("Re-sealing for a grant refuses a key outside the request, listed under another segment or offered twice, and leaves an unbound one out")
    func resealChecks() throws {
        let keys = UserKeys(root: .random(count: 32))
        let access = AccessRequest(vault: "v", id: "r", orgName: "Acme", orgContact: "", streams: ["home/temp"], from: bound.start,
                                   to: bound.end, purpose: "p", deliveryKey: BoxKeyPair.generate().publicKey, expires: 1, created: 0)
        let good = try listed(bound, keys: keys)
        #expect(try DecisionMaker.reseal([good], for: access, keys: keys).0.count == 1)
        var otherStream = bound
        otherStream.stream = "diagnosis/hiv"
        var otherBucket = bound
        otherBucket.start += 3_600_000
        otherBucket.end += 3_600_000
        var otherId = bound
        otherId.segment = "zyxwvutsrqponmlkjihgfedcba"
        let unbound = AdminAPI.Segment(id: bound.segment, stream: bound.stream, start: "", end: "", startMs: bound.start, endMs: bound.end,
                                       chunks: 1, readings: 1, open: false,
                                       sealedKey: Encoding.base64(try SealedBox.seal(.random(count: 32), to: keys.box.publicKey)))
        let cases: [(String, [AdminAPI.Segment])] = [
            ("another stream listed as home/temp", [try listed(otherStream, stream: "home/temp", keys: keys)]),
            ("another bucket listed in range", [try listed(otherBucket, start: bound.start, keys: keys)]),
            ("another bucket listed as it is", [try listed(otherBucket, keys: keys)]),
            ("listed under another segment id", [try listed(otherId, id: bound.segment, keys: keys)]),
            ("offered twice", [good, good]),
        ]
        for (what, offered) in cases {
            #expect(throws: VaultError.self, "\(what)") { try DecisionMaker.reseal(offered, for: access, keys: keys) }
        }
        let (kept, skipped) = try DecisionMaker.reseal([good, unbound], for: access, keys: keys)
        #expect(kept.count == 1 && skipped == 1, "the unbound key is left out, never re-sealed")
    }
}
