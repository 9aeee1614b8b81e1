import CSodium
import EdgeVaultCore

/// SLIP-0039's primitives on the secret (docs/PROTOCOL.md §"Key recovery"): HMAC-SHA256,
/// PBKDF2-HMAC-SHA256 and the four-round Feistel cipher that turns the master secret into the
/// encrypted master secret (EMS) that is shared.
///
/// libsodium has HMAC-SHA256 (`crypto_auth_hmacsha256_*`, any key length) but no PBKDF2, so
/// PBKDF2 (RFC 8018 §5.2) is written here on top of it: the keyed HMAC state is set up once
/// per call and copied for every iteration.
enum Slip39Cipher {
    static let baseIterationCount = 10_000
    static let roundCount = 4

    /// HMAC-SHA256(key, message).
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialized()
        var state = crypto_auth_hmacsha256_state()
        crypto_auth_hmacsha256_init(&state, key, key.count)
        crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
        var out = [UInt8](repeating: 0, count: 32)
        crypto_auth_hmacsha256_final(&state, &out)
        Self.wipe(&state)
        return out
    }

    /// PBKDF2-HMAC-SHA256(password, salt, iterations, length).
    static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        precondition(iterations >= 1 && length >= 0)
        Sodium.ensureInitialized()
        var keyed = crypto_auth_hmacsha256_state()
        crypto_auth_hmacsha256_init(&keyed, password, password.count)
        defer { Self.wipe(&keyed) }
        var out = [UInt8]()
        var block: UInt32 = 1
        var u = [UInt8](repeating: 0, count: 32), t = [UInt8](repeating: 0, count: 32)
        defer { Sodium.wipe(&u); Sodium.wipe(&t) }
        while out.count < length {
            var state = keyed
            let counter = withUnsafeBytes(of: block.bigEndian) { Array($0) }
            crypto_auth_hmacsha256_update(&state, salt, UInt64(salt.count))
            crypto_auth_hmacsha256_update(&state, counter, 4)
            crypto_auth_hmacsha256_final(&state, &u)
            t = u
            for _ in 1..<iterations {
                state = keyed
                crypto_auth_hmacsha256_update(&state, u, 32)
                crypto_auth_hmacsha256_final(&state, &u)
                for i in 0..<32 { t[i] ^= u[i] }
            }
            Self.wipe(&state)
            out += t.prefix(length - out.count)
            block += 1
        }
        return out
    }

    /// The salt prefix: empty for extendable backups, else "shamir" ‖ id (2 bytes, big-endian).
    static func salt(identifier: Int, extendable: Bool) -> [UInt8] {
        extendable ? [] : Array("shamir".utf8) + [UInt8(identifier >> 8), UInt8(identifier & 0xFF)]
    }

    /// Encrypt (`decrypt: false`) or decrypt the master secret: four Feistel rounds whose round
    /// function is PBKDF2(i ‖ passphrase, salt ‖ R, 10000·2ᵉ / 4, |R|); decryption runs the
    /// rounds in reverse order. Intermediate halves are wiped.
    static func feistel(
        _ input: [UInt8], passphrase: [UInt8], iterationExponent: Int, identifier: Int, extendable: Bool, decrypt: Bool
    ) -> [UInt8] {
        precondition(input.count % 2 == 0)
        let half = input.count / 2
        var left = Array(input[..<half]), right = Array(input[half...])
        let salt = salt(identifier: identifier, extendable: extendable)
        let iterations = (baseIterationCount << iterationExponent) / roundCount
        let rounds = decrypt ? Array((0..<roundCount).reversed()) : Array(0..<roundCount)
        for i in rounds {
            var key = [UInt8(i)] + passphrase
            var roundSalt = salt + right
            var f = pbkdf2(password: key, salt: roundSalt, iterations: iterations, length: half)
            var next = left
            for j in 0..<half { next[j] ^= f[j] }
            Sodium.wipe(&key); Sodium.wipe(&roundSalt); Sodium.wipe(&f); Sodium.wipe(&left)
            left = right
            right = next
        }
        let out = right + left
        Sodium.wipe(&left); Sodium.wipe(&right)
        return out
    }

    private static func wipe(_ state: inout crypto_auth_hmacsha256_state) {
        withUnsafeMutableBytes(of: &state) { Sodium.wipe($0) }
    }
}
