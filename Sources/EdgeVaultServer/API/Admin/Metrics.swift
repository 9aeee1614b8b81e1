import EdgeVaultCore
import EdgeVaultStore
import Prometheus
import Synchronization

/// What `GET /metrics` shows an operator of a gateway, rendered by swift-prometheus (Prometheus
/// text format 0.0.4): the vault's own figures, read when scraped — totals the segment manager
/// and the MQTT monitor count since start, gauges of the database and the ledger — then the
/// per-route request metrics (RequestMetrics).
public final class Metrics: Sendable {
    let store: VaultStore
    let manager: SegmentManager
    let ledger: LedgerService
    let mqtt: MQTTMonitor
    /// This daemon's figures; the request metrics have a registry of their own (process-wide).
    let registry = PrometheusCollectorRegistry()
    /// What each total was last raised to (by series): a scrape whose snapshot is older than
    /// one already shown leaves it, so a counter never goes back.
    private let totals = Mutex<[String: Int64]>([:])

    public init(store: VaultStore, manager: SegmentManager, ledger: LedgerService, mqtt: MQTTMonitor) {
        self.store = store
        self.manager = manager
        self.ledger = ledger
        self.mqtt = mqtt
    }

    /// Brings every figure to what the daemon has now and renders them, then the request metrics.
    func exposition() async throws -> [UInt8] {
        let c = await manager.counters
        let open = await manager.openSegments().count
        let (requests, grantsLive, ledgerSize) = try await store.metricCounts(now: Timestamp.now())
        let checkpoint = await ledger.latestCheckpoint()
        total("edgevault_readings_ingested_total", "Readings committed since start.", c.readingsIngested)
        total("edgevault_chunks_written_total", "Encrypted chunks committed since start.", c.chunksWritten)
        total("edgevault_segments_opened_total", "Segments opened since start.", c.segmentsOpened)
        total("edgevault_commits_failed_total", "Group commits that failed since start.", c.commitsFailed)
        gauge("edgevault_segments_open", "Segments whose key is in memory now.", open)
        for status in ["pending", "granted", "denied", "withdrawn", "expired"] {
            gauge("edgevault_requests", "Access requests by status.", requests[status] ?? 0, [("status", status)])
        }
        gauge("edgevault_grants_live", "Grants neither revoked nor expired.", grantsLive)
        gauge("edgevault_ledger_leaves", "Leaves in the ledger.", ledgerSize)
        gauge("edgevault_checkpoint_size", "Tree size of the latest signed checkpoint.", checkpoint?.size ?? 0)
        gauge("edgevault_checkpoint_age_seconds", "Seconds since the latest checkpoint was signed.",
              checkpoint.map { (Timestamp.now() - $0.createdAt) / 1000 } ?? -1)

        let m = mqtt.snapshot
        gauge("edgevault_mqtt_connected", "1 while connected to the MQTT broker (0, or -1 when MQTT is off).",
              m.state == "connected" ? 1 : m.state == "disabled" ? -1 : 0)
        total("edgevault_mqtt_connects_total", "Successful connections to the broker since start.", m.connects)
        total("edgevault_mqtt_redelivered_total", "Messages the broker sent again after a reconnect.", m.redelivered)
        total("edgevault_mqtt_unmatched_total", "Messages on topics no subscription maps.", m.unmatched)
        total("edgevault_mqtt_retained_skipped_total", "Retained messages not stored.", m.retainedSkipped)
        for s in m.subscriptions {
            total("edgevault_mqtt_messages_received_total", "MQTT messages received per subscription.", s.received, [("topic", s.topic)])
            total("edgevault_mqtt_readings_stored_total", "Readings stored from MQTT per subscription.", s.stored, [("topic", s.topic)])
            total("edgevault_mqtt_messages_rejected_total", "MQTT messages dropped per subscription.", s.rejected, [("topic", s.topic)])
        }

        var out = registry.emitToBuffer()
        RequestMetrics.registry.emit(into: &out)
        return out
    }

    /// Raises a counter to `value`, a total its source keeps since start.
    private func total(_ name: String, _ help: String, _ value: some BinaryInteger, _ labels: [(String, String)] = []) {
        let counter = registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
        let key = name + labels.map { "\u{0}\($0.0)=\($0.1)" }.joined()
        let value = Int64(value)
        let step = totals.withLock { last -> Int64 in
            let step = value - (last[key] ?? 0)
            if step > 0 { last[key] = value }
            return step
        }
        if step > 0 { counter.increment(by: step) }
    }

    private func gauge(_ name: String, _ help: String, _ value: some BinaryInteger, _ labels: [(String, String)] = []) {
        registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels).set(to: Double(value))
    }

    /// The whole name as written here and in docs/OPERATIONS.md (no parts joined).
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
