import EdgeVaultCore
import EdgeVaultClient
/// What the review prompt shows for one pending request (rendered to fit 80 columns).
///
/// Every string the organization supplied (name, contact, purpose, id) is shown escaped
/// (`TerminalText.escape`) and marked as its claim; the emphasis is applied after escaping, so
/// only this code emits terminal control sequences. What approving means is said in plain
/// words, and the warnings a person needs before trusting a name come first: a key never
/// granted anything, another key using the same name or contact, a key that renamed itself.
public struct ReviewScreen: Sendable {
    /// What other keys and this key's earlier requests say about the name (from the vault's
    /// own records of organizations and requests).
    public struct NameHistory: Sendable, Equatable {
        /// Names this key used in its earlier requests (or first contact) that differ from now.
        public var earlierNames: [String] = []
        /// Other keys that used the same name with this vault: fingerprint and trust.
        public var sameName: [String] = []
        /// Other keys that gave the same contact.
        public var sameContact: [String] = []

        public init(earlierNames: [String] = [], sameName: [String] = [], sameContact: [String] = []) {
            self.earlierNames = earlierNames
            self.sameName = sameName
            self.sameContact = sameContact
        }
    }

    /// The whole buckets of one requested stream inside the request's range.
    public struct StreamRange: Sendable, Equatable {
        public var stream: String
        public var start: Int64
        public var end: Int64
        /// Whether the vault has this stream now.
        public var exists: Bool

        public init(stream: String, start: Int64, end: Int64, exists: Bool = true) {
            self.stream = stream
            self.start = start
            self.end = end
            self.exists = exists
        }
    }

    /// For a compute request: the module the organization's job runs (docs/PROTOCOL.md
    /// §"Compute jobs"), as this vault knows it.
    public struct ComputeInfo: Sendable, Equatable {
        public var module: String
        public var size: Int
        public var firstSeen: String?
        /// Other requests (`org/id`) that named the same module, and grants that use it.
        public var otherRequests: [String]
        public var otherGrants: [String]
        /// `module.name (kind)` of each import, and the exports by name.
        public var imports: [String]
        public var exports: [String]

        public init(module: String, size: Int, firstSeen: String?, otherRequests: [String], otherGrants: [String],
                    imports: [String], exports: [String]) {
            self.module = module
            self.size = size
            self.firstSeen = firstSeen
            self.otherRequests = otherRequests
            self.otherGrants = otherGrants
            self.imports = imports
            self.exports = exports
        }

        /// `sha256:1a2b3c4d…` (the first 8 hex digits).
        public var shortName: String { String(module.prefix(15)) + "…" }

        public var sizeText: String { size < 1024 ? "\(size) bytes" : "\((size + 1023) / 1024) KiB" }
    }

    /// A job's wall-clock limit in words.
    public static func wallText(ms: Int) -> String { ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms" }

    /// A job's memory limit in words: pages are 64 KiB.
    public static func memoryText(pages: Int) -> String {
        pages % 16 == 0 ? "\(pages / 16) MiB" : "\(pages * 64) KiB"
    }

    public var compute: ComputeInfo?
    public var request: AdminAPI.RequestSummary
    public var access: AccessRequest
    public var org: AdminAPI.Org?
    public var record: TrackRecord
    public var history: NameHistory
    public var segments: Int
    public var readings: Int64
    public var ranges: [StreamRange]
    public var now: Int64

    /// The earliest whole-bucket start and the latest whole-bucket end over the streams.
    public var bucketStart: Int64 { ranges.map(\.start).min() ?? access.from }
    public var bucketEnd: Int64 { ranges.map(\.end).max() ?? access.to }

    public init(request: AdminAPI.RequestSummary, access: AccessRequest, org: AdminAPI.Org?, record: TrackRecord,
                history: NameHistory = .init(), segments: Int, readings: Int64, ranges: [StreamRange], now: Int64,
                compute: ComputeInfo? = nil) {
        self.compute = compute
        self.request = request
        self.access = access
        self.org = org
        self.record = record
        self.history = history
        self.segments = segments
        self.readings = readings
        self.ranges = ranges
        self.now = now
    }

    /// A key stays NEW until the person has granted it something (or pinned it): a stranger's
    /// dummy first request does not make its second one look known.
    public var isNew: Bool { record.grants == 0 && !isSignedPin }

    /// Pinned by the person with a signed trust change (a pin from before changes were signed
    /// is not necessarily the person's).
    public var isSignedPin: Bool { org?.trust == .pinned && org?.pinSigned != false && org?.pinnedName != nil }

    /// Whether the grant would go on releasing readings that do not exist yet: some stream's
    /// last whole bucket ends after now.
    public var isOngoing: Bool { bucketEnd > now }

    public static func wrap(_ text: String, width: Int, indent: String, first: String? = nil) -> [String] {
        var lines: [String] = []
        var current = first ?? ""
        var prefix = first == nil ? indent : ""
        for word in text.split(whereSeparator: { $0 == " " }) {
            if (prefix + current).count + word.count + 1 > width, !current.isEmpty {
                lines.append(prefix + current)
                current = ""
                prefix = indent
            }
            current += current.isEmpty || current.hasSuffix(" ") ? String(word) : " " + word
        }
        if !current.isEmpty || lines.isEmpty { lines.append(prefix + current) }
        return lines
    }

    /// `26 Nov 2026`, or with the time when it is not midnight UTC.
    static func day(_ ms: Int64) -> String {
        let t = Timestamp.rfc3339(milliseconds: ms)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = t.prefix(10).split(separator: "-")
        guard parts.count == 3, let m = Int(parts[1]), (1...12).contains(m), let d = Int(parts[2]) else { return t }
        let time = t.dropFirst(11).prefix(5)
        return "\(d) \(months[m - 1]) \(parts[0])" + (time == "00:00" ? "" : " \(time) UTC")
    }

    /// The organization's claimed name, escaped.
    public var claimedName: String { TerminalText.escape(access.orgName) }

    /// What approving means, in plain words (also the confirmation question's subject).
    public var meaning: String {
        let who = (isSignedPin ? org?.pinnedName : nil).map { "\(TerminalText.escape($0)) (your name for this key; it calls itself \"\(claimedName)\")" }
            ?? "\(claimedName) (name not verified)"
        if let job = access.job { return computeMeaning(who: who, job: job) }
        var s = "\(who) will be able to decrypt and keep \(readings) reading\(readings == 1 ? "" : "s") of \(streamList)"
        if isOngoing {
            let until = min(bucketEnd, access.expires)
            s += " from \(Self.day(bucketStart)) to now, and new ones as they arrive until \(Self.day(until))."
        } else {
            s += " from \(Self.day(bucketStart)) to \(Self.day(bucketEnd)), and readings added later for those times."
        }
        s += " It may fetch them until \(Self.day(access.expires)). Revoking stops future access; what was fetched stays with them."
        return s
    }

    /// What approving a compute request means: the readings stay, the program runs here, and
    /// when its output leaves.
    func computeMeaning(who: String, job: ComputeJob) -> String {
        let program = "Its program (\(compute.map { "\($0.shortName), \($0.sizeText)" + ($0.firstSeen.map { ", first seen \(Self.day(Timestamp.parseRFC3339($0) ?? 0))" } ?? "") } ?? job.module))"
        var s = "\(who) will NOT receive your readings. \(program) will run on this gateway"
        switch job.schedule {
        case .once:
            s += " once, now, over \(readings) reading\(readings == 1 ? "" : "s") of \(streamList); you will see its output before anything is sent."
        case .perSegment:
            let until = min(bucketEnd, access.expires)
            s += " each time a segment of \(streamList) closes (the \(readings) reading\(readings == 1 ? "" : "s") there are now, and new ones until \(Self.day(until)))"
            s += job.release == .review
                ? "; you will see each output (vault-cli results) before anything is sent."
                : "; each output is sent to it at once, WITHOUT you seeing it first."
        }
        s += " Each run is limited to \(job.limits.outputBytes) bytes of output, \(Self.wallText(ms: job.limits.wallMs)) and \(Self.memoryText(pages: job.limits.memoryPages)) of memory. Revoking stops future runs; outputs already sent stay with them."
        return s
    }

    /// The streams in a sentence: the ones this vault has by name (at most six), then how many
    /// more, and how many it does not have yet.
    var streamList: String {
        let existing = ranges.filter { $0.exists && $0.start < $0.end }.map { TerminalText.escape($0.stream) }
        let empty = ranges.filter { $0.exists && $0.start >= $0.end }.count
        let missing = ranges.filter { !$0.exists }.count
        var parts = Array(existing.prefix(6))
        if existing.count > 6 { parts.append("\(existing.count - 6) more stream\(existing.count - 6 == 1 ? "" : "s")") }
        var text = parts.isEmpty ? "no stream you have now" : parts.joined(separator: ", ")
        if missing > 0 { text += " (and \(missing) stream\(missing == 1 ? "" : "s") your vault does not have yet)" }
        if empty > 0 { text += " (\(empty) more stream\(empty == 1 ? "" : "s") asked for: no whole bucket in the range, nothing from \(empty == 1 ? "it" : "them"))" }
        return text
    }

    /// The params lines shown on the screen at most; `approve` prints the rest, `[v]iew` all.
    public static let paramsLines = 8

    /// The job's params as the organization sent them (compact JSON, escaped), wrapped to 78
    /// columns; with `limit`, cut there with a line saying how much more there is. The params
    /// steer what the program computes: the person must be able to read every character.
    public func paramsLines(limit: Int?) -> [String] {
        guard let job = access.job else { return [] }
        let text = TerminalText.escape(String(decoding: job.params.serialized(), as: UTF8.self))
        var lines: [String] = []
        var rest = Substring(text)
        var first = true
        while !rest.isEmpty || first {
            let prefix = first ? "  params       (theirs) " : "               "
            let take = rest.prefix(78 - prefix.count)
            lines.append(prefix + take)
            rest = rest.dropFirst(take.count)
            first = false
        }
        guard let limit, lines.count > limit else { return lines }
        let hidden = lines.dropFirst(limit - 1).reduce(0) { $0 + $1.count - 15 }
        return Array(lines.prefix(limit - 1)) + ["               (\(hidden) more characters of params: [v]iew shows them all)"]
    }

    /// Whether the screen shows only part of the params.
    public var paramsCut: Bool { paramsLines(limit: nil).count > Self.paramsLines }

    /// The purpose lines shown on the screen at most; the rest is behind `[v]iew`.
    public static let purposeLines = 8

    /// The warnings, most important first.
    public var warnings: [String] {
        var w: [String] = []
        if org?.trust == .blocked { w.append("BLOCKED by you: approving would still give this key the data.") }
        if isNew {
            w.append(record.requests <= 1 ? "NEW organization: first contact from this key."
                                          : "NEW organization: you have never granted this key anything (\(record.requests) requests so far).")
        }
        for f in history.sameName { w.append("ANOTHER KEY (\(f)) has used the name \"\(claimedName)\" with your vault: names are not verified.") }
        for f in history.sameContact { w.append("ANOTHER KEY (\(f)) gave the same contact: it may not be who it says.") }
        if let job = access.job {
            if job.release == .auto { w.append("AUTOMATIC RELEASE: every output leaves without you seeing it first.") }
            if let c = compute, c.otherGrants.isEmpty { w.append("NEW PROGRAM: this module has never run on your vault.") }
        }
        if !history.earlierNames.isEmpty {
            let names = history.earlierNames.map { "\"\(TerminalText.escape($0))\"" }.joined(separator: ", ")
            w.append("RENAMED: this key called itself \(names) before.")
        }
        return w
    }

    /// The confirmation question: the warnings again, then what approving means.
    public func confirmation(bold: (String) -> String = { $0 }, warn: (String) -> String = { $0 }) -> String {
        var out: [String] = []
        for line in warnings { out.append(contentsOf: Self.wrap(line, width: 78, indent: "    ", first: "  ! ").map(warn)) }
        out.append(contentsOf: Self.wrap(meaning, width: 78, indent: "  ", first: "Approve? ").map(bold))
        return out.joined(separator: "\n") + "\nType yes to approve, anything else to go back › "
    }

    /// The screen; `bold`/`warn` wrap emphasised text (ANSI on a terminal, nothing otherwise)
    /// and are applied only to text already escaped.
    public func render(bold: (String) -> String = { $0 }, warn: (String) -> String = { $0 }) -> String {
        var out: [String] = []
        let rule = String(repeating: "─", count: 78)
        out.append(rule)
        out.append(bold("Request \(TerminalText.escape(request.id))") + "  from " + bold(claimedName) + " (claimed)")
        let fp = org?.fingerprint ?? Fingerprint.of(thumbprint: request.org) ?? "?"
        var known = ""
        if let pinned = org?.pinnedName, org?.pinSigned == false {
            // Pinned before trust changes were signed: not necessarily by the person.
            known = warn("pinned as \"\(TerminalText.escape(pinned))\" before pins were signed: unconfirmed")
        } else if let pinned = org?.pinnedName {
            known = "known as \"\(TerminalText.escape(pinned))\" (pinned by you" + (record.grants == 0 ? "; never granted anything)" : ")")
        } else if !isNew {
            known = "granted before; known since \(record.firstSeen.map { String(Timestamp.rfc3339(milliseconds: $0).prefix(10)) } ?? "?")"
        }
        out.append("  key          \(fp)" + (known.isEmpty ? "" : "   \(known)"))
        if !access.orgContact.isEmpty { out.append("  contact      \(TerminalText.escape(access.orgContact)) (claimed)") }
        out.append(contentsOf: Self.wrap(record.summary, width: 78, indent: "               ", first: "  track record "))
        // Streams this vault has, in full; those it does not have, counted and (briefly) named.
        let existing = ranges.filter(\.exists).map { TerminalText.escape($0.stream) }
        let missing = ranges.filter { !$0.exists }.map { TerminalText.escape($0.stream) }
        out.append(contentsOf: Self.wrap(existing.isEmpty ? "none you have now" : existing.joined(separator: ", "), width: 78,
                                         indent: "               ", first: "  streams      "))
        if !missing.isEmpty {
            var names = missing.prefix(3).joined(separator: ", ")
            if missing.count > 3 { names += " …" }
            out.append(contentsOf: Self.wrap("+ \(missing.count) your vault does not have yet: \(names)", width: 78, indent: "               ",
                                             first: "               ").prefix(2))
        }
        out.append("  asks for     \(Timestamp.rfc3339(milliseconds: access.from)) → \(Timestamp.rfc3339(milliseconds: access.to))")
        if Set(ranges.map { [$0.start, $0.end] }).count <= 1 {
            out.append("  range        \(Timestamp.rfc3339(milliseconds: bucketStart)) → \(Timestamp.rfc3339(milliseconds: bucketEnd)) (whole buckets)")
        } else {
            out.append("  range        whole buckets, per stream:")
            for r in ranges {
                out.append("               \(TerminalText.escape(r.stream)): " + (r.start < r.end
                    ? "\(Timestamp.rfc3339(milliseconds: r.start)) → \(Timestamp.rfc3339(milliseconds: r.end))"
                    : "no whole bucket in the range (nothing from it)"))
            }
        }
        if isOngoing { out.append("               " + warn("ongoing: new readings keep flowing until it expires")) }
        out.append("  covers today \(segments) segment\(segments == 1 ? "" : "s"), \(readings) reading\(readings == 1 ? "" : "s")")
        if let job = access.job {
            out.append("  access       " + bold("compute: their program runs here, only its output leaves"))
            // The whole name, in two halves (80 columns): what the organization signed for.
            out.append("  program      \(job.module.prefix(39))")
            out.append("               \(job.module.dropFirst(39))")
            if let c = compute {
                out.append(contentsOf: Self.wrap(c.sizeText + (c.firstSeen.map { ", first uploaded \($0)" } ?? "")
                                                 + ", imports \(c.imports.count) WASI function\(c.imports.count == 1 ? "" : "s") ([v]iew lists them)",
                                                 width: 78, indent: "               ", first: "               "))
                let used = c.otherGrants.isEmpty ? "never granted on this vault before"
                    : "used by \(c.otherGrants.count) grant\(c.otherGrants.count == 1 ? "" : "s") before: " + c.otherGrants.prefix(3).map { TerminalText.escape($0) }.joined(separator: ", ")
                out.append(contentsOf: Self.wrap(used, width: 78, indent: "               ", first: "               "))
            }
            out.append("  runs         " + (job.schedule == .once ? "once, when you approve" : "as each segment in range closes"))
            out.append("  release      " + (job.release == .review ? "after you review each output" : warn("automatic: outputs leave unseen")))
            out.append("  limits       \(job.limits.fuel) fuel, \(job.limits.memoryPages) pages (\(Self.memoryText(pages: job.limits.memoryPages))), \(job.limits.outputBytes) bytes out, \(job.limits.wallMs) ms")
            out.append(contentsOf: paramsLines(limit: Self.paramsLines))
        }
        var purpose: [String] = []
        // Paragraphs as written, but never more than one empty line in a row (text stored
        // before the input rules could hold a wall of them).
        var paragraphs: [Substring] = []
        for p in access.purpose.split(separator: "\n", omittingEmptySubsequences: false) where !(p.isEmpty && paragraphs.last?.isEmpty == true) {
            paragraphs.append(p)
        }
        for (i, p) in paragraphs.enumerated() {
            purpose += Self.wrap(TerminalText.escape(String(p)), width: 78, indent: "               ",
                                 first: i == 0 ? "  purpose      (their words) " : "               ")
        }
        if purpose.count > Self.purposeLines {
            let more = purpose.count - Self.purposeLines + 1
            purpose = Array(purpose.prefix(Self.purposeLines - 1)) + ["               (\(more) more lines: [v]iew details)"]
        }
        out += purpose
        out.append("  expires      \(Timestamp.rfc3339(milliseconds: access.expires))")
        // What the person must not miss comes last, right above the prompt.
        for line in warnings { out.append(contentsOf: Self.wrap(line, width: 78, indent: "    ", first: "  ! ").map(warn)) }
        out.append(contentsOf: Self.wrap("Approving: " + meaning, width: 78, indent: "  ", first: "  ").map(bold))
        out.append(rule)
        return out.joined(separator: "\n") + "\n"
    }
}
