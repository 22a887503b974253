#ifndef VITRINA_CARGON2_SHIM_H
#define VITRINA_CARGON2_SHIM_H
#include <argon2.h>
#endif
