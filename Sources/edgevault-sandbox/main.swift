// edgevault-sandbox: runs one organization's WebAssembly module over one job's stdin
// (docs/SECURITY.md §"The compute sandbox"). The request frame arrives on fd 0, the outcome
// frame leaves on fd 1; fd 2 is for the Swift runtime's own last words. Exit status 0 after
// a run (whatever its outcome), 2 when the request is refused, 3 when hardening failed:
// in both of those an outcome frame with failure `trap` says why.
#if canImport(Glibc)
import Glibc
#endif
import CSodium
import EdgeVaultSandboxFrame

func refuse(_ detail: String, status: Int32) -> Never {
    FrameIO.write(SandboxOutcomeFrame(failure: .trap, exit: nil, fuelUsed: 0, stdout: [], stderr: [], detail: detail).encoded(), to: 1)
    exit(status)
}

// The runner that started this process (checked again once the death signal is set).
let parent = getppid()

// 1. The whole request, before anything else: every length bounded by its header.
let request: SandboxRequest
do {
    request = try FrameIO.readRequest(from: 0)
} catch {
    refuse("sandbox request refused: \(error.description)", status: 2)
}

// 2. Harden, before one byte of the module is parsed: libsodium picks its implementations
//    first (it may read the CPU's features; the filter would not let it open anything).
guard sodium_init() >= 0 else { refuse("sandbox could not start libsodium", status: 3) }
do {
    try Hardening.apply(cpuSeconds: (request.wallMs + 999) / 1000 + 1, parent: parent)
} catch {
    refuse("sandbox could not harden itself: \(error.step)", status: 3)
}

// 3. Run, and say how it went.
let outcome = GuestRun.run(request)
FrameIO.write(outcome.encoded(), to: 1)
exit(0)
