#ifndef EDGEVAULT_CHARDENING_H
#define EDGEVAULT_CHARDENING_H

/// prctl(2) is variadic, which Swift cannot call: these wrap the two uses EdgeVault has,
/// and one spawn action the Swift Glibc module does not show.

/// prctl(PR_SET_DUMPABLE, 0): no core dump, no ptrace attach by same-user processes,
/// /proc/PID files owned by root. Returns 0 or -1 (errno set).
int ev_set_not_dumpable(void);

/// prctl(PR_GET_DUMPABLE): 0 when not dumpable, 1 or 2 when dumpable, -1 on error.
int ev_get_dumpable(void);

#include <spawn.h>

/// posix_spawn_file_actions_addclosefrom_np(actions, from) (glibc 2.34+; a GNU extension the
/// Swift Glibc module does not show): the child starts with no descriptor >= from, so none of
/// the daemon's files and sockets reach a compute sandbox. Returns 0 or an error number.
int ev_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

#endif
