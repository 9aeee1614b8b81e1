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
