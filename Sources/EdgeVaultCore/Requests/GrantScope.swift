/// What a grant covers (docs/PROTOCOL.md §"Access request"): the **whole** buckets of the
/// request's streams that lie inside `[from, to)`. A segment is covered when it is of one of
/// the streams and its bucket starts at or after `from` and ends at or before `to`; a bucket
/// the range only cuts through is not covered. This is the one statement of the rule: the
/// daemon (which segments a grant gets keys for, at approval and as new segments open), the
/// store's SQL filter (checked against this in `GrantScopeTests`), the person's CLI (which
/// keys it re-seals, what the review screen shows, which grants a deletion re-seals to) all
/// ask it.
public struct GrantScope: Sendable, Equatable {
    public var streams: Set<String>
    /// Milliseconds since the epoch.
    public var from: Int64
    public var to: Int64

    public init(streams: some Sequence<String>, from: Int64, to: Int64) {
        self.streams = Set(streams)
        self.from = from
        self.to = to
    }

    public func covers(stream: String, bucketStart: Int64, bucketEnd: Int64) -> Bool {
        streams.contains(stream) && bucketStart >= from && bucketEnd <= to
    }

    /// The whole buckets of length `bucketMilliseconds` inside `[from, to)`, as one range
    /// `[start, end)` of bucket boundaries (`end == start` when no whole bucket fits).
    public func wholeBuckets(bucketMilliseconds: Int64) -> (start: Int64, end: Int64) {
        let b = max(1, bucketMilliseconds)
        let start = Self.floor(from + b - 1, b)
        return (start, max(start, Self.floor(to, b)))
    }

    /// The start of the bucket of length `b` holding `t` (buckets start at multiples of `b`).
    static func floor(_ t: Int64, _ b: Int64) -> Int64 {
        let r = t % b
        return r < 0 ? t - r - b : t - r
    }
}

extension AccessRequest {
    /// The scope a grant of this request covers.
    public var scope: GrantScope { GrantScope(streams: streams, from: from, to: to) }
}
