/// The states things the vault keeps can be in (docs/PROTOCOL.md §"Admin API"): stored as
/// these words, sent on the wire as these words, compared as these cases.

/// An access request's status. `expired` is also what a pending request past its `expires`
/// is, whatever is stored (`effective(expires:now:)`).
public enum RequestStatus: String, Sendable, Codable, CaseIterable {
    case pending, granted, denied, withdrawn, expired

    /// The status as of `now`: pending past `expires` is expired.
    public func effective(expires: Int64, now: Int64) -> RequestStatus {
        self == .pending && expires <= now ? .expired : self
    }
}

/// A grant's status. Stored: `live` or `revoked`; a live grant past its `expires` is `expired`
/// (`effective(expires:now:)`), which is never stored.
public enum GrantStatus: String, Sendable, Codable, CaseIterable {
    case live, revoked, expired

    public func effective(expires: Int64, now: Int64) -> GrantStatus {
        self == .live && expires <= now ? .expired : self
    }
}

/// How the vault treats an organization's key.
public enum OrgTrust: String, Sendable, Codable, CaseIterable {
    /// It has sent something; the person has not said anything about it.
    case seen
    /// The person added it under a name of theirs.
    case pinned
    /// The person blocked it.
    case blocked
}
