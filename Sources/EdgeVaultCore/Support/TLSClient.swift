import NIOSSL

/// The TLS settings of every connection EdgeVault opens (to a vault's public listener, to an
/// MQTT broker).
public enum TLSClient {
    /// TLS 1.2 or later to a server verified against the system's roots, or only against the
    /// PEM certificates in `trustRoots`.
    public static func context(trustRoots: String?) throws -> NIOSSLContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        if let roots = trustRoots {
            do {
                config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(roots))
            } catch {
                throw VaultError(.config, "cannot read the certificates to trust from \(roots): \(error)")
            }
        }
        return try NIOSSLContext(configuration: config)
    }
}
