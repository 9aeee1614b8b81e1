/// The public API's OpenAPI 3.1 document, served at `GET /v1/openapi.yaml`: the file
/// `openapi.yaml` beside this one (the repository's top-level `openapi.yaml` links to it),
/// embedded by SwiftPM at build time (`.embedInCode` in Package.swift). A `.copy`/`.process`
/// resource would be a `EdgeVault_EdgeVaultServer.resources` folder that every install of
/// vaultd must carry beside the binary, found at run time through Foundation's `Bundle` (with
/// the build directory's absolute path as the fallback); embedded, the bytes are part of the
/// executable. A test checks that every documented operation is routed and every route
/// documented.
public enum OpenAPIDocument {
    /// The document exactly as in the file.
    public static var bytes: [UInt8] { PackageResources.openapi_yaml }

    public static var yaml: String { String(decoding: bytes, as: UTF8.self) }

    /// The documented operations as (method, path template), for the routing test.
    public static var operations: [(method: String, path: String)] {
        var out: [(String, String)] = []
        var inPaths = false
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let p = path, line.hasPrefix("    "), !line.hasPrefix("     "),
                      let m = ["get", "post", "put", "delete", "patch"].first(where: { line == "    \($0):" }) {
                out.append((m.uppercased(), p))
            }
        }
        return out
    }
}
