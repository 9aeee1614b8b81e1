import EdgeVaultCore
import EdgeVaultStore
import Hummingbird

/// Paging of a segment's chunks, shared by the person's export (admin socket) and the
/// organization's fetch: `after` (exclusive seq, default -1) and `limit` (1…64).
enum ChunkPage {
    static let maxLimit = 64

    static func parameters(_ request: Request) throws -> (after: Int64, limit: Int) {
        let q = request.uri.queryParameters
        guard let after = q["after"].map({ Int64($0) }) ?? -1, after >= -1 else {
            throw Problem(code: .badRequest, detail: "after must be an integer ≥ -1")
        }
        guard let limit = q["limit"].map({ Int($0) }) ?? maxLimit, limit >= 1, limit <= maxLimit else {
            throw Problem(code: .badRequest, detail: "limit must be an integer in 1…\(maxLimit)")
        }
        return (after, limit)
    }

    /// The chunks of segment `ordinal` after `after` (at most `limit`) and the seq to continue after.
    static func read(_ store: VaultStore, segment ordinal: Int64, after: Int64, limit: Int) async throws -> (chunks: [ChunkRecord], next: Int64?) {
        let rows = try await store.chunks(segment: ordinal, after: after, limit: limit + 1)
        let page = Array(rows.prefix(limit))
        return (page, rows.count > limit ? page.last?.seq : nil)
    }

    static func body(_ chunks: [ChunkRecord], next: Int64?) -> AdminAPI.Chunks {
        AdminAPI.Chunks(chunks: chunks.map { AdminAPI.Chunk(seq: $0.seq, ciphertext: Encoding.base64([UInt8]($0.ciphertext))) }, next: next)
    }
}
