import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing

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

/// The start of the sample readings the decision and key-binding suites use.
let sampleBase = Timestamp.parseRFC3339("2026-11-01T00:00:00Z")!

/// Readings every 10 minutes for 6 hours on `home/temp` (values 0…35) and `home/door`
/// ("open"), from `sampleBase`, all in the past.
func ingestTwoStreams(_ v: VaultFixture) async throws {
    var lines = ""
    for i in 0..<36 {
        let t = sampleBase + Int64(i) * 600_000
        lines += "{\"stream\":\"home/temp\",\"t\":\(t),\"v\":\(i)}\n{\"stream\":\"home/door\",\"t\":\(t),\"v\":\"open\"}\n"
    }
    let r = try await v.cli(["ingest"], stdin: Array(lines.utf8))
    #expect(r.status == 0, "\(r.stderr)")
}
