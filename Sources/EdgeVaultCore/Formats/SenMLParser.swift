#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Parses SenML JSON packs (RFC 8428) into readings.
///
/// Base fields carry forward (§4.1): the stream is `bn` + `n`, the time `bt` + `t` in seconds
/// (a resolved time below 2^28 is relative to now, §4.5.3), the value one of `v` (plus `bv`),
/// `vs`, `vb`, `vd` (kept as its base64url text) or `s`. A record with only base fields is
/// allowed; "line" numbers in errors are record numbers (1-based).
public enum SenMLParser {
    public static func parse(
        _ input: [UInt8], into batch: inout ReadingBatch, skipInvalid: Bool = false, errors: inout [LineError],
        now: Int64 = Timestamp.now()
    ) throws(LineError) {
        let pack: JSONValue
        do {
            pack = try JSONValue.parse(input)
        } catch {
            throw LineError(line: 1, reason: "not valid SenML JSON: \(error.reason) (byte \(error.offset + 1))")
        }
        guard case .array(let records) = pack else { throw LineError(line: 1, reason: "a SenML pack must be a JSON array") }
        var baseName = ""
        var baseTime = 0.0
        var baseValue: Double? = nil
        for (index, record) in records.enumerated() {
            let number = index + 1
            do throws(ReadingError) {
                guard case .object(let fields) = record else { throw ReadingError("a SenML record must be a JSON object") }
                for key in fields.keys where !known.contains(key) && !key.hasSuffix("_") {
                    throw ReadingError("unknown SenML field \"\(key)\"")
                }
                if let bn = fields["bn"] {
                    guard let s = bn.stringValue else { throw ReadingError("bn must be a string") }
                    baseName = s
                }
                if let bt = fields["bt"] {
                    guard let d = bt.doubleValue else { throw ReadingError("bt must be a number") }
                    baseTime = d
                }
                if let bv = fields["bv"] {
                    guard let d = bv.doubleValue else { throw ReadingError("bv must be a number") }
                    baseValue = d
                }
                let value = try Self.value(of: fields, baseValue: baseValue)
                guard let value else {
                    if fields["n"] != nil || fields["t"] != nil { throw ReadingError("record has no value (v, vs, vb, vd or s)") }
                    continue  // a record of base fields only
                }
                var name = baseName
                if let n = fields["n"] {
                    guard let s = n.stringValue else { throw ReadingError("n must be a string") }
                    name += s
                }
                guard !name.isEmpty else { throw ReadingError("record has no name (n or bn)") }
                var seconds = baseTime
                if let t = fields["t"] {
                    guard let d = t.doubleValue else { throw ReadingError("t must be a number") }
                    seconds += d
                }
                if seconds < 268_435_456 {  // 2^28: relative to now (RFC 8428 §4.5.3)
                    seconds += Double(now) / 1000
                }
                let ms = (seconds * 1000).rounded()
                guard ms.isFinite, ms >= 0, ms <= Double(Timestamp.maxMilliseconds) else {
                    throw ReadingError("time is outside 1970…9999")
                }
                try batch.append(stream: name, t: Int64(ms), value: value, line: number)
            } catch {
                let err = LineError(line: number, reason: error.reason)
                if !skipInvalid { throw err }
                errors.append(err)
            }
        }
    }

    static let known: Set<String> = ["bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"]

    static func value(of fields: [String: JSONValue], baseValue: Double?) throws(ReadingError) -> [UInt8]? {
        let present = ["v", "vs", "vb", "vd"].filter { fields[$0] != nil }
        guard present.count <= 1 else { throw ReadingError("record has more than one value field (\(present.joined(separator: ", ")))") }
        if let v = fields["v"] {
            guard let text = v.numberText, let d = Double(text) else { throw ReadingError("v must be a number") }
            if let baseValue {
                guard (baseValue + d).isFinite else { throw ReadingError("bv + v is not a finite number") }
                return Array(formatNumber(baseValue + d).utf8)
            }
            return Array(text.utf8)
        }
        if let vs = fields["vs"] {
            guard case .string = vs else { throw ReadingError("vs must be a string") }
            return vs.serialized()
        }
        if let vb = fields["vb"] {
            guard case .bool = vb else { throw ReadingError("vb must be true or false") }
            return vb.serialized()
        }
        if let vd = fields["vd"] {
            guard let s = vd.stringValue, Encoding.fromBase64url(s) != nil else { throw ReadingError("vd must be base64url data") }
            return vd.serialized()
        }
        if let s = fields["s"] {
            guard s.numberText != nil else { throw ReadingError("s must be a number") }
            return s.serialized()
        }
        return nil
    }

    /// Shortest round-tripping decimal form of a finite double.
    static func formatNumber(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}
