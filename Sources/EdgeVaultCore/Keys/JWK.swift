/// RFC 7638 JWK thumbprints and the short fingerprints shown to people.
public enum JWKThumbprint {
    /// The RFC 7638 §3 input: the required members, sorted by key, no whitespace.
    public static func canonicalJSON(_ members: [String: String]) -> [UInt8] {
        var out: [UInt8] = [0x7B]
        for (i, key) in members.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).enumerated() {
            if i > 0 { out.append(0x2C) }
            JSONText.appendQuoted(key, to: &out)
            out.append(0x3A)
            JSONText.appendQuoted(members[key]!, to: &out)
        }
        out.append(0x7D)
        return out
    }

    /// SHA-256 thumbprint of a JWK's required members, base64url without padding (RFC 7638 §3.1).
    public static func compute(_ members: [String: String]) -> String {
        Encoding.base64url(Hash.sha256(canonicalJSON(members)))
    }

    /// The public JWK members of an Ed25519 key (RFC 8037 §2).
    public static func ed25519Members(_ publicKey: [UInt8]) -> [String: String] {
        ["crv": "Ed25519", "kty": "OKP", "x": Encoding.base64url(publicKey)]
    }

    /// The key id of an Ed25519 public key: its RFC 7638 thumbprint.
    public static func ed25519(_ publicKey: [UInt8]) -> String {
        compute(ed25519Members(publicKey))
    }
}

/// The fingerprint people compare: the first 16 base32 characters of the thumbprint's hash
/// bytes, grouped by four (`ABCD-EFGH-IJKL-MNOP`).
public enum Fingerprint {
    public static func of(thumbprint: String) -> String? {
        guard let hash = Encoding.fromBase64url(thumbprint), hash.count == 32 else { return nil }
        let chars = Array(Encoding.base32(hash).prefix(16))
        return stride(from: 0, to: 16, by: 4).map { String(chars[$0..<$0 + 4]) }.joined(separator: "-")
    }
}
