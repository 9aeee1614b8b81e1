import ArgumentParser
import EdgeVault

struct StreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Manage streams (named series of readings).",
        discussion: """
            By default vaultd creates a stream the first time a reading names it (setting \
            ingest.auto_create_streams, on by default); with it off, add streams here first.
            """,
        subcommands: [Add.self, List.self])

    struct Add: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Add a stream.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Stream name, e.g. home/livingroom/temperature (A-Z a-z 0-9 . _ - : @ + and '/').")
        var name: String

        @Option(help: "What it measures, e.g. temperature.")
        var kind: String?

        @Option(help: "Unit, e.g. Cel.")
        var unit: String?

        @Option(help: "Bucket length in seconds (the unit of encryption and of granting); default 3600.")
        var bucket: Int64?

        func validate() throws {
            if let problem = StreamName.problem(with: name) { throw ValidationError(problem) }
            if let bucket, bucket < 1 || bucket > 366 * 86_400 { throw ValidationError("--bucket must be between 1 and 31622400 seconds") }
        }

        func execute() async throws {
            let s = try await global.client().addStream(.init(name: name, kind: kind, unit: unit, bucketSeconds: bucket))
            print("added stream \(s.name) (bucket \(s.bucketSeconds) s)")
        }
    }

    struct List: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "List streams.")

        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            let streams = try await global.client().streams()
            if streams.isEmpty {
                print("no streams")
                return
            }
            printTable(header: ["STREAM", "KIND", "UNIT", "BUCKET", "CREATED"],
                       rows: streams.map { [$0.name, $0.kind.isEmpty ? "-" : $0.kind, $0.unit.isEmpty ? "-" : $0.unit, "\($0.bucketSeconds)s", $0.createdAt] })
        }
    }
}
