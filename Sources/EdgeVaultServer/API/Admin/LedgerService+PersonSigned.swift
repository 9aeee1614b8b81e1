import EdgeVaultCore

extension LedgerService {
    /// Checks a document only the person signs (a peer change, a recovery policy) with `check`
    /// against the user key fixed at init; any failure, parsing included, is a `code` problem
    /// (400) whose detail says what is wrong.
    nonisolated func checkPersonSigned<T>(_ bytes: [UInt8], code: VaultError.Code,
                              _ check: (JWS, String, SigningPublicKey) throws(JWS.Failure) -> T) throws -> T {
        let userKey = try SigningPublicKey(bytes: [UInt8](vault.userSigningKey))
        do {
            return try check(try JWS(json: bytes), vault.userKeyId, userKey)
        } catch {
            throw Problem(code: code, detail: error.detail)
        }
    }
}
