#ifndef EDGEVAULT_CISAL_SHIM_H
#define EDGEVAULT_CISAL_SHIM_H
// Intel ISA-L's Reed–Solomon erasure code (Debian libisal-dev): docs/PROTOCOL.md §"Fragments".
#include <isa-l/erasure_code.h>
#endif
