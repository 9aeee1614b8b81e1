import CoreMetrics
import Hummingbird
import Prometheus
import ServiceLifecycle

/// Per-route request metrics: Hummingbird's MetricsMiddleware on the admin and the public
/// router counts and times every request through swift-metrics, which `bootstrap()` points at
/// a Prometheus registry that `/metrics` renders after the vault's own figures.
///
/// The `route` label is the route template the router matched (`/v1/grants/{id}/segments`),
/// never the request's path: a path holds request ids, segment ids and stream names, which
/// would show who asks for what and grow a series per value. A request no route matched is
/// `NotFound`, and a method outside the usual few is `other`, so nothing a client sends can add
/// series without bound.
///
///     edgevault_http_requests_total{listener,route,method,status}        counter
///     edgevault_http_request_errors_total{listener,route,method,status}  counter (handler threw: 4xx/5xx problems)
///     edgevault_http_request_duration_seconds{listener,route,method,status}  histogram
///     edgevault_http_requests_active{listener,method}                    gauge
public enum RequestMetrics {
    /// Where the request metrics go. One per process: swift-metrics has one global backend.
    static let registry = PrometheusCollectorRegistry()

    /// The listener (`admin`, `public`) whose requests are being served, for the `listener`
    /// label; set around each listener's whole run (`ListenerService`), so the tasks serving its
    /// connections inherit it.
    @TaskLocal static var listener = "unknown"

    /// Points swift-metrics at `registry`, renaming Hummingbird's metrics to the names above.
    /// Once per process, at start-up (vaultd does); until then the middleware records nothing.
    public static func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.nameAndLabelSanitizer = { name, labels in rename(name, labels, listener: listener) }
        MetricsSystem.bootstrap(factory)
    }

    static let names = [
        "hb.requests": "edgevault_http_requests_total",
        "hb.request.errors": "edgevault_http_request_errors_total",
        "http.server.request.duration": "edgevault_http_request_duration_seconds",
        "http.server.active_requests": "edgevault_http_requests_active",
    ]
    static let labelNames = [
        "http.route": "route",
        "http.request.method": "method",
        "http.response.status_code": "status",
        "error.type": "status",
    ]
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    static func rename(_ name: String, _ labels: [(String, String)], listener: String) -> (String, [(String, String)]) {
        guard let renamed = names[name] else { return (name, labels) }
        var out = [("listener", listener)]
        for (label, value) in labels {
            // A short name once only (the registry refuses a label twice); else the long one.
            let short = labelNames[label].flatMap { short in out.contains { $0.0 == short } ? nil : short } ?? label
            out.append((short, short == "method" && !methods.contains(value) ? "other" : value))
        }
        return (renamed, out)
    }
}

/// Runs a listener's application with `RequestMetrics.listener` set to its name.
struct ListenerService: Service {
    let name: String
    let application: any Service

    func run() async throws {
        try await RequestMetrics.$listener.withValue(name) { try await application.run() }
    }
}
