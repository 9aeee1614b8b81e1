import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing

private let openssl = ["/usr/bin/openssl", "/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("End to end: TLS on the public listener", .serialized)
struct TLSEndToEndTests {
    @Test("With a certificate and key configured, organizations talk https and plain http is refused",
          .enabled(if: openssl != nil, "openssl is not installed, so no test certificate can be made"))
    func httpsOnly() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        let made = try await run(openssl!, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                            "-keyout", v.root + "/tls.key", "-out", v.root + "/tls.crt", "-days", "1", "-subj", "/CN=localhost",
                                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        #expect(made.status == 0, "\(made.stderr)")
        try await v.startDaemon(environment: ["EDGEVAULT_TLS_CERTIFICATE": v.root + "/tls.crt", "EDGEVAULT_TLS_KEY": v.root + "/tls.key"])
        #expect(v.daemonLog?.text.contains("scheme=https") == true)
        let keys = v.root + "/acme.key"
        #expect(try await v.cli(["org", "keygen", "--out", keys]).status == 0)
        let args = ["org", "request", "--vault", "https://localhost:\(v.publicPort)", "--key", keys, "--stream", "a/b",
                    "--from", "2026-11-01", "--to", "2027-01-01", "--purpose", "p", "--expires", "2027-01-01", "--name", "Acme", "--id", "tls-1"]
        let ok = try await v.cli(args + ["--cacert", v.root + "/tls.crt"])
        #expect(ok.status == 0 && ok.stdout.contains("tls-1 pending"), "\(ok.stderr)")
        // The certificate is not in the system's trust store: without --cacert the client refuses it.
        let untrusted = try await v.cli(args.map { $0 == "tls-1" ? "tls-2" : $0 })
        #expect(untrusted.status == 1)
        #expect(untrusted.stderr.hasPrefix("vault-cli: "), "\(untrusted.stderr)")
        // Plain HTTP to the TLS listener gets no answer.
        await #expect(throws: (any Error).self) { try await v.publicRequest("GET", "/healthz") }
        try await v.stopDaemon()
    }

    @Test("A certificate without its key is a configuration error at start-up")
    func halfConfigured() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        let r = try await run(try Binaries.path("vaultd"), ["--data-dir", v.dataDir, "--admin-socket", v.socket, "--config", "/dev/null",
                                                            "--listen", "127.0.0.1:0"],
                              environment: ["EDGEVAULT_TLS_CERTIFICATE": v.root + "/missing.crt"], timeout: .seconds(60))
        #expect(r.status != 0)
        #expect(r.stderr.contains("TLS needs both tls_certificate and tls_key"), "\(r.stderr)")
    }
}
