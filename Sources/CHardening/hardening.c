#include "CHardening.h"
#if defined(__linux__)
#include <sys/prctl.h>

int ev_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
int ev_get_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }
#else
int ev_set_not_dumpable(void) { return 0; }
int ev_get_dumpable(void) { return -1; }
#endif
