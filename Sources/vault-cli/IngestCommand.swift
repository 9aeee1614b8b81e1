import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

struct IngestCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Add readings from a file or standard input (NDJSON, CSV or SenML).",
        discussion: """
            NDJSON: one {"stream":…,"t":…,"v":…} per line. CSV: a header with stream,t,v. SenML: \
            an RFC 8428 JSON pack (name = bn+n). Times are integer milliseconds since the Unix \
            epoch or RFC 3339. The format comes from --format, else the file name, else the \
            first character. The whole input is checked first: by default one bad line rejects \
            everything (nothing is stored) and names the line; --skip-invalid stores the good \
            lines and lists the bad ones (exit status 2 when it skipped any). Readings are \
            acknowledged only once committed.

            Times more than a day ahead, or before 2000, are refused (Unix seconds sent as \
            milliseconds land in January 1970): --time-unit s reads integer times as seconds, \
            --allow-old accepts a real back-fill from before 2000.

            Examples: vault-cli ingest readings.csv
                      vault-cli ingest --time-unit s logger-export.ndjson
            """)

    static let maxInputBytes = 1 << 30

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Input file; standard input when omitted or '-'.")
    var file: String?

    @Option(help: "Input format: ndjson, csv or senml (default: detect).")
    var format: String?

    @Flag(help: "Store the valid readings and report the invalid ones instead of rejecting the input.")
    var skipInvalid = false

    @Option(help: "Unit of integer times: ms (default) or s. RFC 3339 times are read as written; SenML times are seconds.")
    var timeUnit: String = "ms"

    @Flag(help: "Accept times before 2000 (a real back-fill, not seconds mistaken for milliseconds).")
    var allowOld = false

    func validate() throws {
        if let format, ReadingFormat(rawValue: format) == nil { throw ValidationError("--format must be ndjson, csv or senml") }
        guard ["ms", "s"].contains(timeUnit) else { throw ValidationError("--time-unit must be ms or s") }
    }

    func execute() async throws {
        let path = file == "-" ? nil : file
        let input: [UInt8]
        do {
            input = try path.map { try FileIO.read($0, limit: Self.maxInputBytes) } ?? FileIO.readStandardInput(limit: Self.maxInputBytes)
        } catch let e as FileIO.Failure {
            throw VaultError(.badRequest, e.isNotFound ? "no such file: \(path ?? "-")" : e.description)
        }
        let fmt = format.flatMap(ReadingFormat.init(rawValue:)) ?? ReadingFormat.detect(path: path, sample: Array(input.prefix(64)))
        var batch = ReadingBatch()
        var errors: [LineError] = []
        do {
            try fmt.parse(input, into: &batch, skipInvalid: skipInvalid, errors: &errors, integerTimeScale: timeUnit == "s" ? 1000 : 1)
        } catch {
            let kind = fmt == .senml ? "record" : "line"
            throw VaultError(.invalidReading, "\(path ?? "stdin") \(kind) \(error.line): \(error.reason); nothing was stored (use --skip-invalid to store the valid readings)")
        }
        // Times checked here as the daemon will, so the line can be named.
        let implausible = batch.implausibleTimes(TimePolicy(allowOld: allowOld), now: Timestamp.now(), limit: Int.max)
        if let first = implausible.first {
            let kind = fmt == .senml ? "record" : "line"
            guard skipInvalid else {
                throw VaultError(.invalidReading, "\(path ?? "stdin") \(kind) \(first.line): \(first.reason); nothing was stored")
            }
            errors += implausible
            errors.sort { $0.line < $1.line }
            batch = batch.without(lines: Set(implausible.map(\.line)))
        }
        for e in errors.prefix(20) { eprint("vault-cli: skipped \(path ?? "stdin") line \(e.line): \(e.reason)\n") }
        if errors.count > 20 { eprint("vault-cli: … and \(errors.count - 20) more invalid lines\n") }
        let client = try global.client()
        let ingester = Ingester(client: client)
        try await ingester.checkStreams(batch)
        let progress = batch.count >= 50_000 ? ProgressBar(label: "ingest", total: Int64(batch.count), unit: "readings") : nil
        let stored = try await ingester.send(batch, allowOld: allowOld, progress: progress)
        progress?.finish()
        print("stored \(count(stored, "reading")) in \(count(batch.streams.count, "stream"))" + (errors.isEmpty ? "" : "; skipped \(errors.count) invalid"))
        if !errors.isEmpty { throw ExitCode(2) }
    }
}
