// TLS_AUDIT_HOT marks the functions that run for every connection (the
// ClientAuthentication_hook path). GCC and clang place them in .text.hot,
// which the linker lays out together: a new backend then faults in one small
// range of this library's code instead of a page in each object file.
#pragma once

#include "base/pure_cpp.hpp"

TLS_AUDIT_AREA(base);

#if defined(__GNUC__)
#define TLS_AUDIT_HOT __attribute__((hot))
#else
#define TLS_AUDIT_HOT
#endif
