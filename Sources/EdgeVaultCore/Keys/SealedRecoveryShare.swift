/// One SLIP-0039 share sealed to a peer (docs/PROTOCOL.md §"Key recovery", "Shares sealed to
/// peers"): `vault-cli recovery split --seal-group G --to-peer NAME…` seals each share of group G
/// to one peer's witness key (as X25519), and the person's vaultd leaves it with that peer. Only
/// the peer's gateway opens it (`vault-cli recovery open-share` there, by the peer's person), for
/// the day the person has lost their key.
///
/// JSON: `{"type": "edgevault.recovery-share/v1", "vault", "holder", "group", "member",
/// "sealed"}`: the person's vault origin, the peer's origin, the share's group and number in it
/// (1-based) and base64 of `crypto_box_seal(mnemonic, X25519 of the peer's witness key)`.
public struct SealedRecoveryShare: Sendable, Equatable {
    public static let type = "edgevault.recovery-share/v1"
    public static let maxBytes = 8 * 1024

    public var vault: String
    public var holder: String
    public var group: Int
    public var member: Int
    public var sealed: [UInt8]

    public init(vault: String, holder: String, group: Int, member: Int, sealed: [UInt8]) {
        self.vault = vault
        self.holder = holder
        self.group = group
        self.member = member
        self.sealed = sealed
    }

    /// Seals `mnemonic` to the peer whose witness key (verifier key text) is `witnessKey`.
    public static func seal(mnemonic: String, vault: String, holder: String, group: Int, member: Int, witnessKey: String) throws -> SealedRecoveryShare {
        let to = try CosignatureVerifier(witnessKey).publicKey.boxPublicKey()
        var bytes = Array(mnemonic.utf8)
        let sealed = try SealedBox.seal(SecureBytes(wiping: &bytes), to: to)
        return SealedRecoveryShare(vault: vault, holder: holder, group: group, member: member, sealed: sealed)
    }

    /// Opens the share with the holder's witness key pair.
    public func open(with witness: SigningKeyPair) throws -> SecureBytes {
        do {
            return try SealedBox.open(sealed, keyPair: try witness.boxKeyPair())
        } catch {
            throw VaultError(.keyMismatch, "this recovery share was not sealed to this vault's witness key")
        }
    }

    public var json: JSONValue {
        .object(["type": .string(Self.type), "vault": .string(vault), "holder": .string(holder), "group": .number("\(group)"),
                 "member": .number("\(member)"), "sealed": .string(Encoding.base64(sealed))])
    }

    public init(bytes: [UInt8]) throws {
        let shape = VaultError(.badRequest, "a sealed recovery share is {\"type\": \"\(Self.type)\", \"vault\", \"holder\", \"group\", \"member\", \"sealed\"} of at most \(Self.maxBytes) bytes")
        guard bytes.count <= Self.maxBytes, let json = try? JSONValue.parse(bytes), json["type"]?.stringValue == Self.type,
              let vault = json["vault"]?.stringValue, !vault.isEmpty, vault.utf8.count <= 255,
              let holder = json["holder"]?.stringValue, !holder.isEmpty, holder.utf8.count <= 255,
              case .number(let g)? = json["group"], let group = Int(g), (1...16).contains(group),
              case .number(let m)? = json["member"], let member = Int(m), (1...16).contains(member),
              let sealed = json["sealed"]?.stringValue.flatMap(Encoding.fromBase64), sealed.count > SealedBox.overhead else { throw shape }
        self.init(vault: vault, holder: holder, group: group, member: member, sealed: sealed)
    }
}
