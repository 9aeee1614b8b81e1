/// The input formats `vault-cli ingest` reads.
public enum ReadingFormat: String, CaseIterable, Sendable {
    case ndjson, csv, senml

    /// Picks a format from the file name, else from the first non-blank byte
    /// (`[` SenML, `{` NDJSON, anything else CSV).
    public static func detect(path: String?, sample: [UInt8]) -> ReadingFormat {
        if let path = path?.lowercased() {
            if path.hasSuffix(".ndjson") || path.hasSuffix(".jsonl") { return .ndjson }
            if path.hasSuffix(".csv") { return .csv }
            if path.hasSuffix(".senml") || path.hasSuffix(".senml.json") { return .senml }
        }
        for b in sample {
            switch b {
            case 0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF: continue
            case 0x5B: return .senml
            case 0x7B: return .ndjson
            default: return .csv
            }
        }
        return .ndjson
    }

    /// Parses `input` in this format into `batch`.
    /// `integerTimeScale` 1000: integer times are seconds (NDJSON and CSV; SenML times are
    /// seconds already).
    public func parse(
        _ input: [UInt8], into batch: inout ReadingBatch, skipInvalid: Bool, errors: inout [LineError], integerTimeScale: Int64 = 1
    ) throws(LineError) {
        switch self {
        case .ndjson: try NDJSONParser.parse(input, into: &batch, skipInvalid: skipInvalid, errors: &errors, integerTimeScale: integerTimeScale)
        case .csv: try CSVParser.parse(input, into: &batch, skipInvalid: skipInvalid, errors: &errors, integerTimeScale: integerTimeScale)
        case .senml: try SenMLParser.parse(input, into: &batch, skipInvalid: skipInvalid, errors: &errors)
        }
    }
}
