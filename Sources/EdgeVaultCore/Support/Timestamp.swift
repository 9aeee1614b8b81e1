/// Timestamps as integer milliseconds since the Unix epoch, and RFC 3339 text.
///
/// Hand-written rather than `Date` + format styles: ingest parses one per reading, and the
/// exact output form (`2026-11-01T00:00:00Z`, milliseconds only when non-zero) is part of
/// the wire format.
public enum Timestamp {
    /// Latest accepted time: 9999-12-31T23:59:59.999Z.
    public static let maxMilliseconds: Int64 = 253_402_300_799_999

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func daysInMonth(_ y: Int64, _ m: Int64) -> Int64 {
        switch m {
        case 2: return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Parses RFC 3339 `date-time` (`2026-11-01T10:00:00.123+01:00`); fractions beyond
    /// milliseconds are truncated. Returns nil for anything else.
    public static func parseRFC3339(_ text: some Collection<UInt8>) -> Int64? {
        let b = Array(text)
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<from + len {
                let c = b[i]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int64(c - 0x30)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == 0x2D, let mo = num(5, 2), b[7] == 0x2D, let d = num(8, 2),
              b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20,
              let h = num(11, 2), b[13] == 0x3A, let mi = num(14, 2), b[16] == 0x3A, let s = num(17, 2)
        else { return nil }
        guard (1...12).contains(mo), d >= 1, d <= daysInMonth(y, mo), h <= 23, mi <= 59, s <= 60 else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count, b[i] == 0x2E {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                if i - start < 3 { millis = millis * 10 + Int64(b[i] - 0x30) }
                i += 1
            }
            guard i > start else { return nil }
            for _ in min(i - start, 3)..<3 { millis *= 10 }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D {
            guard let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 0x3A, let om = num(i + 4, 2), oh <= 23, om <= 59 else {
                return nil
            }
            offset = (oh * 60 + om) * 60_000 * (b[i] == 0x2D ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let secs = daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + min(s, 59)
        let ms = secs * 1000 + millis - offset
        guard ms >= 0, ms <= maxMilliseconds else { return nil }
        return ms
    }

    public static func parseRFC3339(_ text: String) -> Int64? { parseRFC3339(Array(text.utf8)) }

    /// RFC 3339 in UTC: `2026-11-01T00:00:00Z`, or `…00.250Z` when there are milliseconds.
    /// Total: a time outside 0000…9999 (which no check lets in, but a hostile document may
    /// carry) is written as its number of milliseconds instead of trapping.
    public static func rfc3339(milliseconds ms: Int64) -> String {
        guard ms >= -62_167_219_200_000, ms <= maxMilliseconds else { return "\(ms) ms since 1970" }
        let secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = ms - secs * 1000
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        let (y, m, d) = civilFromDays(days)
        func p(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        var out = "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(rem / 3600, 2)):\(p(rem / 60 % 60, 2)):\(p(rem % 60, 2))"
        if millis != 0 { out += "." + p(millis, 3) }
        return out + "Z"
    }

    /// Accepts a time as people and scripts write it: integer milliseconds, RFC 3339, or a
    /// plain date (`2026-11-01`, midnight UTC).
    public static func parseFlexible(_ text: String) -> Int64? {
        if let ms = Int64(text), ms >= 0, ms <= maxMilliseconds { return ms }
        if let ms = parseRFC3339(text) { return ms }
        let b = Array(text.utf8)
        if b.count == 10 { return parseRFC3339(b + Array("T00:00:00Z".utf8)) }
        return nil
    }

    /// Current time in milliseconds.
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

#if canImport(Glibc)
import Glibc
#endif
