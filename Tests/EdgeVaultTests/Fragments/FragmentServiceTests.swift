import Foundation
import GRDB
import Logging
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer

@Suite("FragmentService: what a push checks before anything is sent")
struct FragmentServiceTests {
    static func service(_ vault: TestVault) async throws -> FragmentService {
        let ledger = try await LedgerService(store: vault.store, dataDir: vault.dataDir, logger: Logger(label: "t"))
        return FragmentService(store: vault.store, ledger: ledger, dataDir: vault.dataDir, keyPair: .generate(), logger: Logger(label: "t"))
    }

    @Test("A vault whose genesis leaf carries no person's signature over its log key (made before fragments) is refused with key_mismatch; one made by init gets past that check")
    func unboundVaultRefused() async throws {
        let vault = try TestVault()
        let input = AdminAPI.FragmentsPushInput(k: 3, n: 8)
        // Made by init: the binding holds, and the push stops at the next check (no peers).
        do {
            _ = try await Self.service(vault).check(input)
            Issue.record("a vault with no peers was let through")
        } catch let e as VaultError {
            #expect(e.code == .tooFewPeers, "\(e.message)")
        }

        // The same genesis leaf without its personSignature, as an older vault's.
        let genesis = try #require(try await vault.store.leaf(at: 0))
        guard case .object(var o) = try JSONValue.parse(genesis) else { Issue.record("not an object"); return }
        o[VaultBinding.member] = nil
        let unsigned = JSONValue.object(o).serialized()
        try await vault.store.writer.write { db in
            try db.execute(sql: "UPDATE ledger_leaf SET data = ? WHERE idx = 0", arguments: [Data(unsigned)])
        }
        do {
            _ = try await Self.service(vault).check(input)
            Issue.record("an unbound vault was let through")
        } catch let e as VaultError {
            #expect(e.code == .keyMismatch && e.message.contains("made before fragments"), "\(e.message)")
        }
    }
}
