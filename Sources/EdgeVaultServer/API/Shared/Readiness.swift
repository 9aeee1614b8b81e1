import EdgeVaultCore
import EdgeVaultStore
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

/// Logs `vaultd ready` (with every listener's address) once all listeners are up.
actor Readiness {
    let expected: Int
    let logger: Logger
    var addresses: [(String, String)] = []

    init(expected: Int, logger: Logger) {
        self.expected = expected
        self.logger = logger
    }

    func ready(_ name: String, _ address: String) {
        addresses.append((name, address))
        guard addresses.count == expected else { return }
        var metadata: Logger.Metadata = ["version": "\(EdgeVaultVersion.current)"]
        for (k, v) in addresses { metadata[k] = "\(v)" }
        logger.notice("vaultd ready", metadata: metadata)
    }
}
