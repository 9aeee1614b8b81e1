import CSodium

/// libsodium's `crypto_secretstream_xchacha20poly1305`: a stream of authenticated pieces under
/// one key, each piece bound to its place, and the last one marked, so pieces cannot be
/// reordered, dropped or cut off without the reader noticing. Used for the fragment blob
/// (docs/PROTOCOL.md §"Fragments": the blob).
public final class SecretStream: @unchecked Sendable {
    public static var headerBytes: Int { Int(crypto_secretstream_xchacha20poly1305_headerbytes()) }
    /// Bytes each piece grows by.
    public static var overhead: Int { Int(crypto_secretstream_xchacha20poly1305_abytes()) }
    public static var keyBytes: Int { Int(crypto_secretstream_xchacha20poly1305_keybytes()) }

    /// The stream's state (it holds key material): guarded memory, wiped when freed.
    private let state: SecureBytes

    private init() {
        Sodium.ensureInitialized()
        state = SecureBytes(count: Int(crypto_secretstream_xchacha20poly1305_statebytes()))
    }

    /// A writer under `key`; `header` goes first in the stream.
    public static func push(key: SecureBytes) throws -> (SecretStream, header: [UInt8]) {
        guard key.count == keyBytes else { throw CryptoError.invalidKey }
        let stream = SecretStream()
        var header = [UInt8](repeating: 0, count: headerBytes)
        let rc = stream.state.withUnsafeMutableBytes { s in
            key.withUnsafeBytes { k in
                crypto_secretstream_xchacha20poly1305_init_push(
                    s.baseAddress!.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self), &header,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw CryptoError.primitiveFailed("crypto_secretstream_xchacha20poly1305_init_push") }
        return (stream, header)
    }

    /// A reader under `key`, given the stream's header.
    public static func pull(key: SecureBytes, header: [UInt8]) throws -> SecretStream {
        guard key.count == keyBytes else { throw CryptoError.invalidKey }
        guard header.count == headerBytes else { throw CryptoError.authenticationFailed }
        let stream = SecretStream()
        let rc = stream.state.withUnsafeMutableBytes { s in
            key.withUnsafeBytes { k in
                crypto_secretstream_xchacha20poly1305_init_pull(
                    s.baseAddress!.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self), header,
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        return stream
    }

    /// Encrypts the next piece; `final` marks the last one.
    public func seal(_ piece: [UInt8], final: Bool) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: piece.count + Self.overhead)
        let tag = final ? crypto_secretstream_xchacha20poly1305_tag_final() : crypto_secretstream_xchacha20poly1305_tag_message()
        let padded = piece.isEmpty ? [0] : piece  // a valid pointer even for an empty piece
        let rc = state.withUnsafeMutableBytes { s in
            crypto_secretstream_xchacha20poly1305_push(
                s.baseAddress!.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self), &out, nil,
                padded, UInt64(piece.count), nil, 0, tag)
        }
        precondition(rc == 0, "crypto_secretstream_xchacha20poly1305_push failed")
        return out
    }

    /// Decrypts and authenticates the next piece; returns it and whether it was the last.
    public func open(_ sealed: [UInt8]) throws -> (piece: [UInt8], final: Bool) {
        guard sealed.count >= Self.overhead else { throw CryptoError.authenticationFailed }
        var out = [UInt8](repeating: 0, count: sealed.count - Self.overhead + 1)
        var tag: UInt8 = 0
        var length: UInt64 = 0
        let rc = state.withUnsafeMutableBytes { s in
            crypto_secretstream_xchacha20poly1305_pull(
                s.baseAddress!.assumingMemoryBound(to: crypto_secretstream_xchacha20poly1305_state.self), &out, &length, &tag,
                sealed, UInt64(sealed.count), nil, 0)
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        out.removeLast(out.count - Int(length))
        return (out, tag == crypto_secretstream_xchacha20poly1305_tag_final())
    }
}
