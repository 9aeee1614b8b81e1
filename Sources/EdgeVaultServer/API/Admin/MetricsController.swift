import EdgeVaultCore
import EdgeVaultStore
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
        let (requests, grantsLive, ledgerSize) = try await store.metricCounts(now: Timestamp.now())
        let checkpoint = await ledger.latestCheckpoint()
        var out = PrometheusText()
        out.metric("edgevault_readings_ingested_total", "counter", "Readings committed since start.", [("", "\(c.readingsIngested)")])
        out.metric("edgevault_chunks_written_total", "counter", "Encrypted chunks committed since start.", [("", "\(c.chunksWritten)")])
        out.metric("edgevault_segments_opened_total", "counter", "Segments opened since start.", [("", "\(c.segmentsOpened)")])
        out.metric("edgevault_commits_failed_total", "counter", "Group commits that failed since start.", [("", "\(c.commitsFailed)")])
        out.metric("edgevault_segments_open", "gauge", "Segments whose key is in memory now.", [("", "\(open)")])
        out.metric("edgevault_requests", "gauge", "Access requests by status.",
               ["pending", "granted", "denied", "withdrawn", "expired"].map { (PrometheusText.label("status", $0), "\(requests[$0] ?? 0)") })
        out.metric("edgevault_grants_live", "gauge", "Grants neither revoked nor expired.", [("", "\(grantsLive)")])
        out.metric("edgevault_ledger_leaves", "gauge", "Leaves in the ledger.", [("", "\(ledgerSize)")])
        out.metric("edgevault_checkpoint_size", "gauge", "Tree size of the latest signed checkpoint.", [("", "\(checkpoint?.size ?? 0)")])
        out.metric("edgevault_checkpoint_age_seconds", "gauge", "Seconds since the latest checkpoint was signed.",
               [("", "\(checkpoint.map { (Timestamp.now() - $0.createdAt) / 1000 } ?? -1)")])
        mqtt.metrics(into: &out)
        return out.text
    }

    func response() async throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: try await text())))
    }
}
