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

/// What the review prompt shows for one pending request (rendered to fit 80 columns).
public struct ReviewScreen: Sendable {
    public var request: AdminAPI.RequestSummary
    public var access: AccessRequest
    public var org: AdminAPI.Org?
    public var record: TrackRecord
    public var segments: Int
    public var readings: Int64
    public var bucketStart: Int64
    public var bucketEnd: Int64
    public var now: Int64

    public init(request: AdminAPI.RequestSummary, access: AccessRequest, org: AdminAPI.Org?, record: TrackRecord, segments: Int,
                readings: Int64, bucketStart: Int64, bucketEnd: Int64, now: Int64) {
        self.request = request
        self.access = access
        self.org = org
        self.record = record
        self.segments = segments
        self.readings = readings
        self.bucketStart = bucketStart
        self.bucketEnd = bucketEnd
        self.now = now
    }

    /// Whether this organization's request is its first contact (no earlier requests).
    public var isNew: Bool { record.requests <= 1 && org?.trust != "pinned" }

    static func wrap(_ text: String, width: Int, indent: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if current.count + word.count + 1 > width - indent.count, !current.isEmpty {
                lines.append(indent + current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty || lines.isEmpty { lines.append(indent + current) }
        return lines
    }

    /// The screen; `bold`/`warn` wrap emphasised text (ANSI on a terminal, nothing otherwise).
    public func render(bold: (String) -> String = { $0 }, warn: (String) -> String = { $0 }) -> String {
        var out: [String] = []
        let rule = String(repeating: "─", count: 78)
        out.append(rule)
        out.append(bold("Request \(request.id)") + "  from " + bold(access.orgName))
        let fp = org?.fingerprint ?? Fingerprint.of(thumbprint: request.org) ?? "?"
        var known: String
        if let pinned = org?.pinnedName, org?.pinSigned == false {
            // Pinned before trust changes were signed: not necessarily by the person.
            known = warn("pinned as \"\(pinned)\" before pins were signed: unconfirmed")
        } else if let pinned = org?.pinnedName {
            known = "known as \"\(pinned)\" (pinned by you)"
        } else if isNew {
            known = warn("NEW organization: first contact")
        } else {
            known = "known since \(record.firstSeen.map { String(Timestamp.rfc3339(milliseconds: $0).prefix(10)) } ?? "?")"
        }
        if org?.trust == "blocked" { known = warn("BLOCKED by you") }
        out.append("  fingerprint  \(fp)   \(known)")
        if !access.orgContact.isEmpty { out.append("  contact      \(access.orgContact)") }
        out.append(contentsOf: Self.wrap("track record \(record.summary)", width: 78, indent: "  "))
        out.append("  streams      \(access.streams.joined(separator: ", "))")
        out.append("  asks for     \(Timestamp.rfc3339(milliseconds: access.from)) → \(Timestamp.rfc3339(milliseconds: access.to))")
        out.append("  range        \(Timestamp.rfc3339(milliseconds: bucketStart)) → \(Timestamp.rfc3339(milliseconds: bucketEnd)) (whole buckets)")
        if access.to > now { out.append("               " + warn("ongoing: new readings keep flowing until it expires")) }
        out.append("  covers today \(segments) segment\(segments == 1 ? "" : "s"), \(readings) reading\(readings == 1 ? "" : "s")")
        out.append(contentsOf: Self.wrap("purpose      \(access.purpose)", width: 78, indent: "  "))
        out.append("  expires      \(Timestamp.rfc3339(milliseconds: access.expires))")
        out.append(rule)
        return out.joined(separator: "\n") + "\n"
    }
}
