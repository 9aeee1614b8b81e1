import Foundation
import Testing

private let systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
private let repo = repositoryRoot

@Suite("deploy/: the systemd unit")
struct DeployTests {
    /// The unit as installed, but pointing at the binary this build made.
    func installedUnit() throws -> String {
        let dir = FileManager.default.temporaryDirectory.path + "/ev-unit-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let unit = try String(contentsOf: repo.appendingPathComponent("deploy/systemd/vaultd.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/vaultd", with: try Binaries.path("vaultd"))
        try unit.write(toFile: dir + "/vaultd.service", atomically: true, encoding: .utf8)
        return dir + "/vaultd.service"
    }

    @Test("systemd-analyze verify accepts vaultd.service", .enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed here"))
    func verify() async throws {
        let r = try await run(systemdAnalyze!, ["verify", try installedUnit()])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(!(r.stdout + r.stderr).contains("vaultd.service:"), "no warnings about the unit: \(r.stderr)")
    }

    @Test("The unit's exposure score stays low and it keeps the daemon out of home directories",
          .enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed here"))
    func security() async throws {
        let r = try await run(systemdAnalyze!, ["security", "--offline=true", try installedUnit()])
        let line = try #require(r.stdout.split(separator: "\n").last { $0.contains("Overall exposure level") })
        let score = try #require(Double(line.split(separator: " ").first { Double($0) != nil } ?? ""))
        #expect(score <= 2.0, "\(line)")
        let unit = try String(contentsOf: repo.appendingPathComponent("deploy/systemd/vaultd.service"), encoding: .utf8)
        for directive in ["ProtectHome=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "MemoryDenyWriteExecute=yes", "CapabilityBoundingSet=",
                          "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "SystemCallFilter=@system-service", "User=edgevault"] {
            #expect(unit.contains(directive + "\n"), "\(directive)")
        }
    }

    @Test("The Dockerfile copies only files that exist, runs vaultd unprivileged on the shipped config, with data and socket dirs as volumes")
    func dockerfile() throws {
        let text = try String(contentsOf: repo.appendingPathComponent("deploy/Dockerfile"), encoding: .utf8)
        let copies = text.split(separator: "\n").filter { $0.hasPrefix("COPY ") && !$0.contains("--from") }
        #expect(!copies.isEmpty)
        for line in copies {
            let parts = line.split(separator: " ").dropFirst().dropLast()
            for source in parts {
                #expect(FileManager.default.fileExists(atPath: repo.appendingPathComponent(String(source)).path), "\(line)")
            }
        }
        #expect(text.contains("USER edgevault"))
        #expect(text.contains(#"VOLUME ["/var/lib/edgevault", "/run/edgevault"]"#))
        #expect(text.contains(#"ENTRYPOINT ["vaultd", "--config", "/etc/edgevault/vaultd.toml"]"#))
        #expect(!text.contains("user.key"), "the person's key never goes into the image")
    }
}
