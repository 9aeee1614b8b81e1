extension TlogPolicy {
    /// Reads a policy file (at most `maxBytes`), naming the file in any error.
    public static func load(path: String) throws -> TlogPolicy {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: maxBytes + 1)
        } catch {
            throw VaultError(.config, "cannot read the policy \(path): \(error)")
        }
        guard bytes.count <= maxBytes else { throw VaultError(.config, "the policy \(path) is larger than \(maxBytes) bytes") }
        do {
            return try TlogPolicy(text: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw VaultError(.config, "the policy \(path): \(error)")
        }
    }
}
