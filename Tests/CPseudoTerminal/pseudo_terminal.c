#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pseudo_terminal.h"

int ev_open_pseudo_terminal(char *name, size_t name_length) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0) return -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, name_length) != 0) {
        close(master);
        return -1;
    }
    return master;
}
