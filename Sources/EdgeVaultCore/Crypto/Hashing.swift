import CSodium

/// Hash functions: SHA-256 (Merkle tree, thumbprints, digests) and BLAKE2b.
public enum Hash {
    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { sha256($0) }
    }

    public static func sha256(_ data: UnsafeRawBufferPointer) -> [UInt8] {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_bytes()))
        _ = out.withUnsafeMutableBufferPointer { o in
            crypto_hash_sha256(o.baseAddress!, data.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
        }
        return out
    }

    /// BLAKE2b (`crypto_generichash`) with an optional key; `length` 16…64.
    public static func blake2b(_ data: [UInt8], length: Int = 32, key: [UInt8] = []) -> [UInt8] {
        Sodium.ensureInitialized()
        precondition(length >= Int(crypto_generichash_bytes_min()) && length <= Int(crypto_generichash_bytes_max()))
        var out = [UInt8](repeating: 0, count: length)
        _ = out.withUnsafeMutableBufferPointer { o in
            data.withUnsafeBufferPointer { d in
                key.withUnsafeBufferPointer { k in
                    crypto_generichash(o.baseAddress!, length, d.baseAddress, UInt64(data.count), k.baseAddress, key.count)
                }
            }
        }
        return out
    }
}

/// Incremental SHA-256, for hashing several pieces without concatenating them.
public struct SHA256Hasher {
    private var state = crypto_hash_sha256_state()

    public init() {
        Sodium.ensureInitialized()
        crypto_hash_sha256_init(&state)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        crypto_hash_sha256_update(&state, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    public mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        _ = out.withUnsafeMutableBufferPointer { crypto_hash_sha256_final(&state, $0.baseAddress!) }
        return out
    }
}
