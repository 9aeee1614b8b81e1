import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultCompute
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Plain HTTP/1.1, or TLS around it when a certificate and key are configured.
func publicServer(_ http1: HTTPServerBuilder, configuration: Configuration) throws -> HTTPServerBuilder {
    switch (configuration.tlsCertificate, configuration.tlsKey) {
    case (nil, nil):
        return http1
    case (let cert?, let key?):
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
            tls.minimumTLSVersion = .tlsv12
            return try .tls(http1, tlsConfiguration: tls)
        } catch {
            throw VaultError(.config, "cannot load the TLS certificate \(cert) or key \(key): \(error)")
        }
    default:
        throw VaultError(.config, "TLS needs both tls_certificate and tls_key")
    }
}

/// The public API's routes (organizations and the log), exactly as the daemon serves them.
public func buildPublicRouter(store: VaultStore, ledger: LedgerService, configuration: Configuration,
                              notifier: RequestNotifier, witnessing: Witnessing?) async throws -> Router<PublicRequestContext> {
    let router = Router(context: PublicRequestContext.self)
    // Outermost: every request is counted and timed by route template (never its path, which
    // holds request and segment ids), with the status it got; shown on the admin socket only.
    router.add(middleware: MetricsMiddleware())
    let routes = RouteTable()
    router.add(middleware: ProblemMiddleware(routes: routes))
    router.get("/healthz") { _, _ in JSONBody(["status": "ok"]) }
    // No /metrics here: it is on the admin socket (and `metrics_listen`, loopback only).
    // The operations openapi.yaml documents are the ones routed here (a test keeps them equal).
    let document = ByteBuffer(bytes: OpenAPIDocument.bytes)
    router.get("/v1/openapi.yaml") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: document))
    }
    LogController(store: store, ledger: ledger).addRoutes(to: router)
    // The C2SP tlog-witness endpoint for the peers' logs (docs/PROTOCOL.md §"Witnesses").
    if let witnessing {
        WitnessController<PublicRequestContext>(witness: witnessing.witness).addRoutes(to: router.group().add(middleware: WitnessRateLimit()))
    }
    router.get("/v1/vault") { _, _ -> JSONBody<PublicVaultInfo> in
        let v = ledger.vault
        return JSONBody(PublicVaultInfo(origin: v.origin, userKeyId: v.userKeyId, userKey: Encoding.base64url([UInt8](v.userSigningKey)),
                                        logKey: ledger.verifier.text))
    }
    let limits = RequestLimits(maxPendingPerOrg: configuration.maxPendingPerOrg, maxPendingTotal: configuration.maxPendingTotal,
                               allowUnknownOrgs: configuration.allowUnknownOrgs)
    // One middleware (one nonce store, one rate limiter) for every organization-facing route.
    let violations = ViolationRecorder(store: store, ledger: ledger)
    let nonces = try await NonceStore(store: store)
    let signatureMiddleware = SignatureMiddleware(store: store, nonces: nonces,
                                                  limiter: RateLimiter(perMinute: configuration.requestsPerMinute), violations: violations)
    let signed = router.group("/v1/requests")
        .add(middleware: signatureMiddleware)
        .group(context: OrgRequestContext.self)
    RequestsController(store: store, ledger: ledger, limits: limits, notifier: notifier, violations: violations).addRoutes(to: signed)
    let grants = router.group("/v1/grants")
        .add(middleware: signatureMiddleware)
        .group(context: OrgRequestContext.self)
    GrantsController(store: store, ledger: ledger, violations: violations).addRoutes(to: grants)
    // The same middleware (nonces, rate), with room for a module's bytes.
    var moduleSignatures = signatureMiddleware
    moduleSignatures.maxBody = WasmModuleInfo.maxModuleBytes
    let modules = router.group("/v1/modules")
        .add(middleware: moduleSignatures)
        .group(context: OrgRequestContext.self)
    ModulesController(store: store, allowUnknownOrgs: configuration.allowUnknownOrgs).addRoutes(to: modules)
    // Shares kept for the peers the person added (docs/PROTOCOL.md §"Fragments").
    PeerSharesController<PublicRequestContext>(store: store, authenticator: PeerAuthenticator(store: store, nonces: nonces, origin: ledger.origin),
                                               files: ShareFiles(dataDir: configuration.dataDir), limits: configuration.shareLimits,
                                               transfers: TransferSlots(PeerSharesController<PublicRequestContext>.concurrentTransfers))
        .addRoutes(to: router)
    routes.load(from: router)
    return router
}
