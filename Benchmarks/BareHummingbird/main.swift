import Hummingbird

// The smallest Hummingbird daemon on a Unix socket: the baseline for vaultd's idle RSS.
let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "/tmp/bare-hummingbird.sock"
let router = Router()
router.get("/healthz") { _, _ in "ok" }
let app = Application(router: router, configuration: .init(address: .unixDomainSocket(path: path)))
try await app.runService()
