import EdgeVaultCore
import Synchronization

/// What the RFC 9421 check needs of an organization: its key (nil while only pinned by id)
/// and whether the person blocked it.
public struct OrgKey: Sendable, Equatable {
    public var publicKey: [UInt8]?
    public var isBlocked: Bool

    package init(publicKey: [UInt8]? = nil, isBlocked: Bool) {
        self.publicKey = publicKey
        self.isBlocked = isBlocked
    }
}

/// Organizations' keys in memory, so a signed call does not read the database to find its
/// signer. It stays equal to the `org` table: every write to that table goes through
/// `VaultStore` (the daemon is the only writer while it runs), which calls `changed` after the
/// transaction. A lookup that read the table before such a change must not store what it read:
/// the generation, bumped by every change, tells.
final class OrgKeyCache: Sendable {
    /// More organizations than a vault meets; past it the cache starts over rather than grow.
    static let capacity = 10_000

    private let state = Mutex<(generation: UInt64, keys: [String: OrgKey])>((0, [:]))

    /// The cached key, else `load()`'s answer, kept unless the table changed meanwhile.
    /// Unknown keys (nil) are not kept: they cost a read, and anyone can make up key ids.
    func lookup(_ keyId: String, load: () throws -> OrgKey?) rethrows -> OrgKey? {
        let (generation, cached) = state.withLock { ($0.generation, $0.keys[keyId]) }
        if let cached { return cached }
        guard let loaded = try load() else { return nil }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.keys.count >= Self.capacity { state.keys.removeAll() }
            state.keys[keyId] = loaded
        }
        return loaded
    }

    /// The organization's row was written (or a write was attempted): forget what was cached.
    func changed(_ keyId: String) {
        state.withLock { state in
            state.generation &+= 1
            state.keys[keyId] = nil
        }
    }
}
