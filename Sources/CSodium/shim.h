#ifndef EDGEVAULT_CSODIUM_SHIM_H
#define EDGEVAULT_CSODIUM_SHIM_H
#include <sodium.h>
#endif
