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

/// The admin socket's file: refuse to steal another daemon's socket, create its directory,
/// and make it 0660 (owner and group `edgevault`) once bound.
enum AdminSocket {
    static func prepare(path: String) throws {
        guard path.utf8.count < 104 else {
            throw VaultError(.config, "admin socket path is too long (\(path.utf8.count) bytes; the limit is 103): \(path)")
        }
        let directory = FileIO.parentDirectory(path)
        func refuse(_ why: String) -> VaultError {
            VaultError(.config, "cannot create the admin socket \(path) (\(why)): run vaultd as a user who may, or move the socket "
                       + "with admin_socket in the config, --admin-socket or EDGEVAULT_ADMIN_SOCKET (for example under $HOME)")
        }
        do {
            try EdgeVaultCore.FileIO.makeDirectories(directory, mode: 0o750)
        } catch {
            throw refuse((error as? EdgeVaultCore.FileIO.Failure)?.description ?? "\(error)")
        }
        // The directory exists but may not be ours to write in (binding would fail with a bare
        // "stat(pathname:outStat:): Permission denied").
        guard access(directory, W_OK | X_OK) == 0 else {
            throw refuse("\(directory): \(String(cString: strerror(errno)))")
        }
        if FileIO.exists(path) && isAlive(path: path) {
            throw VaultError(.config, "another vaultd is already serving \(path)")
        }
    }

    /// Whether something accepts connections on the socket at `path`.
    static func isAlive(path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() where i < p.count - 1 { p[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return rc == 0
    }

    static func restrictPermissions(path: String) {
        _ = chmod(path, 0o660)
    }
}
