#ifndef EDGEVAULT_PSEUDO_TERMINAL_H
#define EDGEVAULT_PSEUDO_TERMINAL_H
#include <stddef.h>

/// Opens a pseudo-terminal pair for the end-to-end tests. Returns the master fd (or -1) and
/// writes the slave's path into `name`.
int ev_open_pseudo_terminal(char *name, size_t name_length);

#endif
