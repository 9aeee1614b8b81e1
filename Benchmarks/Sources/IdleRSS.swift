import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation

/// Idle resident memory of `vaultd` and of a bare Hummingbird daemon, both from the same
/// build directory, after start-up and one request.
enum IdleRSS {
    static var binDirectory: String { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path }

    static func measure() async throws -> (vaultd: Double, bare: Double)? {
        let vaultd = binDirectory + "/vaultd", bare = binDirectory + "/bare-hummingbird"
        guard FileManager.default.isExecutableFile(atPath: vaultd), FileManager.default.isExecutableFile(atPath: bare) else {
            print("(idle RSS skipped: build vaultd and bare-hummingbird next to edgevault-bench)")
            return nil
        }
        let dir = try temporaryDirectory("rss")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var pass = Array("benchmark passphrase".utf8)
        _ = try VaultSetup.initialize(dataDir: dir + "/data", keyFile: dir + "/user.key", passphrase: SecureBytes(wiping: &pass), cost: .interactive)
        let ours = try await rss(of: vaultd, ["--config", "/dev/null", "--data-dir", dir + "/data", "--admin-socket", dir + "/v.sock"], socket: dir + "/v.sock")
        let base = try await rss(of: bare, [dir + "/b.sock"], socket: dir + "/b.sock")
        return (ours, base)
    }

    /// Starts `binary`, waits for its socket to answer, sends one request, idles 2 s, reads VmRSS.
    static func rss(of binary: String, _ arguments: [String], socket: String) async throws -> Double {
        try await started(binary, arguments, socket: socket) { p in
            try await Task.sleep(for: .seconds(2))
            return FootprintBenchmark.status(pid: p.processIdentifier, "VmRSS")
        }
    }

    /// Starts `binary` and stops it as soon as its socket answers.
    static func startAndStop(_ binary: String, _ arguments: [String], socket: String) async throws {
        try await started(binary, arguments, socket: socket) { _ in }
    }

    /// Runs `body` once `binary`'s socket answers `/healthz`, then stops it.
    static func started<T>(_ binary: String, _ arguments: [String], socket: String, _ body: (Process) async throws -> T) async throws -> T {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        let client = HTTPClient(target: .unix(path: socket))
        var ready = false
        for _ in 0..<2000 where !ready {
            ready = (try? await client.send(method: .GET, path: "/healthz"))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(5)) }
        }
        guard ready else { throw BenchError("\(binary) did not answer on \(socket)") }
        return try await body(p)
    }
}
