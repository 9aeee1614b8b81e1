/// Gathers what the review prompt shows for a pending request: the organization, its track
/// record from the ledger, the whole-bucket range and what it covers today.
public struct Reviewer {
    let client: AdminClient

    public init(client: AdminClient) {
        self.client = client
    }

    public func screen(for request: AdminAPI.RequestSummary, now: Int64 = Timestamp.now()) async throws -> ReviewScreen {
        let vault = try await client.vault()
        let jws = try JWS(json: Array(request.jws.utf8))
        let access = try AccessRequest(payload: jws.payload, origin: vault.origin, now: nil)
        let org = try await client.orgs().first { $0.keyId == request.org }
        let leaves = try await client.leaves(about: request.org)
        let streams = try await client.streams()
        let buckets = access.streams.compactMap { name in streams.first { $0.name == name }?.bucketSeconds }
        let bucketMs = (buckets.max() ?? 3600) * 1000
        let start = (access.from + bucketMs - 1) / bucketMs * bucketMs
        let end = max(start, access.to / bucketMs * bucketMs)
        let inScope = try await client.segments(streams: [], from: access.from, to: access.to)
            .filter { access.streams.contains($0.stream) && $0.startMs >= access.from && $0.endMs <= access.to }
        return ReviewScreen(request: request, access: access, org: org, record: TrackRecord.compute(leaves), segments: inScope.count,
                            readings: inScope.reduce(0) { $0 + $1.readings }, bucketStart: start, bucketEnd: end, now: now)
    }
}
