import CSodium
import Hummingbird
#if canImport(Glibc)
import Glibc
#endif

// The smallest Hummingbird daemons, baselines for vaultd:
//   bare-hummingbird [SOCKET]           /healthz on a Unix socket: the baseline for idle RSS.
//   bare-hummingbird --listen HOST:PORT /healthz and /verify on TCP: `/verify` checks one
//       Ed25519 signature per call (libsodium, a fixed 300-byte message) and answers a small
//       JSON body — the least any signed-call API on Hummingbird does, the requests benchmark's
//       ceiling. Prints "bare-hummingbird ready listen=HOST:PORT" once bound (port 0: any).
let arguments = Array(CommandLine.arguments.dropFirst())
let router = Router()
router.get("/healthz") { _, _ in "ok" }

if arguments.first == "--listen", arguments.count == 2, let colon = arguments[1].lastIndex(of: ":"),
   let port = Int(arguments[1][arguments[1].index(after: colon)...]) {
    guard sodium_init() >= 0 else { fatalError("libsodium failed to initialise") }
    var publicKey = [UInt8](repeating: 0, count: 32), secretKey = [UInt8](repeating: 0, count: 64)
    crypto_sign_keypair(&publicKey, &secretKey)
    let message = [UInt8](repeating: 0x61, count: 300)
    var signature = [UInt8](repeating: 0, count: 64)
    crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey)
    let (key, sig) = (publicKey, signature)
    router.get("/verify") { _, _ -> Response in
        guard crypto_sign_verify_detached(sig, message, UInt64(message.count), key) == 0 else { return Response(status: .unauthorized) }
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: #"{"id":"bench-1","status":"pending"}"#)))
    }
    let host = String(arguments[1][..<colon])
    let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)),
                          onServerRunning: {
                              let line = Array("bare-hummingbird ready listen=\(host):\($0.localAddress?.port ?? port)\n".utf8)
                              _ = write(1, line, line.count)
                          })
    try await app.runService()
} else {
    let path = arguments.first ?? "/tmp/bare-hummingbird.sock"
    let app = Application(router: router, configuration: .init(address: .unixDomainSocket(path: path)))
    try await app.runService()
}
