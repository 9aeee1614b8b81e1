import Hummingbird
import NIOCore

/// `GET /metrics`: Prometheus text exposition of what an operator watches on a gateway.
public struct Metrics: Sendable {
    let store: VaultStore
    let manager: SegmentManager
    let ledger: LedgerService
    let mqtt: MQTTMonitor

    public init(store: VaultStore, manager: SegmentManager, ledger: LedgerService, mqtt: MQTTMonitor) {
        self.store = store
        self.manager = manager
        self.ledger = ledger
        self.mqtt = mqtt
    }

    func text() async throws -> String {
        let c = await manager.counters
        let open = await manager.openSegments().count
        let (requests, grantsLive, ledgerSize) = try store.metricCounts(now: Timestamp.now())
        let checkpoint = await ledger.latestCheckpoint()
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels) \(value)\n" }
        }
        metric("edgevault_readings_ingested_total", "counter", "Readings committed since start.", [("", "\(c.readingsIngested)")])
        metric("edgevault_chunks_written_total", "counter", "Encrypted chunks committed since start.", [("", "\(c.chunksWritten)")])
        metric("edgevault_segments_opened_total", "counter", "Segments opened since start.", [("", "\(c.segmentsOpened)")])
        metric("edgevault_commits_failed_total", "counter", "Group commits that failed since start.", [("", "\(c.commitsFailed)")])
        metric("edgevault_segments_open", "gauge", "Segments whose key is in memory now.", [("", "\(open)")])
        metric("edgevault_requests", "gauge", "Access requests by status.",
               ["pending", "granted", "denied", "withdrawn", "expired"].map { ("{status=\"\($0)\"}", "\(requests[$0] ?? 0)") })
        metric("edgevault_grants_live", "gauge", "Grants neither revoked nor expired.", [("", "\(grantsLive)")])
        metric("edgevault_ledger_leaves", "gauge", "Leaves in the ledger.", [("", "\(ledgerSize)")])
        metric("edgevault_checkpoint_size", "gauge", "Tree size of the latest signed checkpoint.", [("", "\(checkpoint?.size ?? 0)")])
        metric("edgevault_checkpoint_age_seconds", "gauge", "Seconds since the latest checkpoint was signed.",
               [("", "\(checkpoint.map { (Timestamp.now() - $0.createdAt) / 1000 } ?? -1)")])
        out += mqtt.metrics()
        return out
    }

    func response() async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: try await text())))
    }
}
