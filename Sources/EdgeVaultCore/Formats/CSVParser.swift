/// Parses CSV readings (RFC 4180): a header naming the columns `stream`, `t` and `v` (in
/// any order), then one reading per record.
///
/// `t` is integer milliseconds or RFC 3339. `v` is stored as JSON: a field that already is a
/// JSON number, `true`, `false`, `null`, string (`"…"`), object or array is kept as that
/// value; anything else becomes a JSON string. So `21.5` is a number, `on` is the string
/// `"on"`, and the CSV that `vault-cli export --format csv` writes reads back unchanged.
/// Spaces around any field are not part of it (`stream, t, v` as a spreadsheet may write it).
public enum CSVParser {
    public static func parse(
        _ input: [UInt8], into batch: inout ReadingBatch, skipInvalid: Bool = false, errors: inout [LineError], integerTimeScale: Int64 = 1
    ) throws(LineError) {
        var records = RecordReader(input)
        guard let header = try records.next() else { return }
        let names = header.fields.map { String(decoding: $0, as: UTF8.self).trimmingSpaces().lowercased() }
        guard let si = names.firstIndex(of: "stream"), let ti = names.firstIndex(of: "t"), let vi = names.firstIndex(of: "v"),
              names.count == 3
        else {
            throw LineError(line: header.line, reason: "the header must name the columns stream, t and v (found: \(names.joined(separator: ",")))")
        }
        while let record = try records.next(skipInvalid: skipInvalid, errors: &errors) {
            // A blank line, or a record the reader already reported as malformed.
            if record.fields.isEmpty || (record.fields.count == 1 && record.fields[0].isEmpty) { continue }
            do throws(ReadingError) {
                guard record.fields.count == 3 else {
                    throw ReadingError("expected 3 fields (stream,t,v), found \(record.fields.count)")
                }
                let name = String(decoding: record.fields[si].trimmingSpaces(), as: UTF8.self)
                let tText = record.fields[ti].trimmingSpaces()
                let tString = String(decoding: tText, as: UTF8.self)
                // An integer is milliseconds, or seconds with --time-unit s.
                let scaled = Int64(tString).flatMap { n -> Int64? in
                    let (v, overflow) = n.multipliedReportingOverflow(by: integerTimeScale)
                    return overflow || n < 0 || v > Timestamp.maxMilliseconds ? nil : v
                }
                guard let t = Int64(tString) != nil ? scaled : Timestamp.parseFlexible(tString) else {
                    throw ReadingError("t \"\(String(decoding: tText, as: UTF8.self))\" is not integer milliseconds or an RFC 3339 time")
                }
                let v = try jsonValue(fromField: record.fields[vi].trimmingSpaces())
                try batch.append(stream: name, t: t, value: v, line: record.line)
            } catch {
                let err = LineError(line: record.line, reason: error.reason)
                if !skipInvalid { throw err }
                errors.append(err)
            }
        }
    }

    /// The JSON value a CSV `v` field stands for (see the type's documentation).
    public static func jsonValue(fromField field: [UInt8]) throws(ReadingError) -> [UInt8] {
        guard let first = field.first else { throw ReadingError("empty value") }
        let startsLikeJSON: Bool
        switch first {
        case 0x22, 0x7B, 0x5B, 0x2D, 0x30...0x39, 0x74, 0x66, 0x6E: startsLikeJSON = true  // " { [ - digit t f n
        default: startsLikeJSON = false
        }
        // Kept as JSON only when it is one line with no whitespace around it: a value is stored
        // byte for byte and travels as one NDJSON line (fuzzing found `2\r\r` kept as a number).
        if startsLikeJSON, let last = field.last, ![0x20, 0x09, 0x0A, 0x0D].contains(last),
           !field.contains(0x0A), !field.contains(0x0D), JSONScanner.isValidValue(field) {
            return field
        }
        var out: [UInt8] = []
        JSONText.appendQuoted(String(decoding: field, as: UTF8.self), to: &out)
        return out
    }

    /// The CSV text of a stored JSON value, as a spreadsheet shows it: a string as its plain
    /// text (`on`, not `"on"`) when reading that text back gives the same string; otherwise
    /// (a string such as `21.7` or `true`, or one with spaces around it) its JSON form, which
    /// reads back as the string. Numbers, booleans, null, objects and arrays as their JSON.
    public static func text(ofValue json: [UInt8]) -> [UInt8] {
        guard json.first == 0x22, let s = (try? JSONValue.parse(json))?.stringValue else { return json }
        let plain = Array(s.utf8)
        if !plain.isEmpty, plain.trimmingSpaces() == plain, (try? jsonValue(fromField: plain)) == json { return plain }
        return json
    }

    /// Quotes a field for CSV output when it needs it.
    public static func field(_ bytes: [UInt8]) -> [UInt8] {
        let needs = bytes.contains { (b: UInt8) -> Bool in b == 0x2C || b == 0x22 || b == 0x0A || b == 0x0D }
        guard needs else { return bytes }
        var out: [UInt8] = [0x22]
        for b in bytes {
            if b == 0x22 { out.append(0x22) }
            out.append(b)
        }
        out.append(0x22)
        return out
    }

    struct Record {
        var fields: [[UInt8]]
        var line: Int
    }

    /// RFC 4180 record reader: quoted fields may hold commas, quotes (doubled) and newlines.
    struct RecordReader {
        let input: [UInt8]
        var i = 0
        var line = 1

        init(_ input: [UInt8]) {
            self.input = input
            // Skip a UTF-8 byte order mark.
            if input.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        }

        mutating func next() throws(LineError) -> Record? {
            var ignored: [LineError] = []
            return try next(skipInvalid: false, errors: &ignored)
        }

        mutating func next(skipInvalid: Bool, errors: inout [LineError]) throws(LineError) -> Record? {
            guard i < input.count else { return nil }
            let startLine = line
            var fields: [[UInt8]] = []
            var field: [UInt8] = []
            var quoted = false
            var fieldStarted = false
            while i < input.count {
                let c = input[i]
                if quoted {
                    if c == 0x22 {
                        if i + 1 < input.count, input[i + 1] == 0x22 {
                            field.append(0x22)
                            i += 2
                            continue
                        }
                        quoted = false
                        i += 1
                        // After a closing quote only a separator or line end may follow.
                        if i < input.count, input[i] != 0x2C, input[i] != 0x0A, input[i] != 0x0D {
                            let err = LineError(line: line, reason: "unexpected character after a closing quote")
                            if !skipInvalid { throw err }
                            errors.append(err)
                            skipToLineEnd()
                            return Record(fields: [], line: startLine)
                        }
                        continue
                    }
                    if c == 0x0A { line += 1 }
                    field.append(c)
                    i += 1
                    continue
                }
                switch c {
                case 0x22 where !fieldStarted:
                    quoted = true
                    fieldStarted = true
                    i += 1
                case 0x2C:
                    fields.append(field)
                    field = []
                    fieldStarted = false
                    i += 1
                case 0x0D where i + 1 < input.count && input[i + 1] == 0x0A:
                    i += 1
                case 0x0A:
                    i += 1
                    line += 1
                    fields.append(field)
                    return Record(fields: fields, line: startLine)
                default:
                    field.append(c)
                    fieldStarted = true
                    i += 1
                }
            }
            if quoted {
                let err = LineError(line: startLine, reason: "unterminated quoted field")
                if !skipInvalid { throw err }
                errors.append(err)
                return nil
            }
            fields.append(field)
            return Record(fields: fields, line: startLine)
        }

        mutating func skipToLineEnd() {
            while i < input.count, input[i] != 0x0A { i += 1 }
            if i < input.count { i += 1; line += 1 }
        }
    }
}

extension Array where Element == UInt8 {
    func trimmingSpaces() -> [UInt8] {
        var s = startIndex, e = endIndex
        while s < e, self[s] == 0x20 || self[s] == 0x09 { s += 1 }
        while e > s, self[e - 1] == 0x20 || self[e - 1] == 0x09 || self[e - 1] == 0x0D { e -= 1 }
        return Array(self[s..<e])
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(decoding: Array(utf8).trimmingSpaces(), as: UTF8.self)
    }
}
