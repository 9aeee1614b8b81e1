import EdgeVaultCore
import EdgeVaultStore
import Logging

/// The live grants, as new and closing segments need them: raw grants get each new in-scope
/// segment's key sealed to their delivery key; `per-segment` compute grants get nothing sealed,
/// their closing segments go to the compute service (docs/PROTOCOL.md §"Compute jobs").
extension SegmentManager {
    /// Hands closing segments that a `per-segment` compute grant covers to `service`.
    public func attach(compute service: ComputeService) {
        compute = service
    }

    /// The live grants: raw ones (keys sealed to them) and `per-segment` compute ones (never a key).
    static func loadGrants(_ store: VaultStore) async throws -> (raw: [LiveGrant], compute: [LiveGrant]) {
        var raw: [LiveGrant] = [], compute: [LiveGrant] = []
        for g in try await store.liveGrants(now: Timestamp.now()) {
            let live = LiveGrant(org: g.org, id: g.id, scope: g.scope, expires: g.expires, deliveryKey: [UInt8](g.deliveryKey))
            if g.job == nil {
                raw.append(live)
            } else if g.computeJob?.schedule == .perSegment {
                compute.append(live)
            }
        }
        return (raw, compute)
    }

    /// Re-reads the live grants after a grant or a revocation.
    public func reloadGrants() async {
        grantsGeneration += 1
        let generation = grantsGeneration
        do {
            let loaded = try await Self.loadGrants(store)
            guard generation == grantsGeneration else { return }
            (grants, computeGrants) = loaded
        } catch {
            guard generation == grantsGeneration else { return }
            logger.error("cannot reload grants; new segments are sealed to none until the next reload", metadata: ["error": "\(error)"])
            grants = []
            computeGrants = []
        }
    }

}
