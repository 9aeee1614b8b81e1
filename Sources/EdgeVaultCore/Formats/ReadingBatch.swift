/// Parsed readings on their way into the vault, kept compact: value bytes are copied once
/// into one buffer, stream names are interned.
public struct ReadingBatch: Sendable {
    public struct Entry: Sendable {
        public var stream: Int32
        public var line: Int32
        public var valueStart: Int32
        public var valueLength: Int32
        public var t: Int64
    }

    public private(set) var streams: [String] = []
    public private(set) var entries: [Entry] = []
    public private(set) var values: [UInt8] = []
    private var streamIndex: [String: Int32] = [:]

    public init() {}

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Index of `name` in `streams`, validating a name the first time it is seen.
    public mutating func intern(stream name: String) throws(ReadingError) -> Int32 {
        if let i = streamIndex[name] { return i }
        if let problem = StreamName.problem(with: name) { throw ReadingError(problem) }
        let i = Int32(streams.count)
        streams.append(name)
        streamIndex[name] = i
        return i
    }

    /// Adds a reading whose value is the JSON text `value`.
    public mutating func append(stream: Int32, t: Int64, value: UnsafeRawBufferPointer, line: Int) throws(ReadingError) {
        guard t >= 0, t <= Timestamp.maxMilliseconds else { throw ReadingError("time \(t) is outside 1970…9999") }
        let length = ChunkFormat.lineLength(t: t, valueBytes: value.count)
        guard length <= ChunkFormat.maxPlaintextBytes else {
            throw ReadingError("reading is \(length) bytes, over the \(ChunkFormat.maxPlaintextBytes)-byte (64 KiB) limit")
        }
        entries.append(Entry(stream: stream, line: Int32(clamping: line), valueStart: Int32(values.count), valueLength: Int32(value.count), t: t))
        values.append(contentsOf: value)
    }

    public mutating func append(stream name: String, t: Int64, value: [UInt8], line: Int) throws(ReadingError) {
        let s = try intern(stream: name)
        // The pointer is used only inside the closure that lends it.
        var failure: ReadingError?
        value.withUnsafeBytes { raw in
            do throws(ReadingError) { try append(stream: s, t: t, value: raw, line: line) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public func value(of entry: Entry) -> ArraySlice<UInt8> {
        values[Int(entry.valueStart)..<Int(entry.valueStart) + Int(entry.valueLength)]
    }

    /// Readings whose time is not plausible under `policy`, with their line numbers (at most
    /// `limit`).
    public func implausibleTimes(_ policy: TimePolicy, now: Int64, limit: Int = 20) -> [LineError] {
        var out: [LineError] = []
        for e in entries {
            guard let reason = policy.problem(t: e.t, now: now) else { continue }
            out.append(LineError(line: Int(e.line), reason: reason))
            if out.count == limit { break }
        }
        return out
    }

    /// The same readings without those of `lines`.
    public func without(lines: Set<Int>) -> ReadingBatch {
        var copy = ReadingBatch()
        for e in entries where !lines.contains(Int(e.line)) {
            try? copy.append(stream: streams[Int(e.stream)], t: e.t, value: Array(self.value(of: e)), line: Int(e.line))
        }
        return copy
    }

    /// NDJSON (`{"stream":…,"t":…,"v":…}` per line) for entries in `range`: the admin API's ingest body.
    public func ndjson(_ range: Range<Int>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count * 64)
        var quoted: [[UInt8]] = streams.map { name in
            var q: [UInt8] = []
            JSONText.appendQuoted(name, to: &q)
            return q
        }
        defer { quoted.removeAll() }
        for e in entries[range] {
            out.append(contentsOf: Array("{\"stream\":".utf8))
            out.append(contentsOf: quoted[Int(e.stream)])
            out.append(contentsOf: Array(",\"t\":".utf8))
            JSONText.appendInt(e.t, to: &out)
            out.append(contentsOf: Array(",\"v\":".utf8))
            out.append(contentsOf: value(of: e))
            out.append(contentsOf: [0x7D, 0x0A])
        }
        return out
    }
}

/// Why one reading was refused.
public struct ReadingError: Error, Sendable, Equatable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// A bad input line: where and why.
public struct LineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// Stream names: `home/livingroom/temperature`.
/// Which reading times are plausible (docs/PROTOCOL.md §"Reading times"): not more than a day
/// ahead of the gateway's clock, and not before 2000 unless a back-fill says so. A time in
/// Unix seconds, sent where milliseconds belong, lands in January 1970 and is refused with a
/// line that says so, rather than stored in the wrong year.
public struct TimePolicy: Sendable, Equatable {
    /// 2000-01-01T00:00:00Z.
    public static let earliest: Int64 = 946_684_800_000
    public static let maxAhead: Int64 = 86_400_000
    /// Whether times before 2000 are accepted (`--allow-old`, `allowOld=1`).
    public var allowOld: Bool

    public init(allowOld: Bool = false) {
        self.allowOld = allowOld
    }

    /// Why `t` is not plausible at `now`, or nil.
    public func problem(t: Int64, now: Int64) -> String? {
        if t > now + Self.maxAhead {
            return "time \(t) is \(Timestamp.rfc3339(milliseconds: t)), more than a day ahead of this gateway's clock: times are milliseconds since 1970 (is it in microseconds, or is the clock wrong?)"
        }
        guard !allowOld, t < Self.earliest else { return nil }
        let asSeconds = t.multipliedReportingOverflow(by: 1000)
        if !asSeconds.overflow, asSeconds.partialValue >= Self.earliest, asSeconds.partialValue <= now + Self.maxAhead {
            return "time \(t) is \(Timestamp.rfc3339(milliseconds: t)): it looks like Unix seconds (\(Timestamp.rfc3339(milliseconds: asSeconds.partialValue))); "
                + "send milliseconds or RFC 3339 (vault-cli ingest --time-unit s reads seconds), or --allow-old for a real back-fill"
        }
        return "time \(t) is \(Timestamp.rfc3339(milliseconds: t)), before 2000: decades ago; for a real back-fill pass --allow-old"
    }
}

public enum StreamName {
    public static let maxLength = 128

    /// Nil when `name` is a valid stream name, else what is wrong with it.
    public static func problem(with name: String) -> String? {
        let b = Array(name.utf8)
        if b.isEmpty { return "stream name is empty" }
        if b.count > maxLength { return "stream name is longer than \(maxLength) bytes" }
        if b.first == 0x2F || b.last == 0x2F { return "stream name \"\(name)\" starts or ends with '/'" }
        var previousSlash = false
        for c in b {
            let ok = (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                || c == 0x2E || c == 0x5F || c == 0x2D || c == 0x3A || c == 0x40 || c == 0x2B || c == 0x2F
            if !ok {
                return "stream name \"\(name)\" has a character outside A-Z a-z 0-9 . _ - : @ + /"
            }
            if c == 0x2F && previousSlash { return "stream name \"\(name)\" has an empty part ('//')" }
            previousSlash = c == 0x2F
        }
        return nil
    }
}

extension ReadingBatch {
    /// The refusal of a batch naming a stream the vault does not have while automatic stream
    /// creation is off: the first such stream, with the line it is named on (nil when all known).
    public func unknownStream(known: (String) -> Bool) -> VaultError? {
        for (index, name) in streams.enumerated() where !known(name) {
            let line = entries.first { $0.stream == Int32(index) }.map { Int($0.line) } ?? 0
            return VaultError(.unknownStream,
                "line \(line): unknown stream \"\(name)\" (automatic stream creation is off: add it with `vault-cli stream add \(name)`); nothing was stored")
        }
        return nil
    }
}
