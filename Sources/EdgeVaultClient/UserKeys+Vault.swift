import EdgeVaultCore
import EdgeVaultStore
extension UserKeys {
    /// Refuses a key file that is not the key this vault was created with.
    public func requireOwner(of vault: AdminAPI.VaultInfo) throws {
        guard publicKeys.keyId == vault.userKeyId else {
            throw VaultError(.keyMismatch, "this key file (\(publicKeys.fingerprint)) is not the key of this vault (\(vault.userFingerprint))")
        }
    }
}

extension AdminClient {
    /// Every ledger leaf about one organization, all pages.
    public func leaves(about org: String) async throws -> [LedgerLeaf] {
        try await leaves(org: org, type: nil)
    }

    /// Every ledger leaf of one type (and organization), all pages.
    public func leaves(org: String? = nil, type: String?) async throws -> [LedgerLeaf] {
        var leaves: [LedgerLeaf] = []
        var from: Int64? = 0
        while let start = from {
            let page = try await self.leaves(from: start, type: type, org: org)
            leaves += page.leaves.compactMap { Encoding.fromBase64($0.data).flatMap { try? LedgerLeaf(bytes: $0) } }
            if let next = page.next, next <= start { throw VaultError(.protocolError, "vaultd's pages of ledger leaves do not advance") }
            from = page.next
        }
        return leaves
    }
}

extension FileIO {
    /// A file name for a log origin (`edgevault.local/abc` → `edgevault.local_abc`).
    public static func fileName(forOrigin origin: String) -> String {
        String(origin.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }
}

extension AdminAPI.Chunk {
    /// Decrypts this chunk of segment `segmentId` and parses its readings; any tampering
    /// (ciphertext, seq, segment) throws.
    public func readings(dek: SecureBytes, segmentId: String) throws -> [ChunkFormat.Reading] {
        guard let ct = Encoding.fromBase64(ciphertext) else { throw CryptoError.authenticationFailed }
        return try ChunkFormat.readings(in: try ChunkFormat.open(ct, dek: dek, segmentId: segmentId, seq: seq))
    }
}
