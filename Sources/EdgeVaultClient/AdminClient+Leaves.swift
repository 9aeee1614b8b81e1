import EdgeVaultCore
import EdgeVaultStore

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
