// swift-tools-version: 6.1
import PackageDescription

// How the daemon's executables are linked on Linux (docs/BENCHMARKS.md, footprint): with lld,
// relative relocations packed (DT_RELR, glibc 2.36+: Debian 12), no exported dynamic symbol
// table, and the code run from start-up to idle laid out as one block at the front of .text
// (startup-order.txt names those functions, startup-layout.ld the private helpers no symbol
// names; scripts/link-order records both, and scripts/build-release gives every function its
// own section). Together they take vaultd's idle RSS from ~35 MB to ~18 MB.
let compactLinking: [LinkerSetting] = [
    .unsafeFlags([
        "-use-ld=lld",
        "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
        "-Xlinker", "--no-export-dynamic",
        "-Xlinker", "--script=\(Context.packageDirectory)/Sources/vaultd/startup-layout.ld",
        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/vaultd/startup-order.txt",
        "-Xlinker", "--no-warn-symbol-ordering",
    ], .when(platforms: [.linux])),
]

// Every dependency is pinned to an exact version: the build must be reproducible on a
// Raspberry Pi and in CI from a local package mirror.
let package = Package(
    name: "EdgeVault",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EdgeVault", targets: ["EdgeVaultCore", "EdgeVaultStore", "EdgeVaultFragments", "EdgeVaultRecovery", "EdgeVaultServer", "EdgeVaultClient"]),
        .executable(name: "vaultd", targets: ["vaultd"]),
        .executable(name: "vault-cli", targets: ["vault-cli"]),
        // The compute sandbox (docs/SECURITY.md, "The compute sandbox"): vault-cli and vaultd
        // start it, one process per job; installed beside them.
        .executable(name: "edgevault-sandbox", targets: ["edgevault-sandbox"]),
        .executable(name: "edgevault-bench", targets: ["EdgeVaultBenchmarks"]),
        .executable(name: "bare-hummingbird", targets: ["BareHummingbird"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        // `traits: []`: no swift-configuration, no full Foundation in Hummingbird (smaller
        // daemon), and no rebuild when switching between `swift build` and `swift test`.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-structured-headers", exact: "1.7.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        // Already resolved through Hummingbird; named here for NIOHTTPTypes (the public
        // listener's connection guard reads HTTP parts).
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
        // Already resolved through Hummingbird; named here for the HTTP field names the server sets.
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        // Already resolved through swift-nio; named here for FileDescriptor (whole writes that
        // retry on EINTR, a secret file read straight into guarded memory).
        .package(url: "https://github.com/apple/swift-system.git", exact: "1.8.1"),
        // Already resolved through Hummingbird (its MetricsMiddleware); named here to bootstrap it.
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        // /metrics in Prometheus text (Foundation-free; swift-metrics and swift-atomics only).
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        // Organizations' WebAssembly jobs (docs/SECURITY.md, "The compute sandbox"). `traits: []`:
        // none of the default FileSystem (modules from files), MultiThread (the sandbox runs one
        // guest on one thread) and Disassembler; vaultd links only its WasmParser.
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2", traits: []),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // Intel ISA-L's Reed–Solomon erasure code (docs/PROTOCOL.md §"Fragments").
        .systemLibrary(
            name: "CISAL",
            pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]
        ),
        // prctl(2) for both binaries' process hardening (Swift cannot call a variadic function).
        .target(name: "CHardening"),
        // The library, in layers; a target imports only those before it (README, Layout).
        // Core: formats, cryptography, signed documents and the wire types every side shares.
        .target(
            name: "EdgeVaultCore",
            dependencies: [
                "CSodium",
                "CHardening",
                .product(name: "NIOCore", package: "swift-nio"),
                // The HTTP client every side uses (vault-cli to vaultd, organizations to vaults,
                // a vault to its witnesses).
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "RawStructuredFieldValues", package: "swift-http-structured-headers"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Store: the vault's SQLite database, through GRDB.
        .target(
            name: "EdgeVaultStore",
            dependencies: [
                "EdgeVaultCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // Fragments: k-of-n erasure coding of sealed bytes for peers (ISA-L Reed–Solomon).
        .target(name: "EdgeVaultFragments", dependencies: ["EdgeVaultCore", "CISAL"]),
        // Recovery: SLIP-0039 mnemonic shares of the person's root secret.
        .target(name: "EdgeVaultRecovery", dependencies: ["EdgeVaultCore", "CSodium"]),
        // Server: vaultd's routers, ingest, MQTT, configuration and ledger service.
        .target(
            name: "EdgeVaultServer",
            dependencies: [
                "EdgeVaultCore",
                "EdgeVaultStore",
                "EdgeVaultCompute",
                "EdgeVaultFragments",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The public API's OpenAPI document, compiled into the binary as bytes
            // (`PackageResources.openapi_yaml`): no resource bundle to install beside vaultd and
            // no Foundation `Bundle` to find it (OpenAPIDocument.swift says why).
            resources: [.embedInCode("API/Public/openapi.yaml")]
        ),
        // Client: what the person's and an organization's tools do, over the admin socket and
        // the public listener.
        .target(
            name: "EdgeVaultClient",
            dependencies: [
                "EdgeVaultCore",
                "EdgeVaultStore",
                "EdgeVaultCompute",
                "EdgeVaultFragments",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The compute sandbox's frames, shared by the runner and the sandbox itself: no
        // dependency, so the process that parses an organization's module links little else.
        .target(name: "EdgeVaultSandboxFrame"),
        // Compute jobs on the person's side: module checks (WasmParser only) and the runner
        // that starts `edgevault-sandbox`; vaultd and vault-cli both link it.
        .target(
            name: "EdgeVaultCompute",
            dependencies: [
                "EdgeVaultCore",
                "EdgeVaultSandboxFrame",
                "CHardening",
                .product(name: "WasmParser", package: "WasmKit"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // seccomp-BPF and prctl for the sandbox (Swift cannot call variadic prctl, nor build
        // a BPF program from <linux/filter.h> macros).
        .target(name: "CSandbox"),
        // One organization's module, run once: stdin frame in, outcome frame out.
        .executableTarget(
            name: "edgevault-sandbox",
            dependencies: [
                "EdgeVaultSandboxFrame",
                "CSandbox",
                "CSodium",
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WASI", package: "WasmKit"),
                .product(name: "WasmKitWASI", package: "WasmKit"),
            ]
        ),
        // vault-cli's terminal: passphrase prompt, progress bar, the review screen (a library
        // of its own so unit tests reach it; vaultd does not link it).
        .target(
            name: "EdgeVaultTerminal",
            dependencies: ["EdgeVaultCore", "EdgeVaultClient", "EdgeVaultCompute"]
        ),
        .executableTarget(
            name: "vaultd",
            dependencies: [
                "EdgeVaultServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["startup-layout.ld", "startup-order.txt"],
            linkerSettings: compactLinking
        ),
        .executableTarget(
            name: "vault-cli",
            dependencies: [
                "EdgeVaultCore",
                "EdgeVaultStore",
                "EdgeVaultServer",
                "EdgeVaultClient",
                "EdgeVaultTerminal",
                "EdgeVaultCompute",
                "EdgeVaultRecovery",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: compactLinking
        ),
        .executableTarget(
            name: "EdgeVaultBenchmarks",
            dependencies: [
                "EdgeVaultCore", "EdgeVaultStore", "EdgeVaultServer", "EdgeVaultClient", "EdgeVaultCompute",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Benchmarks/Sources"
        ),
        // The libFuzzer targets (Fuzz/run builds them with -sanitize=fuzzer); built normally,
        // `edgevault-fuzz replay` runs the stored corpora and regressions.
        .executableTarget(
            name: "edgevault-fuzz",
            dependencies: ["EdgeVaultCore", "EdgeVaultStore", "EdgeVaultServer", "EdgeVaultClient", "EdgeVaultCompute", "EdgeVaultSandboxFrame", .product(name: "NIOCore", package: "swift-nio")],
            path: "Fuzz/Sources"
        ),
        .executableTarget(
            name: "BareHummingbird",
            dependencies: ["CSodium", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/BareHummingbird",
            // The baseline is linked exactly as vaultd is.
            linkerSettings: compactLinking
        ),
        .target(name: "CPseudoTerminal", path: "Tests/CPseudoTerminal"),
        .testTarget(
            name: "EdgeVaultTests",
            dependencies: ["EdgeVaultCore", "EdgeVaultStore", "EdgeVaultServer", "EdgeVaultClient", "EdgeVaultTerminal", "EdgeVaultCompute", "EdgeVaultFragments", "EdgeVaultRecovery", "CSodium", "CISAL", .product(name: "NIOCore", package: "swift-nio"), .product(name: "GRDB", package: "GRDB.swift"), .product(name: "WAT", package: "WasmKit")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["EdgeVaultCore", "EdgeVaultStore", "EdgeVaultServer", "EdgeVaultClient", "EdgeVaultCompute", "CPseudoTerminal", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
