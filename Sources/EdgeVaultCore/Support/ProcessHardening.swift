import CHardening
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What both `vaultd` and `vault-cli` do first thing in `main`, before any secret is in memory.
public enum ProcessHardening {
    /// No core dumps (a dump of `vaultd` would hold open segment keys and recent plaintext
    /// readings; one of `vault-cli` the person's unlocked keys): `RLIMIT_CORE` 0 (soft and
    /// hard, so it cannot be raised again) and `PR_SET_DUMPABLE` 0, which also stops
    /// processes of the same user from attaching with ptrace or reading `/proc/PID/mem`. With
    /// `restrictUmask` (vaultd) also a umask of 077: every file the daemon creates (database,
    /// WAL, shared memory, lock, backup copies) is its owner's only unless created with an
    /// explicit mode. Returns what could not be done, if anything.
    @discardableResult
    public static func apply(restrictUmask: Bool) -> [String] {
        var failures: [String] = []
        if ev_set_not_dumpable() != 0 { failures.append("prctl(PR_SET_DUMPABLE, 0): \(String(cString: strerror(errno)))") }
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        #if canImport(Glibc)
        if setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none) != 0 { failures.append("setrlimit(RLIMIT_CORE, 0): \(String(cString: strerror(errno)))") }
        #else
        if setrlimit(RLIMIT_CORE, &none) != 0 { failures.append("setrlimit(RLIMIT_CORE, 0): \(String(cString: strerror(errno)))") }
        #endif
        if restrictUmask { umask(0o077) }
        return failures
    }

    /// Whether this process may dump core or be attached to: false after `apply()` on Linux.
    public static var isDumpable: Bool { ev_get_dumpable() != 0 }

    /// The soft core-size limit of this process.
    public static var coreLimit: UInt64 {
        var limit = rlimit()
        #if canImport(Glibc)
        getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        #else
        getrlimit(RLIMIT_CORE, &limit)
        #endif
        return UInt64(limit.rlim_cur)
    }
}

/// An exclusive lock on a data directory (`flock` on `vaultd.lock`, which holds the holder's
/// pid): one `vaultd` per data directory, and no `vault-cli` command that writes the
/// directory's files directly (init, restore) while it runs. Released when the process exits,
/// however it exits.
public final class DataDirectoryLock: Sendable {
    public static let fileName = "vaultd.lock"

    public let path: String
    private let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Takes the lock on `dataDir` (which must exist), or throws one line naming the process
    /// that holds it.
    public static func acquire(dataDir: String) throws -> DataDirectoryLock {
        let path = dataDir + "/" + fileName
        var fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 && errno == EROFS {
            // A read-only file system: the lock still excludes others (flock needs no write
            // access); what follows reports the read-only database in its own words.
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else {
                throw VaultError(.storageUnavailable, "cannot open the vault in \(dataDir): its file system is mounted read-only")
            }
        }
        guard fd >= 0 else {
            throw VaultError(.storageUnavailable, "cannot open the data directory's lock \(path): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            if e == EINTR { continue }
            let owner = readOwner(fd)
            close(fd)
            if e == EWOULDBLOCK {
                throw VaultError(.config, "the data directory \(dataDir) is in use by \(owner ?? "another process") (lock \(path)); stop it first")
            }
            throw VaultError(.storageUnavailable, "cannot lock \(path): \(String(cString: strerror(e)))")
        }
        // Ours now: record who holds it (the file is 0600 whatever the umask).
        fchmod(fd, 0o600)
        let text = Array("\(ProcessHardening.programName) pid \(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return DataDirectoryLock(path: path, fd: fd)
    }

    /// "vaultd pid 1234" as the holder wrote it.
    static func readOwner(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 128)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        // Only what a holder writes: a program name and a pid.
        guard text.utf8.count < 100, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " " || $0 == "-") }) else { return nil }
        return text
    }
}

extension ProcessHardening {
    /// This executable's name, for the lock file (`vaultd`, `vault-cli`).
    public static var programName: String {
        let arg0 = CommandLine.arguments.first ?? "edgevault"
        let name = arg0.split(separator: "/").last.map(String.init) ?? arg0
        return name.isEmpty ? "edgevault" : name
    }
}
