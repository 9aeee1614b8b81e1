import EdgeVaultCore
import EdgeVaultStore
/// Sends parsed readings to the daemon in batches of bounded size. Each batch is stored
/// atomically; the whole input was validated before the first batch leaves.
public struct Ingester: Sendable {
    public static let batchReadings = 10_000
    public static let batchBytes = 4 * 1024 * 1024

    let client: AdminClient

    public init(client: AdminClient) {
        self.client = client
    }

    /// Refuses up front (nothing sent) when automatic stream creation is off and the batch
    /// names a stream the vault does not have.
    public func checkStreams(_ batch: ReadingBatch) async throws {
        let status = try await client.status()
        guard !status.settings.autoCreateStreams else { return }
        let known = Set(status.streams.map(\.name))
        if let refusal = batch.unknownStream(known: known.contains) { throw refusal }
    }

    /// Sends everything; on a failure reports how much was already stored.
    public func send(_ batch: ReadingBatch, allowOld: Bool = false, progress: (any WorkProgress)? = nil) async throws -> Int {
        var stored = 0
        var start = 0
        while start < batch.count {
            var end = min(start + Self.batchReadings, batch.count)
            var body = batch.ndjson(start..<end)
            while body.count > Self.batchBytes, end - start > 1 {
                end = start + (end - start) / 2
                body = batch.ndjson(start..<end)
            }
            do {
                stored += try await client.ingest(ndjson: body, allowOld: allowOld)
            } catch let e as VaultError {
                let where_ = "readings from line \(batch.entries[start].line) on"
                let already = stored == 0 ? "nothing was stored" : "\(stored) earlier readings were stored; \(where_) were not"
                throw VaultError(e.code, "\(e.message) (\(already))")
            }
            progress?.advance(by: Int64(end - start))
            start = end
        }
        return stored
    }
}
