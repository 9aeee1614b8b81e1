import Testing
@testable import EdgeVaultCore

/// The fragment blob (docs/PROTOCOL.md §"Fragments", "The blob"): a backup encrypted whole to the
/// person before it is cut into shares.
@Suite("Fragment blob: the backup encrypted whole under a fresh key sealed to the person")
struct FragmentBlobTests {
    static func encrypt(_ plain: [UInt8], to box: BoxKeyPair, pieces: Int = 3) throws -> [UInt8] {
        var out: [UInt8] = []
        var rest = plain[...]
        let step = max(1, plain.count / pieces)
        try FragmentBlob.encrypt(to: box.publicKey, next: {
            guard !rest.isEmpty else { return nil }
            defer { rest = rest.dropFirst(step) }
            return Array(rest.prefix(step))
        }, write: { out += $0 })
        return out
    }

    static func decrypt(_ blob: [UInt8], with box: BoxKeyPair) throws -> [UInt8] {
        var offset = 0, out: [UInt8] = []
        try FragmentBlob.decrypt(with: box, read: { n in
            defer { offset = min(blob.count, offset + n) }
            return Array(blob[offset..<min(blob.count, offset + n)])
        }, write: { out += $0 })
        return out
    }

    static let box = BoxKeyPair(seed: .random(count: 32))

    @Test("Round trip for empty, small, exactly one piece and several pieces; the blob shows none of the plaintext and differs each time")
    func roundTrip() throws {
        let marker = Array("SQLite format 3\0".utf8)
        for size in [0, 1, 1000, FragmentBlob.pieceBytes, FragmentBlob.pieceBytes * 2 + 17] {
            let plain = marker + (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let blob = try Self.encrypt(plain, to: Self.box)
            #expect(try Self.decrypt(blob, with: Self.box) == plain, "size \(size)")
            #expect(blob.starts(with: FragmentBlob.magic))
            #expect(!blob.indices.dropLast(marker.count).contains { Array(blob[$0..<($0 + marker.count)]) == marker }, "no plaintext in the blob")
            #expect(try Self.encrypt(plain, to: Self.box) != blob, "a fresh key each time: two pushes share no bytes")
        }
    }

    @Test("Another person's key, a flipped byte anywhere, a cut, an extra byte, two pieces swapped: each refused")
    func refusals() throws {
        let plain = (0..<(FragmentBlob.pieceBytes * 2 + 5)).map { UInt8(truncatingIfNeeded: $0) }
        let blob = try Self.encrypt(plain, to: Self.box)
        #expect(throws: VaultError.self) { try Self.decrypt(blob, with: BoxKeyPair(seed: .random(count: 32))) }
        for position in [0, FragmentBlob.magic.count + 3, 130, blob.count / 2, blob.count - 1] {
            var bad = blob
            bad[position] ^= 0x40
            #expect(throws: VaultError.self, "flipped byte \(position)") { try Self.decrypt(bad, with: Self.box) }
        }
        let head = FragmentBlob.magic.count + 80 + 24, piece = FragmentBlob.pieceBytes + 17
        #expect(throws: VaultError.self, "cut at a piece boundary") { try Self.decrypt(Array(blob.prefix(head + piece)), with: Self.box) }
        #expect(throws: VaultError.self, "cut inside a piece") { try Self.decrypt(Array(blob.dropLast(3)), with: Self.box) }
        #expect(throws: VaultError.self, "an extra byte") { try Self.decrypt(blob + [0], with: Self.box) }
        let swapped = Array(blob[..<head]) + Array(blob[(head + piece)..<(head + 2 * piece)]) + Array(blob[head..<(head + piece)]) + Array(blob[(head + 2 * piece)...])
        #expect(throws: VaultError.self, "two pieces swapped") { try Self.decrypt(swapped, with: Self.box) }
    }
}
