/// Parses NDJSON readings: one `{"stream":…,"t":…,"v":…}` object per line, `t` either integer
/// milliseconds since the Unix epoch or an RFC 3339 string. Blank lines are skipped.
public enum NDJSONParser {
    /// Parses `input` into `batch`. With `skipInvalid` false the first bad line throws
    /// (`LineError`) and the batch must be discarded; with it true bad lines are collected in
    /// `errors` and the rest kept.
    /// `integerTimeScale` 1000 reads integer times as seconds (`vault-cli ingest --time-unit s`).
    public static func parse(
        _ input: [UInt8], into batch: inout ReadingBatch, skipInvalid: Bool = false, errors: inout [LineError], integerTimeScale: Int64 = 1
    ) throws(LineError) {
        let failure: LineError? = input.withUnsafeBytes { raw in
            do throws(LineError) {
                try parse(raw, into: &batch, skipInvalid: skipInvalid, errors: &errors, integerTimeScale: integerTimeScale)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    static func parse(
        _ raw: UnsafeRawBufferPointer, into batch: inout ReadingBatch, skipInvalid: Bool, errors: inout [LineError], integerTimeScale: Int64 = 1
    ) throws(LineError) {
        do {
            var lineStart = 0
            var lineNumber = 0
            var lastStreamRaw: Range<Int>? = nil
            var lastStream: Int32 = -1
            while lineStart < raw.count {
                lineNumber += 1
                var lineEnd = lineStart
                while lineEnd < raw.count, raw[lineEnd] != 0x0A { lineEnd += 1 }
                defer { lineStart = lineEnd + 1 }
                var s = JSONScanner(raw, start: lineStart, end: lineEnd)
                s.skipWhitespace()
                if s.position == lineEnd { continue }
                do {
                    var streamIndex: Int32? = nil
                    var t: Int64? = nil
                    var value: Range<Int>? = nil
                    var failure: ReadingError? = nil
                    try s.scanObject { (key, s) throws(JSONScanner.Failure) in
                        switch key {
                        case "stream":
                            guard streamIndex == nil else { throw s.fail("duplicate field \"stream\"") }
                            guard s.position < lineEnd, raw[s.position] == 0x22 else { throw s.fail("\"stream\" must be a string") }
                            let start = s.position
                            // Fast path: the same stream as the previous line, byte for byte.
                            if let last = lastStreamRaw, lineEnd - start >= last.count,
                               memcmp(raw.baseAddress! + start, raw.baseAddress! + last.lowerBound, last.count) == 0 {
                                _ = try s.scanString(decode: false)
                                if s.position - start == last.count {
                                    streamIndex = lastStream
                                    return
                                }
                            }
                            s = JSONScanner(raw, start: start, end: lineEnd)
                            let name = try s.scanString(decode: true)!
                            do throws(ReadingError) {
                                streamIndex = try batch.intern(stream: name)
                                lastStream = streamIndex!
                                lastStreamRaw = start..<s.position
                            } catch {
                                failure = error
                            }
                        case "t":
                            guard t == nil else { throw s.fail("duplicate field \"t\"") }
                            t = try scanTime(&s, raw: raw, integerScale: integerTimeScale)
                        case "v":
                            guard value == nil else { throw s.fail("duplicate field \"v\"") }
                            value = try s.scanValue()
                        default:
                            throw s.fail("unknown field \"\(key)\" (a reading has stream, t and v)")
                        }
                    }
                    try s.expectEnd()
                    if let failure { throw failure }
                    guard let streamIndex else { throw ReadingError("missing \"stream\"") }
                    guard let t else { throw ReadingError("missing \"t\"") }
                    guard let value else { throw ReadingError("missing \"v\"") }
                    try batch.append(stream: streamIndex, t: t, value: UnsafeRawBufferPointer(rebasing: raw[value]), line: lineNumber)
                } catch let e as JSONScanner.Failure {
                    let err = LineError(line: lineNumber, reason: "\(e.reason) (column \(e.offset - lineStart + 1))")
                    if !skipInvalid { throw err }
                    errors.append(err)
                } catch let e as ReadingError {
                    let err = LineError(line: lineNumber, reason: e.reason)
                    if !skipInvalid { throw err }
                    errors.append(err)
                } catch {
                    let err = LineError(line: lineNumber, reason: "\(error)")
                    if !skipInvalid { throw err }
                    errors.append(err)
                }
            }
        }
    }

    /// `t` as integer milliseconds or an RFC 3339 string.
    static func scanTime(_ s: inout JSONScanner, raw: UnsafeRawBufferPointer, integerScale: Int64 = 1) throws(JSONScanner.Failure) -> Int64 {
        let start = s.position
        guard start < raw.count else { throw s.fail("missing value for \"t\"") }
        if raw[start] == 0x22 {
            _ = try s.scanString(decode: false)
            guard let ms = Timestamp.parseRFC3339(UnsafeRawBufferPointer(rebasing: raw[(start + 1)..<(s.position - 1)])) else {
                throw JSONScanner.Failure(offset: start, reason: "\"t\" is not an RFC 3339 time")
            }
            return ms
        }
        guard raw[start] != 0x2D else { throw s.fail("\"t\" must not be negative") }
        guard raw[start] >= 0x30 && raw[start] <= 0x39 else {
            throw s.fail("\"t\" must be integer milliseconds or an RFC 3339 string")
        }
        let isInteger = try s.scanNumber()
        guard isInteger, s.position - start <= 15 else {
            throw JSONScanner.Failure(offset: start, reason: "\"t\" must be integer milliseconds within 1970…9999")
        }
        var v: Int64 = 0
        for i in start..<s.position { v = v * 10 + Int64(raw[i] - 0x30) }
        let (scaled, overflow) = v.multipliedReportingOverflow(by: integerScale)
        guard !overflow, scaled <= Timestamp.maxMilliseconds else {
            throw JSONScanner.Failure(offset: start, reason: "\"t\" is past the year 9999 in the given unit")
        }
        return scaled
    }
}

#if canImport(Glibc)
import Glibc
#endif
