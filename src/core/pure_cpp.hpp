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
