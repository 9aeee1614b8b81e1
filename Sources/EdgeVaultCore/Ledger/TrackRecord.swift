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

    /// The readings in `data.released` leaves, each page (grant, segment, chunk range) counted
    /// once: an organization that downloads the same chunks again has not received more.
    public static func distinctReadings(_ leaves: [LedgerLeaf]) -> Int64 {
        var seen = Set<String>()
        var total: Int64 = 0
        for leaf in leaves where leaf.type == LedgerLeaf.Kind.dataReleased.rawValue {
            // A page is named by its grant, segment and chunk range (a leaf without them counts as is).
            if let page = LedgerEvent.DataReleased(leaf) {
                guard seen.insert("\(page.grant) \(page.segment) \(page.firstSeq)-\(page.lastSeq)").inserted else { continue }
                total += page.count
            } else {
                total += leaf.json["count"]?.numberText.flatMap { Int64($0) } ?? 0
            }
        }
        return total
    }

    /// Counts the leaves about one organization.
    public static func compute(_ leaves: [LedgerLeaf]) -> TrackRecord {
        var r = TrackRecord()
        r.readingsReleased = distinctReadings(leaves)
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
