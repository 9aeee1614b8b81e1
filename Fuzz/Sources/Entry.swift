import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation

// Two builds of one target:
// - fuzzing (`Fuzz/run`, compiled with -sanitize=fuzzer -D FUZZING): libFuzzer drives
//   `LLVMFuzzerTestOneInput` with the target named by EDGEVAULT_FUZZ_TARGET;
// - the normal build (`swift build`): `edgevault-fuzz replay DIR…` runs every stored input
//   (seed corpora and regressions) through its target — the regression test CI runs — and
//   `edgevault-fuzz seeds DIR` writes the seeds made by the vault's own code.

#if FUZZING
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["EDGEVAULT_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("EDGEVAULT_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))\n".utf8))
        exit(64)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point as `<module>_main`; here it hands over to
/// libFuzzer's driver (the same one libFuzzer's own `main` runs).
@_cdecl("edgevault_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var vector = argv
    return runFuzzerDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
#else
@main
struct FuzzCLI {
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("edgevault-fuzz: \(message)\n".utf8))
        exit(1)
    }

    static func main() {
        let usage = """
            usage: edgevault-fuzz replay DIR...   run every file in DIR/<target>/ through <target>
                   edgevault-fuzz seeds DIR       write generated seed inputs to DIR/<target>/
                   edgevault-fuzz list            the targets
            """
        let args = CommandLine.arguments.dropFirst()
        switch args.first {
        case "list":
            print(FuzzTarget.allCases.map(\.rawValue).joined(separator: "\n"))
        case "replay":
            guard args.count > 1 else { fail(usage) }
            var total = 0
            for root in args.dropFirst() {
                var isDirectory: ObjCBool = false
                let subdirs = ((try? FileManager.default.contentsOfDirectory(atPath: root).sorted()) ?? []).filter {
                    FileManager.default.fileExists(atPath: root + "/" + $0, isDirectory: &isDirectory) && isDirectory.boolValue
                }
                guard FileManager.default.fileExists(atPath: root) else { fail("no folder \(root)") }
                for name in subdirs {
                    guard let target = FuzzTarget(rawValue: name) else { fail("\(root)/\(name) names no target (edgevault-fuzz list)") }
                    let dir = root + "/" + name
                    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir).sorted()) ?? []
                    for file in files where !file.hasPrefix(".") {
                        let path = dir + "/" + file
                        // Named before it runs: a trap ends the process, and the last line says which input.
                        FileHandle.standardOutput.write(Data("running \(name) \(path)\n".utf8))
                        guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
                        target.run(Array(data))
                    }
                    total += files.count
                }
            }
            print("replayed \(total) inputs, no crash")
        case "seeds":
            guard args.count == 2, let dir = args.last else { fail(usage) }
            do {
                for (target, seeds) in Seeds.all() {
                    let folder = dir + "/" + target.rawValue
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    for (i, seed) in seeds.enumerated() {
                        try Data(seed).write(to: URL(fileURLWithPath: folder + "/gen-\(i)"))
                    }
                }
            } catch {
                fail("cannot write seeds: \(error)")
            }
        default:
            fail(usage)
        }
    }
}
#endif
