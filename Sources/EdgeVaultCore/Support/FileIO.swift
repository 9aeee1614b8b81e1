#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// Small POSIX file helpers with explicit modes and size limits.
public enum FileIO {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let errno: Int32
        public let action: String

        public init(path: String, errno: Int32, action: String) {
            self.path = path
            self.errno = errno
            self.action = action
        }
        /// A failure reported by swift-system (its `Errno`; EIO for any other error).
        package init(path: String, error: any Error, action: String) {
            self.init(path: path, errno: (error as? Errno)?.rawValue ?? EIO, action: action)
        }

        public var description: String { "cannot \(action) \(path): \(String(cString: strerror(errno)))" }
        public var isNotFound: Bool { errno == ENOENT }
    }

    /// The names in directory `path` (not `.` nor `..`), sorted.
    public static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw Failure(path: path, errno: errno, action: "list") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Reads a whole file, refusing files larger than `limit`.
    public static func read(_ path: String, limit: Int) throws -> [UInt8] {
        try readAll(Reader(path), limit: limit)
    }

    /// Reads standard input to its end (at most `limit` bytes). Reads file descriptor 0 itself:
    /// opening `/dev/stdin` fails with EACCES when the pipe belongs to another user (`cat … |
    /// sudo -u person vault-cli ingest`).
    public static func readStandardInput(limit: Int) throws -> [UInt8] {
        try readAll(Reader(standardInput: ()), limit: limit)
    }

    private static func readAll(_ reader: Reader, limit: Int) throws -> [UInt8] {
        var out = [UInt8]()
        while let chunk = try reader.next(65536) {
            out.append(contentsOf: chunk)
            if out.count > limit { throw Failure(path: reader.path, errno: EFBIG, action: "read (over \(limit) bytes)") }
        }
        return out
    }

    /// Creates `path` (which must not exist) with `mode` and writes `bytes`, fsynced.
    public static func writeNew(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let writer = try Writer(creating: path, mode: mode)
        try writer.write(bytes)
        try writer.commit()
    }

    /// Reads a file front to back, a chunk at a time.
    public final class Reader {
        public let path: String
        private let fd: Int32

        public init(_ path: String) throws {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Failure(path: path, errno: errno, action: "read") }
            self.path = path
            self.fd = fd
        }

        /// Standard input (a duplicate of descriptor 0, so closing the reader leaves it open).
        public init(standardInput: Void) throws {
            let fd = fcntl(0, F_DUPFD_CLOEXEC, 0)
            guard fd >= 0 else { throw Failure(path: "standard input", errno: errno, action: "read") }
            self.path = "standard input"
            self.fd = fd
        }

        deinit { close(fd) }

        /// Up to `max` bytes, or nil at the end of the file.
        public func next(_ max: Int) throws -> [UInt8]? {
            var chunk = [UInt8](repeating: 0, count: max)
            while true {
                let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, max) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Failure(path: path, errno: errno, action: "read")
                }
                if n == 0 { return nil }
                chunk.removeSubrange(n...)
                return chunk
            }
        }

        /// Exactly `count` bytes, fewer only at the end of the file (empty there).
        public func exactly(_ count: Int) throws -> [UInt8] {
            var out: [UInt8] = []
            while out.count < count, let more = try next(count - out.count) { out += more }
            return out
        }
    }

    /// Writes a new file (which must not exist) in pieces; `commit` fsyncs it. Dropped without
    /// `commit`, or after a failed write, the partial file is removed.
    public final class Writer {
        public let path: String
        private let fd: Int32
        private let mode: mode_t
        private var committed = false

        public init(creating path: String, mode: mode_t) throws {
            // Open before any stored property is set: a throwing init of a fully initialized
            // object runs deinit, which would remove the file that was already there.
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            guard fd >= 0 else { throw Failure(path: path, errno: errno, action: "create") }
            self.path = path
            self.mode = mode
            self.fd = fd
        }

        deinit {
            close(fd)
            if !committed { unlink(path) }
        }

        public func write(_ bytes: [UInt8]) throws {
            try FileIO.writeAll(fd, bytes, path: path)
        }

        public func commit() throws {
            _ = fchmod(fd, mode)  // umask may have narrowed the mode; never widen past `mode`.
            guard fsync(fd) == 0 else { throw Failure(path: path, errno: errno, action: "sync") }
            committed = true
        }
    }

    /// Replaces `path` atomically (temp file, fsync, rename).
    public static func replace(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let tmp = path + ".tmp-\(getpid())"
        unlink(tmp)
        try writeNew(tmp, bytes, mode: mode)
        guard rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            throw Failure(path: path, errno: e, action: "replace")
        }
    }

    /// Writes all of `bytes` to `fd` (retrying on EINTR and after partial writes).
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String, action: String = "write") throws {
        do {
            try FileDescriptor(rawValue: fd).writeAll(bytes)
        } catch {
            throw Failure(path: path, error: error, action: action)
        }
    }

    /// Appends `bytes` to `path` (created with `mode` when missing) and fsyncs.
    public static func append(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(path: path, errno: errno, action: "open") }
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw Failure(path: path, errno: errno, action: "sync") }
    }

    /// Creates a directory and its missing parents; the last one gets `mode`.
    public static func makeDirectories(_ path: String, mode: mode_t) throws {
        if isDirectory(path) { return }
        let parent = parentDirectory(path)
        if parent != path && !parent.isEmpty && !isDirectory(parent) {
            try makeDirectories(parent, mode: 0o755)
        }
        if mkdir(path, mode) != 0 {
            if errno != EEXIST { throw Failure(path: path, errno: errno, action: "create directory") }
        } else {
            _ = chmod(path, mode)  // the mode asked for, not narrowed by vaultd's umask 077
        }
    }

    public static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// An absolute, `.`/`..`-free form of `path` (no symlink resolution).
    public static func absolute(_ path: String) -> String {
        var base = path
        if !path.hasPrefix("/") {
            var buf = [CChar](repeating: 0, count: 4096)
            let cwd = getcwd(&buf, buf.count) != nil ? String(cString: buf) : "/"
            base = cwd + "/" + path
        }
        var parts: [Substring] = []
        for p in base.split(separator: "/", omittingEmptySubsequences: true) {
            if p == "." { continue }
            if p == ".." { _ = parts.popLast(); continue }
            parts.append(p)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Whether `path` lies inside directory `dir` (both made absolute).
    public static func isInside(_ path: String, directory dir: String) -> Bool {
        let p = absolute(path), d = absolute(dir)
        return p == d || p.hasPrefix(d.hasSuffix("/") ? d : d + "/")
    }

    public static func environment(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }
}

extension FileIO {
    /// Writes `text` to standard error; a failure to write is ignored (there is nowhere left
    /// to report it).
    public static func writeStderr(_ text: String) {
        _ = try? FileDescriptor.standardError.writeAll(Array(text.utf8))
    }
}

extension FileIO {
    /// A file name for a log origin (`edgevault.local/abc` → `edgevault.local_abc`).
    public static func fileName(forOrigin origin: String) -> String {
        String(origin.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }
}
