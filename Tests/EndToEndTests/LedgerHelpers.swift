import EdgeVault
import Foundation

// Helpers the end-to-end suites share for reading a vault's ledger and the CLI's error lines.

/// The ledger's size (the tree size of the next checkpoint), from the admin socket.
func treeSize(_ v: VaultFixture) async throws -> Int64 {
    try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?limit=1").body)).size
}

/// The `org.violation` leaves appended since `since`.
func violations(_ v: VaultFixture, since: Int64) async throws -> [String] {
    let page = try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?from=\(since)&limit=100").body))
    return page.leaves.compactMap { leaf in
        let json = (try? JSONSerialization.jsonObject(with: Data(Encoding.fromBase64(leaf.data) ?? []))) as? [String: Any] ?? [:]
        return json["type"] as? String == "org.violation" ? (json["kind"] as? String ?? "?") : nil
    }
}

func isOneLine(_ s: String) -> Bool {
    s.split(separator: "\n").count == 1 && s.hasPrefix("vault-cli: ")
}
