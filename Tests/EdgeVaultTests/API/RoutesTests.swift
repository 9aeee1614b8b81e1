import Hummingbird
import Logging
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer

/// `{name}` components filled with a value no literal component has.
private func concrete(_ template: String) -> String {
    template.split(separator: "/").map { $0.hasPrefix("{") ? "x1" : String($0) }.reduce("") { $0 + "/" + $1 }
}

/// Every route `routes` lists, as "METHOD /template".
private func described<Context>(_ router: Router<Context>) -> [(method: String, path: String)] {
    router.routes.map { ($0.method.rawValue, $0.path.description) }
}

@Suite("Routes: the 405 Allow list comes from the router")
struct RoutesTests {
    @Test("Every route the admin and public routers serve is in their route table, with exactly the methods of its template")
    func everyRoute() async throws {
        let vault = try TestVault()
        let ledger = try await LedgerService(store: vault.store, dataDir: vault.dataDir, logger: Logger(label: "test"))
        let manager = try await SegmentManager(store: vault.store, settings: .init(), logger: Logger(label: "test"))
        let configuration = Configuration()
        let mqtt = MQTTMonitor(configuration: configuration.mqtt)
        let witnessing = try await Witnessing.make(store: vault.store, ledger: ledger, dataDir: vault.dataDir, configuration: configuration.witnessing,
                                                   logger: .init(label: "t"))
        let admin = buildAdminRouter(store: vault.store, ledger: ledger, manager: manager, configuration: configuration, mqtt: mqtt,
                                     notifier: RequestNotifier(), metrics: Metrics(store: vault.store, manager: manager, ledger: ledger, mqtt: mqtt),
                                     witnessing: witnessing)
        let publicRouter = try await buildPublicRouter(store: vault.store, ledger: ledger, configuration: configuration, notifier: RequestNotifier(),
                                                       witnessing: witnessing)
        let adminTable = RouteTable(), publicTable = RouteTable()
        adminTable.load(from: admin)
        publicTable.load(from: publicRouter)
        for (routes, table) in [(described(admin), adminTable), (described(publicRouter), publicTable)] {
            #expect(routes.count >= 10)
            for route in routes {
                let expected = routes.filter { $0.path == route.path }.map(\.method).sorted()
                #expect(table.methods(of: concrete(route.path)) == expected, "\(route.method) \(route.path)")
            }
        }
        #expect(described(publicRouter).contains { $0 == ("GET", "/v1/grants/{id}/segments/{segment}/chunks") })
        #expect(!described(publicRouter).contains { $0.path == "/metrics" }, "no /metrics on the public listener")
        #expect(described(admin).contains { $0 == ("GET", "/metrics") })
    }

    @Test("A path matches the most literal template, as the router resolves it; a path no route has matches none")
    func specificity() {
        let router = Router(context: BasicRequestContext.self)
        router.get("/a/{id}") { _, _ in "" }
        router.delete("/a/{id}") { _, _ in "" }
        router.post("/a/fixed") { _, _ in "" }
        router.get("/a/{id}/b/{c}") { _, _ in "" }
        let table = RouteTable()
        #expect(table.methods(of: "/a/x") == [], "empty until loaded")
        table.load(from: router)
        #expect(table.methods(of: "/a/x") == ["DELETE", "GET"])
        #expect(table.methods(of: "/a/fixed") == ["POST"])
        #expect(table.methods(of: "/a/x/b/y") == ["GET"])
        #expect(table.methods(of: "/a/x/b") == [])
        #expect(table.methods(of: "/a") == [])
        #expect(table.methods(of: "/nothing/here") == [])
    }
}

@Suite("Request metrics: Hummingbird's names and labels as /metrics shows them")
struct RequestMetricsTests {
    @Test("Hummingbird's metrics get edgevault_http_* names, short label names and the listener; an unusual method is 'other'")
    func renamed() {
        let (name, labels) = RequestMetrics.rename("hb.requests", [("http.route", "/v1/grants/{id}"), ("http.request.method", "GET"),
                                                                  ("http.response.status_code", "200")], listener: "public")
        #expect(name == "edgevault_http_requests_total")
        #expect(labels.map { "\($0.0)=\($0.1)" } == ["listener=public", "route=/v1/grants/{id}", "method=GET", "status=200"])
        let (errors, errorLabels) = RequestMetrics.rename("hb.request.errors", [("http.route", "NotFound"), ("http.request.method", "PROPFIND"),
                                                                               ("error.type", "404")], listener: "admin")
        #expect(errors == "edgevault_http_request_errors_total")
        #expect(errorLabels.map { "\($0.0)=\($0.1)" } == ["listener=admin", "route=NotFound", "method=other", "status=404"])
        #expect(RequestMetrics.rename("http.server.request.duration", [], listener: "admin").0 == "edgevault_http_request_duration_seconds")
        #expect(RequestMetrics.rename("http.server.active_requests", [("http.request.method", "POST")], listener: "admin").1.map(\.0) == ["listener", "method"])
        #expect(RequestMetrics.rename("some.other", [("a", "b")], listener: "admin").0 == "some.other", "other metrics pass unchanged")
    }
}
