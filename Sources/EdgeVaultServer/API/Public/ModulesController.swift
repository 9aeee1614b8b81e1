import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultCompute
import Hummingbird
import NIOCore

/// `PUT /v1/modules/sha256:<hex>` (RFC 9421-signed; docs/PROTOCOL.md §"Compute jobs"): an
/// organization uploads the WebAssembly module a compute request will name. The body is
/// `application/wasm`, at most 4 MiB, its SHA-256 must be the name, and it must parse as a
/// WASI command importing nothing outside the allowed functions (else `422 module_invalid`).
/// 201 when new, 200 when this vault already holds it.
struct ModulesController: Sendable {
    let store: VaultStore
    let allowUnknownOrgs: Bool

    func addRoutes(to group: RouterGroup<OrgRequestContext>) {
        group.put("{name}", use: upload)
    }

    @Sendable func upload(_ request: Request, context: OrgRequestContext) async throws -> JSONBody<OrgAPI.ModuleStored> {
        if context.org.isNew && !allowUnknownOrgs {
            throw Problem(code: .unknownKey, detail: "this vault takes calls only from organizations the person added")
        }
        let name = try context.parameters.require("name")
        guard let digest = ComputeJob.digest(of: name) else {
            throw Problem(code: .badRequest, detail: "the path names a module as sha256: and 64 lowercase hex digits")
        }
        let type = request.headers[.contentType].map { String($0.prefix { $0 != ";" }).filter { !$0.isWhitespace }.lowercased() }
        guard type == "application/wasm" else {
            throw Problem(code: .unsupportedMediaType, detail: "send the module as application/wasm")
        }
        let body = context.body
        guard !body.isEmpty else { throw Problem(code: .moduleInvalid, detail: "the module is empty") }
        guard Hash.sha256(body) == digest else {
            throw Problem(code: .badRequest, detail: "the body's SHA-256 is not the one in the path")
        }
        do {
            try WasmModuleInfo.inspect(body).validateForUpload()
        } catch {
            throw Problem(code: .moduleInvalid, detail: error.reason)
        }
        let created = try await store.storeModule(name: name, bytes: body, org: context.org.keyId, known: !context.org.isNew,
                                                  now: Timestamp.now())
        return JSONBody(OrgAPI.ModuleStored(module: name, size: body.count), status: created ? .created : .ok)
    }
}
