import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The person's view of access requests, on the admin socket.
struct AdminRequestsController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let notifier: RequestNotifier

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/requests", use: list)
        router.get("/v1/requests/wait", use: wait)
    }

    /// Long poll: answers `{"version"}` once a request newer than `after` arrived, or after 30 s.
    @Sendable func wait(_ request: Request, context: Context) async throws -> JSONBody<[String: Int]> {
        guard let after = request.uri.queryParameters["after"].map({ Int($0) }) ?? -1 else {
            throw Problem(code: .badRequest, detail: "after must be an integer")
        }
        // A stopping daemon answers at once instead of holding its shutdown for the full wait.
        let notifier = self.notifier
        let version = await withGracefulShutdownHandler {
            await notifier.wait(after: after, timeout: .seconds(30))
        } onGracefulShutdown: {
            Task { await notifier.releaseAll() }
        }
        return JSONBody(["version": version])
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Requests> {
        let text = request.uri.queryParameters["status"].map(String.init)
        let status = text.flatMap(RequestStatus.init(rawValue:))
        if text != nil, status == nil {
            throw Problem(code: .badRequest, detail: "status must be " + RequestStatus.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let rows = try await store.requests(status: status, now: Timestamp.now())
        return JSONBody(AdminAPI.Requests(requests: rows.map { r in
            AdminAPI.RequestSummary(org: r.org, id: r.id, status: r.status, streams: r.streamList,
                                    from: Timestamp.rfc3339(milliseconds: r.fromTime), to: Timestamp.rfc3339(milliseconds: r.toTime),
                                    expires: Timestamp.rfc3339(milliseconds: r.expires), received: Timestamp.rfc3339(milliseconds: r.receivedAt),
                                    reason: r.reason, jws: String(decoding: r.jws, as: UTF8.self))
        }))
    }
}
