import EdgeVaultCore
import EdgeVaultStore
import Synchronization

/// What `vault-cli status` and `/metrics` show about MQTT ingest: the connection state and,
/// per subscription, messages received, readings stored and messages rejected.
public final class MQTTMonitor: Sendable {
    public typealias Snapshot = AdminAPI.MQTTStatus
    public typealias Subscription = AdminAPI.MQTTSubscriptionStatus

    struct State {
        var snapshot: Snapshot
        var lastWarning: [Int64]
        var suppressed: [Int64]
    }

    private let state: Mutex<State>

    public init(configuration: MQTTConfiguration) {
        let subs = configuration.subscriptions.map {
            Subscription(topic: $0.filter.text, format: $0.format.rawValue, received: 0, stored: 0, rejected: 0, lastRejection: nil)
        }
        let snapshot = Snapshot(state: configuration.isEnabled ? "connecting" : "disabled", broker: configuration.broker ?? "",
                                detail: nil, since: Timestamp.now(), connects: 0, redelivered: 0, retainedSkipped: 0, unmatched: 0, subscriptions: subs)
        state = Mutex(State(snapshot: snapshot, lastWarning: Array(repeating: 0, count: subs.count),
                            suppressed: Array(repeating: 0, count: subs.count)))
    }

    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    func set(state newState: String, detail: String? = nil) {
        state.withLock { s in
            if newState == "connected" { s.snapshot.connects += 1 }
            if s.snapshot.state != newState || s.snapshot.detail != detail { s.snapshot.since = Timestamp.now() }
            s.snapshot.state = newState
            s.snapshot.detail = detail
        }
    }

    func received(_ subscription: Int, dup: Bool) {
        state.withLock { s in
            s.snapshot.subscriptions[subscription].received += 1
            if dup { s.snapshot.redelivered += 1 }
        }
    }

    func unmatched() { state.withLock { $0.snapshot.unmatched += 1 } }

    func retainedSkipped() { state.withLock { $0.snapshot.retainedSkipped += 1 } }

    func stored(_ counts: [Int: Int64]) {
        state.withLock { s in
            for (i, n) in counts { s.snapshot.subscriptions[i].stored += n }
        }
    }

    /// Counts a rejection; returns how many went unlogged before it when this one should be
    /// logged (the first, then at most one a minute per subscription), else nil.
    func rejected(_ subscription: Int, reason: String, now: Int64 = Timestamp.now()) -> Int64? {
        state.withLock { s in
            s.snapshot.subscriptions[subscription].rejected += 1
            s.snapshot.subscriptions[subscription].lastRejection = reason
            if now - s.lastWarning[subscription] >= 60_000 {
                s.lastWarning[subscription] = now
                defer { s.suppressed[subscription] = 0 }
                return s.suppressed[subscription]
            }
            s.suppressed[subscription] += 1
            return nil
        }
    }
}
