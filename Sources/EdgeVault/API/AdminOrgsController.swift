import Hummingbird
import NIOCore

/// The person's list of organizations, on the admin socket: pin a key with a name, block one.
struct AdminOrgsController<Context: RequestContext>: Sendable {
    let store: VaultStore

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/orgs", use: list)
        router.post("/v1/orgs/{keyId}/pin", use: pin)
        router.post("/v1/orgs/{keyId}/block", use: block)
    }

    static func info(_ o: OrgRecord) -> AdminAPI.Org {
        AdminAPI.Org(keyId: o.keyId, fingerprint: Fingerprint.of(thumbprint: o.keyId) ?? "?", name: o.name, pinnedName: o.pinnedName,
                     contact: o.contact, trust: o.trust, firstSeen: o.firstSeen.map { Timestamp.rfc3339(milliseconds: $0) })
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Orgs> {
        JSONBody(AdminAPI.Orgs(orgs: try store.orgs().map(Self.info)))
    }

    static func keyId(_ context: Context) throws -> String {
        let keyId = try context.parameters.require("keyId")
        guard let raw = Encoding.fromBase64url(keyId), raw.count == 32 else {
            throw Problem(code: .badRequest, status: 400, detail: "an organization key id is a 43-character RFC 7638 thumbprint")
        }
        return keyId
    }

    @Sendable func pin(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Org> {
        let keyId = try Self.keyId(context)
        let body = try await request.body.collect(upTo: 4096)
        let name = (try? JSONValue.parse(Array(body.readableBytesView)))?["name"]?.stringValue ?? ""
        guard !name.isEmpty, name.count <= 200 else { throw Problem(code: .badRequest, status: 400, detail: "give the organization a name (1…200 characters)") }
        try store.setTrust(keyId: keyId, trust: "pinned", name: name, now: Timestamp.now())
        return JSONBody(Self.info(try await store.org(keyId: keyId)!))
    }

    @Sendable func block(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Org> {
        let keyId = try Self.keyId(context)
        try store.setTrust(keyId: keyId, trust: "blocked", name: nil, now: Timestamp.now())
        return JSONBody(Self.info(try await store.org(keyId: keyId)!))
    }
}
