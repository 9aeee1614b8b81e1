import Hummingbird
import NIOCore

/// `GET /metrics`: on the admin socket, and alone on the loopback `metrics_listen` address when
/// one is configured; never on the public listener (the figures show the person's activity).
struct MetricsController<Context: RequestContext> {
    let metrics: Metrics

    func addRoutes(to router: Router<Context>) {
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: try await metrics.exposition())))
        }
    }
}
