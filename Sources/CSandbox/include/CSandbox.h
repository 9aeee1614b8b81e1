#ifndef EDGEVAULT_CSANDBOX_H
#define EDGEVAULT_CSANDBOX_H

/// The compute sandbox's own hardening (docs/SECURITY.md §"The compute sandbox"): prctl(2) is
/// variadic and a seccomp program is built from <linux/filter.h> macros, neither of which
/// Swift can use. Each returns 0, or -1 with errno set (-2: not supported on this system).

/// prctl(PR_SET_NO_NEW_PRIVS, 1): no exec can gain privileges; seccomp needs it.
int ev_sandbox_no_new_privs(void);

/// prctl(PR_SET_PDEATHSIG, SIGKILL): the sandbox dies with the thread that started it (a
/// vaultd that stops, or crashes, leaves no job running).
int ev_sandbox_die_with_parent(void);

/// prctl(PR_SET_DUMPABLE, 0): no core dump, no ptrace by same-user processes.
int ev_sandbox_not_dumpable(void);

/// Installs the allow-list (seccomp.c names each system call and why): anything else, any
/// other architecture or ABI, new executable memory, and signals to other processes end the
/// process at once (SECCOMP_RET_KILL_PROCESS, seen by the parent as SIGSYS).
int ev_sandbox_install_seccomp(void);

/// Whether the filter build knows this architecture (x86_64, aarch64).
int ev_sandbox_seccomp_supported(void);

#endif
