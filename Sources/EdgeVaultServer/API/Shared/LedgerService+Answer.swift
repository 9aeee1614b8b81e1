import EdgeVaultCore
import EdgeVaultStore
extension LedgerService {
    /// Anchors the leaf at `index` before a decision is answered (a decision takes effect only
    /// once its leaf is in a signed checkpoint); when no checkpoint can be signed the caller is
    /// told so with `503 storage_unavailable` and `detail` (the change itself is recorded).
    func anchorForAnswer(index: Int64, detail: String) async throws -> VaultStore.StoredCheckpoint {
        do {
            return try await anchor(index: index)
        } catch {
            throw Problem(code: .storageUnavailable, detail: detail)
        }
    }
}
