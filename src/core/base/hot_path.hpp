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

// TLS_AUDIT_HOT_DATA marks the one object of this library's data that every
// connection writes. It goes to .bss.hot, which src/pg/hot_layout.ld places
// at the start of a page shared with the C runtime's flag written at exit,
// so that both writes cost a backend one page fault, not two. For a
// zero-initialized object only (a .bss section holds no data).
#if defined(__GNUC__)
#define TLS_AUDIT_HOT_DATA __attribute__((section(".bss.hot")))
#else
#define TLS_AUDIT_HOT_DATA
#endif

// TLS_AUDIT_HOT_RODATA marks the few constants every connection reads: they
// go to .rodata.hot, which src/pg/hot_layout.ld places with the hot code
// (read-only either way), so they cost no page of their own.
#if defined(__GNUC__)
#define TLS_AUDIT_HOT_RODATA __attribute__((section(".rodata.hot")))
#else
#define TLS_AUDIT_HOT_RODATA
#endif
