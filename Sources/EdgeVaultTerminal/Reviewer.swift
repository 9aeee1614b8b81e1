import EdgeVaultCore
import EdgeVaultClient
import EdgeVaultCompute
/// Gathers what the review prompt shows for a pending request: the organization, its track
/// record from the ledger, what other keys and its own earlier requests say about its name, the
/// whole-bucket range and what it covers today.
public struct Reviewer {
    let client: AdminClient

    public init(client: AdminClient) {
        self.client = client
    }

    public func screen(for request: AdminAPI.RequestSummary, now: Int64 = Timestamp.now()) async throws -> ReviewScreen {
        let vault = try await client.vault()
        let jws = try JWS(json: Array(request.jws.utf8))
        let access = try AccessRequest(payload: jws.payload, origin: vault.origin, now: nil)
        let orgs = try await client.orgs()
        let org = orgs.first { $0.keyId == request.org }
        let leaves = try await client.leaves(about: request.org)
        let streams = try await client.streams()
        let ranges = Self.ranges(of: access, streams: streams.map { ($0.name, $0.bucketSeconds) })
        let inScope = try await client.segments(streams: [], from: access.from, to: access.to)
            .filter { access.scope.covers(stream: $0.stream, bucketStart: $0.startMs, bucketEnd: $0.endMs) }
        let history = Self.history(of: request.org, claiming: access, orgs: orgs, requests: try await client.requests(status: nil),
                                   leaves: leaves)
        return ReviewScreen(request: request, access: access, org: org, record: TrackRecord.compute(leaves), history: history,
                            segments: inScope.count, readings: inScope.reduce(0) { $0 + $1.readings }, ranges: ranges, now: now,
                            compute: try await computeInfo(access, request: request))
    }

    /// The module of a compute request as this vault knows it: its size, when it was first
    /// uploaded, which other requests and grants name it, and its imports and exports (read
    /// from the bytes, which are checked against the name).
    func computeInfo(_ access: AccessRequest, request: AdminAPI.RequestSummary) async throws -> ReviewScreen.ComputeInfo? {
        guard let job = access.job else { return nil }
        let me = "\(request.org)/\(request.id)"
        let known = try await client.modules().first { $0.name == job.module }
        var imports: [String] = [], exports: [String] = []
        if let bytes = try? await client.module(job.module), let info = try? WasmModuleInfo.inspect(bytes) {
            imports = info.imports.map { "\($0.module).\($0.name) (\($0.kind))" }
            exports = info.exports.map { "\($0.name) (\($0.kind))" }
        }
        return .init(module: job.module, size: known?.size ?? 0, firstSeen: known?.firstSeen,
                     otherRequests: (known?.requests ?? []).filter { $0 != me }, otherGrants: (known?.grants ?? []).filter { $0 != me },
                     imports: imports, exports: exports)
    }

    /// The whole buckets of each requested stream inside `[from, to)`: streams may have
    /// different bucket lengths (one not created yet takes the default length when it is).
    static func ranges(of access: AccessRequest, streams: [(name: String, bucketSeconds: Int64)]) -> [ReviewScreen.StreamRange] {
        access.streams.map { name in
            let known = streams.first { $0.name == name }
            let whole = access.scope.wholeBuckets(bucketMilliseconds: max(1, known?.bucketSeconds ?? 3600) * 1000)
            return .init(stream: name, start: whole.start, end: whole.end, exists: known != nil)
        }
    }

    /// Two names or contacts are "the same" when their skeletons are (case, spacing,
    /// punctuation, fullwidth or styled letters, Cyrillic and Greek look-alikes ignored).
    static func key(_ s: String) -> String {
        UntrustedText.skeleton(s)
    }

    /// What the vault's records say about `keyId`'s name: names it used before, and other keys
    /// that used the same name (claimed or the person's pinned one) or contact.
    static func history(of keyId: String, claiming access: AccessRequest, orgs: [AdminAPI.Org],
                        requests: [AdminAPI.RequestSummary], leaves: [LedgerLeaf]) -> ReviewScreen.NameHistory {
        var earlier: [String] = []
        var namesByKey: [String: Set<String>] = [:]
        var contactsByKey: [String: Set<String>] = [:]
        for o in orgs {
            namesByKey[o.keyId, default: []].insert(key(o.name))
            if let p = o.pinnedName { namesByKey[o.keyId, default: []].insert(key(p)) }
            if !o.contact.isEmpty { contactsByKey[o.keyId, default: []].insert(key(o.contact)) }
        }
        for r in requests {
            guard let jws = try? JWS(json: Array(r.jws.utf8)), let payload = try? JSONValue.parse(jws.payload) else { continue }
            let name = payload["org"]?["name"]?.stringValue ?? ""
            let contact = payload["org"]?["contact"]?.stringValue ?? ""
            if !name.isEmpty { namesByKey[r.org, default: []].insert(key(name)) }
            if !contact.isEmpty { contactsByKey[r.org, default: []].insert(key(contact)) }
            if r.org == keyId, !name.isEmpty, name != access.orgName, !earlier.contains(name) { earlier.append(name) }
        }
        for leaf in leaves where leaf.type == LedgerLeaf.Kind.orgSeen.rawValue {
            if let name = leaf.json["name"]?.stringValue, !name.isEmpty, name != access.orgName, !earlier.contains(name) { earlier.append(name) }
        }
        let fingerprint = { (k: String) -> String in
            let o = orgs.first { $0.keyId == k }
            return (o?.fingerprint ?? Fingerprint.of(thumbprint: k) ?? k) + (o.map { $0.trust == .seen ? "" : ", \($0.trust.rawValue)" } ?? "")
        }
        let name = key(access.orgName), contact = key(access.orgContact)
        let sameName = namesByKey.filter { $0.key != keyId && !name.isEmpty && $0.value.contains(name) }.keys.sorted().map(fingerprint)
        let sameContact = contactsByKey.filter { $0.key != keyId && !contact.isEmpty && $0.value.contains(contact) }.keys.sorted().map(fingerprint)
        return .init(earlierNames: earlier, sameName: sameName, sameContact: sameContact)
    }
}
