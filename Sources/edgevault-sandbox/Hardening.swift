#if canImport(Glibc)
import Glibc
#endif
import CSandbox

/// What the sandbox does to itself after reading its request and before parsing one byte of
/// the module (docs/SECURITY.md §"The compute sandbox", layers 4 to 7). Every step must
/// succeed: a sandbox that cannot harden itself runs nothing.
enum Hardening {
    struct Failed: Error { let step: String }

    /// - Parameter cpuSeconds: RLIMIT_CPU (soft; the hard limit is one second more):
    ///   ceil(wallMs / 1000) + 1, a backstop behind the runner's wall-clock kill.
    static func apply(cpuSeconds: Int, parent: pid_t) throws(Failed) {
        guard ev_sandbox_seccomp_supported() == 1 else { throw Failed(step: "seccomp (unsupported architecture)") }
        // Killed with the runner's thread; a runner already gone (the signal was set too late
        // to fire) means nobody waits for this run.
        guard ev_sandbox_die_with_parent() == 0 else { throw Failed(step: "prctl(PR_SET_PDEATHSIG)") }
        guard getppid() == parent else { throw Failed(step: "the runner is gone") }
        guard ev_sandbox_no_new_privs() == 0 else { throw Failed(step: "prctl(PR_SET_NO_NEW_PRIVS)") }
        guard ev_sandbox_not_dumpable() == 0 else { throw Failed(step: "prctl(PR_SET_DUMPABLE, 0)") }
        let cpu = rlim_t(cpuSeconds)
        try limit(RLIMIT_CORE, 0, 0, "RLIMIT_CORE")
        try limit(RLIMIT_CPU, cpu, cpu + 1, "RLIMIT_CPU")
        try limit(RLIMIT_FSIZE, 0, 0, "RLIMIT_FSIZE")
        // fds 0, 1 and 2 exist; no new one may (the filter allows no call that makes one anyway).
        try limit(RLIMIT_NOFILE, 0, 0, "RLIMIT_NOFILE")
        guard ev_sandbox_install_seccomp() == 0 else { throw Failed(step: "seccomp filter") }
    }

    private static func limit(_ resource: __rlimit_resource, _ soft: rlim_t, _ hard: rlim_t, _ name: String) throws(Failed) {
        var value = rlimit(rlim_cur: soft, rlim_max: hard)
        guard setrlimit(__rlimit_resource_t(resource.rawValue), &value) == 0 else { throw Failed(step: "setrlimit(\(name))") }
    }
}
