import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

/// A fresh directory under the system temp dir, removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/evtest-" + UUID().uuidString.prefix(8).lowercased()
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

enum Fixtures {
    static func json(_ name: String) throws -> [String: Any] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"))
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }
}

func hex(_ s: String) -> [UInt8] { Encoding.fromHex(s)! }

/// A vault on disk with known keys, for store-level tests.
struct TestVault {
    let dir: TemporaryDirectory
    let keys: UserKeys
    let store: VaultStore

    static let passphrase = "correct horse battery staple"

    init() throws {
        dir = TemporaryDirectory()
        var pass = Array(Self.passphrase.utf8)
        let created = try VaultSetup.initialize(
            dataDir: dir.path + "/data", keyFile: dir.path + "/user.key", passphrase: SecureBytes(wiping: &pass),
            cost: .interactive)
        var pass2 = Array(Self.passphrase.utf8)
        keys = try UserKeyFile.read(from: created.keyFile).unlock(passphrase: SecureBytes(wiping: &pass2))
        store = try VaultStore.open(dataDir: created.dataDir)
    }

    var dataDir: String { dir.path + "/data" }
}
