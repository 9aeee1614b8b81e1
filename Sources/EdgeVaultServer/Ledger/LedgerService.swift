import EdgeVaultCore
import EdgeVaultStore
import Logging
import ServiceLifecycle

/// Signs checkpoints of the vault's ledger with the log key and keeps every one.
///
/// Appends are batched: a caller that appended reports it with `appended()`, and one
/// checkpoint follows within `interval` (default 250 ms) for every append reported meanwhile
/// (a delayed task per batch, no running timer); a caller whose entry must be anchored (a
/// grant, a release, a retention deletion) calls `anchor`, which signs at once when needed.
/// The log key stays in guarded memory.
public actor LedgerService {
    public nonisolated let origin: String
    public nonisolated let verifier: SignedNote.Verifier
    /// The vault's record (its identity: origin, the person's keys, the log key). It never
    /// changes, so it is read once, at start-up, here where the log key is checked against it;
    /// handlers take the person's key and the origin from it instead of reading it again.
    public nonisolated let vault: VaultRecord
    let store: VaultStore
    let signer: SigningKeyPair
    let interval: Duration
    let logger: Logger
    var latest: VaultStore.StoredCheckpoint?
    var scheduled: Task<Void, Never>?
    /// Told of every new checkpoint (the cosignature collector submits it to the witnesses).
    var observer: (@Sendable (VaultStore.StoredCheckpoint) -> Void)?
    /// Set when `quorum.required` is on: what grants and releases wait for.
    var quorum: (@Sendable (Int64) async throws -> Void)?

    /// Loads the log key from the data directory and checks it against the vault record.
    public init(store: VaultStore, dataDir: String, interval: Duration = .milliseconds(250), logger: Logger) async throws {
        let (name, keyPair) = try LogKeyFile.loadSigner(dataDir: dataDir)
        let vault = try await store.vault()
        guard keyPair.publicKey.bytes == [UInt8](vault.logPublicKey), name == vault.origin else {
            throw VaultError(.keyMismatch, "\(dataDir)/\(LogKeyFile.name) is not this vault's log key")
        }
        self.origin = name
        self.vault = vault
        self.signer = keyPair
        self.verifier = try SignedNote.Verifier(NoteKeys.verifierKey(name: name, publicKey: keyPair.publicKey.bytes))
        self.store = store
        self.interval = interval
        self.logger = logger
        self.latest = try await store.latestCheckpoint()
    }


    /// Signs a checkpoint of the whole current tree when it grew since the last one; returns
    /// the latest checkpoint either way (one that includes every leaf appended before the call).
    ///
    /// The store calls suspend, so other calls run meanwhile: two may sign the same tree head
    /// (the same note; the second insert is ignored) and an anchored append may store a later
    /// checkpoint, which `latest` keeps (it only grows).
    @discardableResult
    public func checkpointNow() async throws -> VaultStore.StoredCheckpoint {
        let head = try await store.treeHead()
        if let latest, latest.size >= head.size { return latest }
        let cp = Checkpoint(origin: origin, size: head.size, root: head.root)
        let note = SignedNote.sign(text: cp.text, name: origin, keyPair: signer)
        let now = Timestamp.now()
        try await store.saveCheckpoint(cp, note: note, at: now)
        let stored = VaultStore.StoredCheckpoint(size: cp.size, root: cp.root, note: note, createdAt: now)
        advance(stored)
        return stored
    }

    /// Keeps `stored` as the latest checkpoint when it is newer, and tells the observer.
    private func advance(_ stored: VaultStore.StoredCheckpoint) {
        guard stored.size > (latest?.size ?? 0) else { return }
        latest = stored
        observer?(stored)
    }

    /// Sets who is told of every new checkpoint (once, at start-up).
    public func observe(_ observer: @escaping @Sendable (VaultStore.StoredCheckpoint) -> Void) {
        self.observer = observer
        if let latest { observer(latest) }
    }

    /// Makes `anchorWitnessed` wait for `wait(size)`: the witnesses' quorum on a checkpoint of
    /// at least that size (`quorum.required`, docs/PROTOCOL.md §"Witnesses").
    public func requireQuorum(_ wait: @escaping @Sendable (Int64) async throws -> Void) {
        quorum = wait
    }

    /// With `quorum.required`: waits (up to the timeout) for the witnesses' quorum on the
    /// latest checkpoint, before an entry that must itself be cosigned is written, so that a
    /// vault whose witnesses are away does not pile up entries nothing can follow.
    public func requireWitnessedHead() async throws {
        guard let quorum, let latest else { return }
        try await quorum(latest.size)
    }

    /// `anchor(index:)`, then, when `quorum.required` is on, the witnesses' quorum on a
    /// checkpoint that includes the leaf: for grants and releases, which must not leave the
    /// vault on a checkpoint only the vault vouches for. Throws `witness_quorum` on timeout.
    public func anchorWitnessed(index: Int64) async throws -> VaultStore.StoredCheckpoint {
        let cp = try await anchor(index: index)
        if let quorum { try await quorum(index + 1) }
        return cp
    }

    /// Appends `leaf` and signs a checkpoint that includes it, in one durable transaction:
    /// for entries that must be anchored before the caller goes on (releases).
    public func appendAnchored(_ leaf: LedgerLeaf) async throws -> VaultStore.StoredCheckpoint {
        let origin = self.origin, signer = self.signer
        let now = Timestamp.now()
        let stored = try await store.appendAndCheckpoint(leaf) { head in
            let cp = Checkpoint(origin: origin, size: head.size, root: head.root)
            return (cp, SignedNote.sign(text: cp.text, name: origin, keyPair: signer), now)
        }
        advance(stored)
        return stored
    }

    /// Tells the service that leaves were appended: a checkpoint follows within the interval.
    public func appended() {
        guard scheduled == nil else { return }
        scheduled = Task {
            try? await Task.sleep(for: interval)
            await self.fireScheduled()
        }
    }

    private func fireScheduled() async {
        scheduled = nil
        do {
            try await checkpointNow()
        } catch {
            logger.error("cannot sign a checkpoint", metadata: ["error": "\(error)"])
        }
    }

    /// A checkpoint that includes leaf `index`, signed now if none does yet. Throws when the
    /// checkpoint cannot be written: whatever depends on the anchor must then fail closed.
    public func anchor(index: Int64) async throws -> VaultStore.StoredCheckpoint {
        if let latest, latest.size > index { return latest }
        let cp = try await checkpointNow()
        guard cp.size > index else { throw VaultError(.storageUnavailable, "leaf \(index) is not in the log") }
        return cp
    }

    public func latestCheckpoint() -> VaultStore.StoredCheckpoint? { latest }

    /// Everything needed to check leaf `index` offline: against the checkpoint that covers it
    /// with the most cosignatures (docs/PROTOCOL.md §"Witnesses"), those lines included, or
    /// the latest checkpoint when none is cosigned.
    public func receipt(index: Int64) async throws -> Receipt {
        var cp = try await anchor(index: index)
        var note = cp.note
        if let (cosigned, lines) = try await store.bestCosignedCheckpoint(covering: index) {
            cp = cosigned
            note = cosigned.note + lines.joined()
        }
        guard let leaf = try await store.leaf(at: index) else { throw VaultError(.notFound, "no leaf \(index)") }
        let proof = try await store.inclusionProof(index: index, size: cp.size)
        return Receipt(index: index, leaf: Encoding.base64(leaf), proof: proof.map(Encoding.base64), checkpoint: note)
    }

    /// The latest checkpoint with every cosignature it has collected so far.
    public func latestCosigned() async throws -> String? {
        guard let latest else { return nil }
        return latest.note + (try await store.cosignatures(size: latest.size).map(\.line).joined())
    }
}

/// Signs a checkpoint at start-up for anything appended before a crash, and a final one on
/// graceful shutdown. It runs no timer: checkpoints in between come from
/// `LedgerService.appended()` and `anchor(index:)`.
public struct LedgerCheckpointService: Service {
    let ledger: LedgerService
    /// Started here, once the checkpoint of anything appended before a crash is signed.
    let collector: CosignatureCollector?

    public init(ledger: LedgerService, collector: CosignatureCollector? = nil) {
        self.ledger = ledger
        self.collector = collector
    }

    public func run() async throws {
        try await ledger.checkpointNow()
        try await collector?.start()
        try? await gracefulShutdown()
        try await ledger.checkpointNow()
    }
}
