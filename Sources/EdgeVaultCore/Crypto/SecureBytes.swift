import CSodium
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A fixed-size buffer of secret bytes in libsodium guarded memory.
///
/// The memory comes from `sodium_malloc` (guard pages, `mlock`ed where the system allows),
/// so it is never swapped out or written into a core dump, and `sodium_free` wipes it when
/// the last reference goes away. Secrets never live in ordinary Swift arrays for longer
/// than the call that produced them.
public final class SecureBytes: @unchecked Sendable {
    // @unchecked: the pointer is fixed for the object's lifetime; writes happen only through
    // `withUnsafeMutableBytes` by the owner before the value is shared.
    public let count: Int
    private let pointer: UnsafeMutableRawPointer

    /// Allocates `count` zeroed bytes of guarded memory (`count` may be 0: an empty secret,
    /// such as an empty password, is still a secret's value).
    public init(count: Int) {
        precondition(count >= 0, "SecureBytes needs a size of 0 or more")
        Sodium.ensureInitialized()
        guard let p = sodium_malloc(count) else {
            fatalError("sodium_malloc(\(count)) failed: out of memory")
        }
        sodium_memzero(p, count)
        self.pointer = p
        self.count = count
    }

    /// Fresh random secret bytes.
    public static func random(count: Int) -> SecureBytes {
        let s = SecureBytes(count: count)
        s.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return s
    }

    /// Copies `bytes` into guarded memory and wipes the source array.
    public convenience init(wiping bytes: inout [UInt8]) {
        self.init(count: bytes.count)
        let n = bytes.count
        guard n > 0 else { return }
        bytes.withUnsafeBytes { src in
            self.withUnsafeMutableBytes { dst in dst.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n) }
        }
        Sodium.wipe(&bytes)
    }

    deinit {
        sodium_free(pointer)  // wipes before freeing
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    }

    /// A new buffer holding bytes `range` of this one.
    public func slice(_ range: Range<Int>) -> SecureBytes {
        precondition(range.lowerBound >= 0 && range.upperBound <= count && !range.isEmpty)
        let out = SecureBytes(count: range.count)
        withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                dst.baseAddress!.copyMemory(from: src.baseAddress! + range.lowerBound, byteCount: range.count)
            }
        }
        return out
    }

    /// Constant-time equality with another secret.
    public func isEqual(to other: SecureBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in other.withUnsafeBytes { b in sodium_memcmp(a.baseAddress!, b.baseAddress!, count) == 0 } }
    }
}

extension SecureBytes {
    /// The first line of the file at `path` (up to its first line feed or carriage return, or
    /// the whole file), read straight into guarded memory: no copy of the file's bytes is left
    /// in ordinary memory. For a secret kept in a file of its own (the MQTT broker password).
    /// Throws `FileIO.Failure` when the file cannot be read or is larger than `limit`.
    public static func firstLine(ofFile path: String, limit: Int) throws -> SecureBytes {
        let buffer = SecureBytes(count: limit + 1)
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw FileIO.Failure(path: path, error: error, action: "read")
        }
        defer { try? fd.close() }
        var length = 0
        do {
            try buffer.withUnsafeMutableBytes { buf in
                while length < buf.count {
                    let n = try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[length...]))
                    if n == 0 { break }
                    length += n
                }
            }
        } catch {
            throw FileIO.Failure(path: path, error: error, action: "read")
        }
        guard length <= limit else { throw FileIO.Failure(path: path, errno: EFBIG, action: "read (over \(limit) bytes)") }
        let line = buffer.withUnsafeBytes { $0[..<length].firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) } ?? length
        return line == 0 ? SecureBytes(count: 0) : buffer.slice(0..<line)
    }
}
