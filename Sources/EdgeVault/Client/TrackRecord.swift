/// An organization's record with this vault, computed from the ledger leaves about it.
public struct TrackRecord: Sendable, Equatable {
    public var requests = 0
    public var grants = 0
    public var denials = 0
    public var withdrawals = 0
    public var revocations = 0
    public var releases = 0
    public var readingsReleased: Int64 = 0
    public var violations = 0
    public var firstSeen: Int64?

    public init() {}

    /// Counts the leaves about one organization.
    public static func compute(_ leaves: [LedgerLeaf]) -> TrackRecord {
        var r = TrackRecord()
        for leaf in leaves {
            switch LedgerLeaf.Kind(rawValue: leaf.type) {
            case .orgSeen: r.firstSeen = min(r.firstSeen ?? leaf.time, leaf.time)
            case .requestReceived: r.requests += 1
            case .grantIssued: r.grants += 1
            case .requestDenied: r.denials += 1
            case .requestWithdrawn: r.withdrawals += 1
            case .grantRevoked: r.revocations += 1
            case .dataReleased:
                r.releases += 1
                r.readingsReleased += Int64(leaf.json["count"]?.numberText ?? "0") ?? 0
            case .orgViolation: r.violations += 1
            default: break
            }
        }
        return r
    }

    /// One line for the review screen.
    public var summary: String {
        "\(requests) request\(requests == 1 ? "" : "s"), \(grants) granted, \(denials) denied, \(withdrawals) withdrawn, "
            + "\(revocations) revoked by you, \(releases) release\(releases == 1 ? "" : "s") (\(readingsReleased) readings), "
            + "\(violations) violation\(violations == 1 ? "" : "s")"
    }
}
