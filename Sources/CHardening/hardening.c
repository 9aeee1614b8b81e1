#define _GNU_SOURCE
#include "CHardening.h"
#if defined(__linux__)
#include <sys/prctl.h>

int ev_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
int ev_get_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }
int ev_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
#else
int ev_set_not_dumpable(void) { return 0; }
int ev_get_dumpable(void) { return -1; }
int ev_spawn_close_from(posix_spawn_file_actions_t *actions, int from) { (void)actions; (void)from; return 0; }
#endif
