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
