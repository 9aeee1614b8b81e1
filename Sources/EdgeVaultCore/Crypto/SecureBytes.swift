import CSodium

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

    /// Allocates `count` zeroed bytes of guarded memory.
    public init(count: Int) {
        precondition(count > 0, "SecureBytes needs a positive size")
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
