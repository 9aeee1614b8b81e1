/// What a vault places on its peers (docs/PROTOCOL.md §"Fragments", "The blob"): its backup
/// encrypted whole under a fresh key sealed to the person's box key, so that the shares (the
/// code is systematic: shares 0…k−1 are the blob itself) show a holder nothing of the vault,
/// not even the backup's unencrypted metadata, and two pushes of the same vault share no bytes.
///
/// `EDGEVAULT-FRAGMENTS/1\n`, the key sealed to the person (`crypto_box_seal`, 80 bytes), the
/// `crypto_secretstream_xchacha20poly1305` header (24 bytes), then the backup in 1 MiB pieces,
/// each sealed (+17 bytes), the last one (possibly empty) tagged final.
public enum FragmentBlob {
    public static let magic = Array("EDGEVAULT-FRAGMENTS/1\n".utf8)
    public static let pieceBytes = 1 << 20

    /// Encrypts what `next` yields (any piece sizes, nil at the end) to `write`, under a fresh key
    /// sealed to `boxKey`. Returns the blob's length.
    @discardableResult
    public static func encrypt(to boxKey: [UInt8], next: () throws -> [UInt8]?, write: ([UInt8]) throws -> Void) throws -> Int {
        let key = SecureBytes.random(count: SecretStream.keyBytes)
        let sealedKey = try SealedBox.seal(key, to: boxKey)
        let (stream, header) = try SecretStream.push(key: key)
        var total = magic.count + sealedKey.count + header.count
        try write(magic + sealedKey + header)
        var pending: [UInt8] = []
        while let more = try next() {
            pending += more
            while pending.count >= pieceBytes {
                let piece = stream.seal(Array(pending.prefix(pieceBytes)), final: false)
                pending.removeFirst(pieceBytes)
                total += piece.count
                try write(piece)
            }
        }
        let last = stream.seal(pending, final: true)
        try write(last)
        return total + last.count
    }

    /// Decrypts a blob read by `read` (it returns up to the number of bytes asked, empty at the
    /// end) with the person's box key, handing the backup's bytes to `write`. Fails on a blob
    /// that is not one, a key that is not the person's, and any altered, reordered, missing or
    /// extra byte.
    public static func decrypt(with box: BoxKeyPair, read: (Int) throws -> [UInt8], write: ([UInt8]) throws -> Void) throws {
        let sealedKeyBytes = SecretStream.keyBytes + SealedBox.overhead
        let head = try read(magic.count + sealedKeyBytes + SecretStream.headerBytes)
        guard head.count == magic.count + sealedKeyBytes + SecretStream.headerBytes, head.starts(with: magic) else {
            throw VaultError(.fragmentInvalid, "the fragments do not make an EdgeVault fragment blob")
        }
        let key: SecureBytes
        do {
            key = try SealedBox.open(Array(head[magic.count..<(magic.count + sealedKeyBytes)]), keyPair: box)
        } catch {
            throw VaultError(.keyMismatch, "the fragment blob's key does not open with your key")
        }
        let stream = try SecretStream.pull(key: key, header: Array(head.suffix(SecretStream.headerBytes)))
        while true {
            let sealed = try read(pieceBytes + SecretStream.overhead)
            guard !sealed.isEmpty else { throw VaultError(.fragmentInvalid, "the fragment blob is cut short") }
            let piece: (piece: [UInt8], final: Bool)
            do { piece = try stream.open(sealed) } catch {
                throw VaultError(.fragmentInvalid, "the fragment blob does not decrypt (altered or not made for your key)")
            }
            try write(piece.piece)
            if piece.final {
                guard try read(1).isEmpty else { throw VaultError(.fragmentInvalid, "the fragment blob has bytes after its end") }
                return
            }
        }
    }
}
