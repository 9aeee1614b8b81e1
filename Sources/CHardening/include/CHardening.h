#ifndef EDGEVAULT_CHARDENING_H
#define EDGEVAULT_CHARDENING_H

/// prctl(2) is variadic, which Swift cannot call: these wrap the two uses EdgeVault has.

/// prctl(PR_SET_DUMPABLE, 0): no core dump, no ptrace attach by same-user processes,
/// /proc/PID files owned by root. Returns 0 or -1 (errno set).
int ev_set_not_dumpable(void);

/// prctl(PR_GET_DUMPABLE): 0 when not dumpable, 1 or 2 when dumpable, -1 on error.
int ev_get_dumpable(void);

#endif
