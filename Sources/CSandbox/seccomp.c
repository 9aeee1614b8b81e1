#include "CSandbox.h"

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#include <errno.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define EV_AUDIT_ARCH AUDIT_ARCH_X86_64
#else
#define EV_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define EV_LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define EV_RET(action) BPF_STMT(BPF_RET | BPF_K, (action))
#define EV_ALLOW(name) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_##name, 0, 1), EV_RET(SECCOMP_RET_ALLOW)

int ev_sandbox_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int ev_sandbox_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
int ev_sandbox_die_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }
int ev_sandbox_seccomp_supported(void) { return 1; }

int ev_sandbox_install_seccomp(void) {
    // The low 32 bits of the first argument (both architectures are little-endian).
    const unsigned self = (unsigned)getpid();
    struct sock_filter filter[] = {
        // Another architecture's numbers mean other calls: refuse them all.
        EV_LOAD(arch),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, EV_AUDIT_ARCH, 1, 0),
        EV_RET(SECCOMP_RET_KILL_PROCESS),
        EV_LOAD(nr),
#if defined(__x86_64__)
        // The x32 ABI reaches the same kernel entry points with bit 30 set.
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
        EV_RET(SECCOMP_RET_KILL_PROCESS),
#endif
        // mmap and mprotect, but never executable memory: the interpreter needs no new code.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 4),
        EV_LOAD(args[2]),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
        EV_RET(SECCOMP_RET_KILL_PROCESS),
        EV_RET(SECCOMP_RET_ALLOW),
        // Signals to itself only (abort(), and WasmKit re-raising a fault it does not own), so
        // a crash is reported as the signal it was.
        EV_LOAD(nr),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kill, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_tgkill, 0, 4),
        EV_LOAD(args[0]),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, 1, 0),
        EV_RET(SECCOMP_RET_KILL_PROCESS),
        EV_RET(SECCOMP_RET_ALLOW),
        EV_LOAD(nr),
        // The outcome frame on fd 1 (a socket the parent holds); the runtime's last words on
        // fd 2 (/dev/null).
        EV_ALLOW(write),
        // Memory: the allocator (brk; mmap above and munmap for large blocks) and WasmKit's
        // linear memory (reserved PROT_NONE, committed with mprotect above).
        EV_ALLOW(brk),
        EV_ALLOW(munmap),
        // Locks of the Swift runtime and libc (uncontended: one thread).
        EV_ALLOW(futex),
        // WasmKit's memory guard: its SIGSEGV handler is installed on the first call into the
        // guest; sigsetjmp and siglongjmp save and restore the signal mask.
        EV_ALLOW(rt_sigaction),
        EV_ALLOW(rt_sigprocmask),
        // A runtime crash asks who it is before it signals itself (kill/tgkill above).
        EV_ALLOW(getpid),
        EV_ALLOW(gettid),
        EV_ALLOW(exit_group),
        EV_RET(SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog program = {
        .len = (unsigned short)(sizeof(filter) / sizeof(filter[0])),
        .filter = filter,
    };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0);
}

#else
#include <errno.h>
int ev_sandbox_no_new_privs(void) { return -2; }
int ev_sandbox_not_dumpable(void) { return -2; }
int ev_sandbox_install_seccomp(void) { return -2; }
int ev_sandbox_seccomp_supported(void) { return 0; }
#endif
