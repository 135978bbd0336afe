// The core is pure C++ and OpenSSL: no PostgreSQL header may reach it.
// Every core header includes this file (deliberately without an include
// guard, so the test runs at every inclusion). Three fences keep the layers
// apart, and test/layering.sh proves each by compiling a bad file:
//  * the core and the CLI are compiled without the glue's directory and the
//    server's include directories (Makefile, CMakeLists.txt), so
//    #include "postgres.h" or "postgres.hpp" is not found;
//  * they are compiled with TLS_AUDIT_PURE_CPP, and src/pg/postgres.hpp
//    refuses to compile then;
//  * below: a core header included after postgres.h came in by another path
//    (outside the glue, which defines TLS_AUDIT_GLUE) is an error.
#if defined(POSTGRES_H) && !defined(TLS_AUDIT_GLUE)
#error "src/core must not see PostgreSQL headers: move the code that needs them to src/pg"
#endif

// Areas of the core, in the one direction their includes may go: a header may
// include headers of its own area and of the areas listed before it, never one
// listed after it (doc/layout.md says why the order is this one). Each core
// header names its area with TLS_AUDIT_AREA(name); the build compiles each
// core source with TLS_AUDIT_AREA_LEVEL set to its own folder's level
// (Makefile, CMakeLists.txt), so a backwards include, direct or through
// another header, fails to compile. Glue, CLI and tests sit above every area.
#define TLS_AUDIT_AREA_base 1
#define TLS_AUDIT_AREA_certs 2
#define TLS_AUDIT_AREA_access 3
#define TLS_AUDIT_AREA_sessions 4
#define TLS_AUDIT_AREA_pooler 5
#define TLS_AUDIT_AREA_census 6
#define TLS_AUDIT_AREA_checks 7
#define TLS_AUDIT_AREA_probe 8
#define TLS_AUDIT_AREA_report 9
#ifndef TLS_AUDIT_AREA_LEVEL
#define TLS_AUDIT_AREA_LEVEL 100
#endif
#ifndef TLS_AUDIT_AREA
#define TLS_AUDIT_AREA(name)                                                                       \
    static_assert(TLS_AUDIT_AREA_LEVEL >= TLS_AUDIT_AREA_##name,                                  \
                  "src/core/" #name " is a later area than the file being compiled: areas "      \
                  "depend one way (doc/layout.md)")
#endif
