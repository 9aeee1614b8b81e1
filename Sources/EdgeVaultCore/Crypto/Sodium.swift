import CSodium

/// Errors from the cryptographic layer.
///
/// They say nothing specific on purpose (like swift-crypto's `authenticationFailure`): an
/// attacker learns nothing from which check failed.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A MAC, signature or sealed box did not verify.
    case authenticationFailed
    /// A key or nonce had the wrong length or form.
    case invalidKey
    /// libsodium could not allocate secure memory or run a primitive.
    case primitiveFailed(String)

    public var description: String {
        switch self {
        case .authenticationFailed: return "authentication failed"
        case .invalidKey: return "invalid key"
        case .primitiveFailed(let what): return "cryptographic operation failed: \(what)"
        }
    }
}

/// Process-wide libsodium initialisation.
public enum Sodium {
    private static let initialized: Bool = {
        // sodium_init is idempotent and thread-safe; 1 means "already initialised".
        sodium_init() >= 0
    }()

    /// Initialises libsodium once; every entry point of the crypto layer calls it.
    public static func ensureInitialized() {
        precondition(initialized, "libsodium could not be initialised")
    }

    /// `count` bytes from the operating system's CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialized()
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) }
        return out
    }

    /// Constant-time comparison of two byte strings of equal length.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in sodium_memcmp(pa.baseAddress!, pb.baseAddress!, a.count) == 0 }
        }
    }

    /// Overwrites a Swift array's storage with zeros in a way the optimiser keeps.
    public static func wipe(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        let n = bytes.count
        bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress!, n) }
    }

    /// Overwrites memory in place with zeros in a way the optimiser keeps (a buffer of bytes
    /// that held a secret, before it is freed).
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        sodium_memzero(base, buffer.count)
    }
}
