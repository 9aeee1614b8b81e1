import Foundation
import GRDB
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient

/// The database rule of `VaultStore` (its doc comment): the daemon reaches the database only
/// through the async API; the blocking calls the command-line tools make are named `…Blocking`.
@Suite("Store calls: async in the daemon, blocking ones named so; an in-memory store")
struct StoreCallTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func sources(_ folder: String) throws -> [(name: String, text: String)] {
        let base = root.appendingPathComponent(folder)
        let files = try #require(FileManager.default.enumerator(atPath: base.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty, "\(folder) has Swift files")
        return try files.sorted().map { ($0, try String(contentsOf: base.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// Lines of code (comments dropped) with their file and number.
    static func codeLines(_ folder: String) throws -> [(place: String, line: String)] {
        try sources(folder).flatMap { file in
            file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { i, raw -> (String, String)? in
                let line = raw.trimmingCharacters(in: .whitespaces)
                guard !line.hasPrefix("//") else { return nil }
                return ("\(file.name):\(i + 1)", String(line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false)[0]))
            }
        }
    }

    @Test("Sources/EdgeVaultServer makes no blocking store call and reaches no GRDB connection itself")
    func serverIsAsync() throws {
        var calls = 0
        for (place, line) in try Self.codeLines("Sources/EdgeVaultServer") {
            #expect(line.range(of: #"\w+Blocking\("#, options: .regularExpression) == nil, "a blocking call at \(place): \(line)")
            #expect(!line.contains(".writer.") && !line.contains("VaultStore(path:"), "the database reached directly at \(place): \(line)")
            // Every store call is awaited (the compiler insists for async ones; this catches a
            // synchronous one added later under another name).
            for match in line.matches(of: /\bstore\??\.([a-zA-Z]+)\(/) {
                calls += 1
                let before = line[..<match.range.lowerBound]
                #expect(before.contains("await"), "store.\(match.output.1) is not awaited at \(place): \(line)")
            }
        }
        #expect(calls > 40, "the scan finds the daemon's store calls (\(calls))")
    }

    @Test("The vault record is read at start-up, not by handlers: they take it from LedgerService.vault")
    func vaultReadOnce() async throws {
        let readers = try Self.codeLines("Sources/EdgeVaultServer").filter { $0.line.contains("store.vault(") }.map(\.place)
        #expect(readers.allSatisfy { $0.hasPrefix("Ledger/LedgerService.swift:") || $0.hasPrefix("Ingest/SegmentManager.swift:") },
                "\(readers)")
        let vault = try TestVault()
        let ledger = try await LedgerService(store: vault.store, dataDir: vault.dataDir, logger: .init(label: "t"))
        #expect(ledger.vault == (try await vault.store.vault()))
    }

    @Test("Every public VaultStore method is async, or is named …Blocking")
    func blockingOnesAreNamed() throws {
        var checked = 0
        for file in try Self.sources("Sources/EdgeVaultStore") where file.name.hasPrefix("VaultStore") || file.name == "NonceStore.swift" {
            for match in file.text.matches(of: /(?s)\n    public func (\w+)([^{]*)\{/) {
                checked += 1
                let name = String(match.output.1), signature = String(match.output.2)
                #expect(signature.contains(" async ") || name.hasSuffix("Blocking"), "\(file.name): \(name) blocks and is not named …Blocking")
            }
        }
        #expect(checked > 40, "the scan finds the store's methods (\(checked))")
    }

    @Test("An in-memory store: migrated, streams and requests stored, the per-call lookups answered")
    func inMemory() async throws {
        let store = try VaultStore.inMemory()
        #expect(store.writer is DatabaseQueue && store.hotReader == nil)
        let created = try await store.createStream(StreamRecord(id: nil, name: "a/b", kind: "", unit: "", bucketSeconds: 60, createdAt: 1))
        #expect(try await store.streams() == [created])
        let org = OrgKeys.generate()
        let now = Timestamp.now()
        #expect(try await store.orgKey(keyId: org.keyId) == nil)
        try await PendingLimitTests.submit(store, keys: org, id: "r1", now: now)
        #expect(try await store.orgKey(keyId: org.keyId) == OrgKey(publicKey: org.signing.publicKey.bytes, isBlocked: false))
        #expect(try await store.requestStatus(org: org.keyId, id: "r1", now: now)?.status == "pending")
        #expect(try await store.requestStatus(org: org.keyId, id: "r2", now: now) == nil)
        #expect(try await store.ledgerSize() == 2, "org.seen and request.received")
        // Another store in memory is another database.
        #expect(try await VaultStore.inMemory().streams().isEmpty)
    }
}
