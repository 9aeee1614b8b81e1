/// A job's stdin (docs/PROTOCOL.md §"Compute jobs", ABI `wasi-p1-stdio/1`, a MUST): one
/// header line, then the in-scope readings as JSON Lines with their stream, ordered by stream
/// (byte order of the name) then `t`, readings at the same `t` in the order they were stored.
/// Every byte is fixed here, because the `input` of a result leaf is SHA-256 of exactly these
/// bytes and the job's randomness is keyed by them.
public struct JobInput: Sendable {
    public private(set) var bytes: [UInt8]
    public private(set) var readings: Int64 = 0

    /// The header line: `{"type":"edgevault.job-input/v1","grant":…,"params":…,"streams":[…],"from":…,"to":…}`
    /// in that key order, `params` compact with sorted keys, `from`/`to` integer milliseconds.
    public init(grant: String, params: JSONValue, streams: [String], from: Int64, to: Int64) {
        var h = Array("{\"type\":\"edgevault.job-input/v1\",\"grant\":".utf8)
        JSONText.appendQuoted(grant, to: &h)
        h += Array(",\"params\":".utf8) + params.serialized() + Array(",\"streams\":[".utf8)
        for (i, s) in streams.enumerated() {
            if i > 0 { h.append(0x2C) }
            JSONText.appendQuoted(s, to: &h)
        }
        h += Array("],\"from\":".utf8)
        JSONText.appendInt(from, to: &h)
        h += Array(",\"to\":".utf8)
        JSONText.appendInt(to, to: &h)
        h += [0x7D, 0x0A]
        bytes = h
    }

    /// Appends one reading line `{"stream":…,"t":…,"v":…}` (`value`: the exact JSON bytes stored).
    /// The caller appends in the order above.
    public mutating func append(stream: String, t: Int64, value: [UInt8]) {
        bytes += Array("{\"stream\":".utf8)
        JSONText.appendQuoted(stream, to: &bytes)
        bytes += Array(",\"t\":".utf8)
        JSONText.appendInt(t, to: &bytes)
        bytes += Array(",\"v\":".utf8)
        bytes += value
        bytes += [0x7D, 0x0A]
        readings += 1
    }

    /// `sha256:<hex>` of the bytes: the leaf's `input`.
    public var digest: String { JobInput.digest(bytes) }

    /// `sha256:<hex>` of any bytes: a leaf's `input` and `output`, a module's name.
    public static func digest(_ bytes: [UInt8]) -> String { ComputeJob.name(of: bytes) }
}
