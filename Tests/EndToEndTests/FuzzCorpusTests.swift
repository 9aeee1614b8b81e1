import Foundation
import Testing

/// The fuzzers' stored inputs — seed corpora and every input that once crashed a parser
/// (Fuzz/regressions) — run through the same targets in the normal build: no crash, no broken
/// invariant. `Fuzz/run` does the fuzzing itself.
@Suite("Fuzz corpora and regressions replay")
struct FuzzCorpusTests {
    @Test("Every seed and regression input runs through its target without a crash or a broken invariant")
    func replay() async throws {
        let roots = ["Fuzz/corpus", "Fuzz/regressions"].map { repositoryRoot.appendingPathComponent($0).path }
            .filter { FileManager.default.fileExists(atPath: $0) }
        let targets = try await run(try Binaries.path("edgevault-fuzz"), ["list"]).stdout.split(separator: "\n").map(String.init)
        let corpora = try FileManager.default.contentsOfDirectory(atPath: roots[0])
        #expect(Set(corpora) == Set(targets), "every target has a seed corpus")
        let r = try await run(try Binaries.path("edgevault-fuzz"), ["replay"] + roots)
        #expect(r.status == 0, "last input run: \(r.stdout.split(separator: "\n").last ?? "") \(r.stderr)")
        #expect(r.stdout.contains("no crash"))
    }
}
