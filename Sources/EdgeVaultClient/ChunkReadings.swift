import EdgeVaultCore
import EdgeVaultStore

extension AdminAPI.Chunk {
    /// Decrypts this chunk of segment `segmentId` and parses its readings; any tampering
    /// (ciphertext, seq, segment) throws.
    public func readings(dek: SecureBytes, segmentId: String) throws -> [ChunkFormat.Reading] {
        guard let ct = Encoding.fromBase64(ciphertext) else { throw CryptoError.authenticationFailed }
        return try ChunkFormat.readings(in: try ChunkFormat.open(ct, dek: dek, segmentId: segmentId, seq: seq))
    }
}

extension AdminClient {
    /// Every reading of segment `s`, checked whole (a range deletion rewrites it, a compute job
    /// runs over it). Its key must be bound to it (an
    /// unbound key could be one a daemon made up to plant readings), and its chunks must be
    /// `seq` 0, 1, … as many as listed: none dropped, none twice.
    func readAll(_ s: AdminAPI.Segment, keys: UserKeys, progress: (any WorkProgress)?, consequence: String = "nothing was deleted") async throws -> [Exporter.Item] {
        guard let sealed = Encoding.fromBase64(s.sealedKey), let opened = try? SegmentKeySeal.open(sealed, keyPair: keys.box) else {
            throw VaultError(.scopeViolation, "the key of segment \(s.id) does not open with your key; \(consequence)")
        }
        guard case .bound(let bound, _) = opened else {
            throw VaultError(.scopeViolation, "the key of segment \(s.id) is not bound to its segment (an older key the upgrade could not bind); "
                             + "a segment that cannot be checked cannot be used; \(consequence)")
        }
        guard bound == .init(segment: s.id, stream: s.stream, start: s.startMs, end: s.endMs) else {
            throw VaultError(.scopeViolation, "the key listed for segment \(s.id) is bound to \(bound); \(consequence)")
        }
        var items: [Exporter.Item] = []
        var expected: Int64 = 0
        do {
            try await forEachChunk(segment: s.id) { chunk in
                guard chunk.seq == expected, expected < s.chunks else {
                    throw VaultError(.scopeViolation, "segment \(s.id) lists chunk \(chunk.seq) where \(expected) of \(s.chunks) belongs; \(consequence)")
                }
                expected += 1
                guard let readings = try? chunk.readings(dek: opened.dek, segmentId: s.id) else {
                    throw VaultError(.scopeViolation, "segment \(s.id) chunk \(chunk.seq) fails authentication (tampered or corrupt): "
                                     + "a segment that cannot be read cannot be used; \(consequence)")
                }
                items.append(contentsOf: readings.map { Exporter.Item(t: $0.t, value: $0.value) })
                progress?.advance(by: 1)
            }
        } catch let e as VaultError where e.code == .protocolError {
            throw VaultError(.protocolError, e.message + "; \(consequence)")
        }
        guard expected == s.chunks else {
            throw VaultError(.scopeViolation, "segment \(s.id) is listed with \(s.chunks) chunks but \(expected) came; \(consequence)")
        }
        return items
    }

}
