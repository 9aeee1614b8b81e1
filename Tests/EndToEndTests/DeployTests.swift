import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
private let repo = repositoryRoot
private let canBootContainer = getuid() == 0
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-nspawn")
    && FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap")

@Suite("deploy/: the systemd unit and the Dockerfile")
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

    @Test("Under a live systemd (Debian 12 booted in systemd-nspawn) the documented first boot works: socket for group edgevault, no key file in the service's view, restart after SIGKILL, graceful stop, uninstall keeps the data",
          .enabled(if: canBootContainer, "needs root, systemd-nspawn and debootstrap (scripts/test installs them when run as root)"))
    func liveSystemd() async throws {
        // scripts/systemd-live does the walkthrough and prints one "ok:" line per check; its
        // first run downloads Debian 12 with debootstrap (about a minute, cached in .build).
        let r = try await run(repo.appendingPathComponent("scripts/systemd-live").path, ["--binaries", Binaries.directory],
                              timeout: .seconds(900))
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        for check in ["is PID 1 in the container", "admin socket srw-rw---- edgevault:edgevault", "reached the daemon over the socket",
                      "runs as edgevault; its view of /home holds no key file", "restarted by Restart=on-failure",
                      "graceful exit (Result=success, status 0)", "the person's stream is still there", "kept /var/lib/edgevault",
                      "systemd-live: all checks passed"] {
            #expect(r.stdout.contains(check), "\(check)")
        }
        let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = try #require(line.split(separator: " ").compactMap { Double($0) }.first)
        #expect(score <= 2.0, "live exposure: \(line)")
    }

    @Test("The Dockerfile's build stage copies everything the package needs and builds the way deploy/ does; the image runs vaultd unprivileged on the shipped config, with data and socket dirs as volumes")
    func dockerfile() async throws {
        // No Docker engine here: the build stage's COPY lines are replayed into an empty
        // directory and SwiftPM loads the package there (it refuses a target whose sources
        // were not copied), which is the first thing `docker build` would trip over.
        let text = try String(contentsOf: repo.appendingPathComponent("deploy/Dockerfile"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let stages = lines.indices.filter { lines[$0].hasPrefix("FROM ") }
        #expect(stages.count == 2, "a build stage and a runtime stage")
        let buildStage = lines[stages[0]..<(stages.count > 1 ? stages[1] : lines.endIndex)]
        let copies = buildStage.filter { $0.hasPrefix("COPY ") && !$0.contains("--from") }
        #expect(!copies.isEmpty)
        let context = FileManager.default.temporaryDirectory.path + "/ev-docker-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: context) }
        for line in copies {
            let parts = line.split(separator: " ").dropFirst().map(String.init)
            let destination = parts.last == "./" || parts.last == "." ? "" : parts.last!
            for source in parts.dropLast() {
                let from = repo.appendingPathComponent(source).path
                #expect(FileManager.default.fileExists(atPath: from), "\(line)")
                let to = context + "/" + (destination.isEmpty ? source : destination)
                try? FileManager.default.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
        }
        let described = try await run("/usr/bin/env", ["swift", "package", "--package-path", context, "describe", "--type", "json"], timeout: .seconds(120))
        #expect(described.status == 0, "SwiftPM cannot load the package from what the Dockerfile copies: \(described.stderr)")
        #expect(buildStage.contains { $0.contains("RUN scripts/build-release") }, "built like deploy/install.sh builds")
        #expect(FileManager.default.isExecutableFile(atPath: context + "/scripts/build-release"))

        #expect(text.contains("USER edgevault"))
        #expect(text.contains(#"VOLUME ["/var/lib/edgevault", "/run/edgevault"]"#))
        #expect(text.contains(#"ENTRYPOINT ["vaultd", "--config", "/etc/edgevault/vaultd.toml"]"#))
        #expect(!text.contains("user.key"), "the person's key never goes into the image")
        let ignored = try String(contentsOf: repo.appendingPathComponent(".dockerignore"), encoding: .utf8)
        #expect(ignored.split(separator: "\n").contains(".build"), "the build context leaves out .build")
    }
}
