// libpq, loaded the first time the library calls it, never at load time.
//
// Why: every backend of a server that preloads pg_tls_audit inherits each
// library the postmaster has mapped, and each costs every connection page
// faults (its relocated data; ld.so's walk calling its finalizers at exit;
// doc/benchmarks.md). libpq is needed only by a few SQL functions (the
// outbound links, the poolers), the check of tls_audit.poolers and the
// pooler sample worker, never by the connection path; so the library does
// not link it (no DT_NEEDED, Makefile) and this file defines each libpq
// function the library calls, with libpq-fe.h's name and signature, HIDDEN:
// every call site binds to these at link time unchanged, no other module
// sees them (test/library_layout.sh checks that no PQ symbol is exported
// nor left undefined), and pg_tls_check, which links libpq, never has them.
//
// Each forwarder resolves its function once (dlsym) after one dlopen of
// the libpq of the server the library was built for: dlopen from this
// library searches its RUNPATH, the server's libdir (PGXS sets it), where
// the dynamic linker found libpq when the library linked it; a libpq that
// another module of the process already mapped (libpqwalreceiver in a
// walreceiver, postgres_fdw) is the same soname and is shared. RTLD_LOCAL keeps libpq's
// symbols out of the process's global scope, as they were out of it before.
//
// Failure is an error, never a crash: a function that makes something from
// nothing (PQconninfoParse, PQconndefaults, PQconnectStartParams,
// PQlibVersion) throws CoreError (58P01 or 42883, naming libpq, dlerror()'s
// words, a HINT) at the caller's entry point, where pg::guarded or the
// caller's catch turns it into its error; the functions given an object
// libpq made run only once libpq is loaded. The functions that free (called
// from destructors) never throw: freeing without libpq frees nothing (there
// is nothing libpq made). A failed load is not remembered (load_libpq()).
//
// State is plain pointers, no static object with a destructor: nothing is
// added to what every backend runs at exit.

// libpq-fe.h's own includes first, with their default visibility: only the
// libpq functions declared below must be hidden.
#include <stdio.h>
#include <postgres_ext.h>
#pragma GCC visibility push(hidden)
#include <libpq-fe.h>
#pragma GCC visibility pop

#include "libpq_on_demand.hpp"

#include <new>
#include <string>

#include "base/shared_library.hpp"

// libpq's soname as the build found it (Makefile); it has been libpq.so.5
// since PostgreSQL 8.3.
#ifndef TLS_AUDIT_LIBPQ_SONAME
#define TLS_AUDIT_LIBPQ_SONAME "libpq.so.5"
#endif

namespace tls_audit::pg {

namespace {

constexpr const char *kHint =
    "Install the libpq of this server's PostgreSQL (the libpq5 package on Debian and Ubuntu) where the server "
    "finds its libraries.";

SharedLibrary *loaded = nullptr;  // libpq, while it is loaded
unsigned generation = 0;           // counts loads: a slot of an earlier one is stale

// One resolved function, valid for the load it was resolved in.
struct Slot {
    void *address = nullptr;
    unsigned generation = 0;
};

Error with_context(Error e) {
    e.message = "libpq is needed here and could not be used: " + e.message;
    e.hint = kHint;
    return e;
}

// The function `name` of the loaded libpq, or the error (libpq loaded first).
Expected<void *> find(Slot &slot, const char *name) noexcept {
    try {
        if (loaded != nullptr && slot.address != nullptr && slot.generation == generation) return slot.address;
        if (auto failure = load_libpq()) return *failure;
        auto address = loaded->symbol(name);
        if (!address) return with_context(address.error());
        slot = Slot{address.value(), generation};
        return slot.address;
    } catch (...) {
        // Only the strings of an error can fail (no memory).
        return Error{sqlstate::kOutOfMemory, "out of memory", {}, {}};
    }
}

// For the functions whose failure is an exception at the caller's entry point.
template <class Function> Function *resolve(Slot &slot, const char *name) {
    auto address = find(slot, name);
    if (!address) throw CoreError(address.error());
    return reinterpret_cast<Function *>(address.value());
}

// For the functions that must not throw: null when libpq cannot be used.
template <class Function> Function *resolve_or_null(Slot &slot, const char *name) noexcept {
    try {
        auto address = find(slot, name);
        return address ? reinterpret_cast<Function *>(address.value()) : nullptr;
    } catch (...) {
        return nullptr;  // not reached: find() returns its errors
    }
}

}  // namespace

std::optional<Error> load_libpq() noexcept {
    if (loaded != nullptr) return std::nullopt;
    try {
        auto library = SharedLibrary::open(TLS_AUDIT_LIBPQ_SONAME);
        if (!library) return with_context(library.error());
        loaded = new SharedLibrary(std::move(library).value());
        ++generation;
        return std::nullopt;
    } catch (...) {
        return Error{sqlstate::kOutOfMemory, "out of memory", {}, {}};
    }
}

bool libpq_loaded() noexcept { return loaded != nullptr; }

LibpqScope::~LibpqScope() {
    if (was_loaded_ || loaded == nullptr) return;
    delete loaded;  // dlclose: unmapped unless another module holds libpq
    loaded = nullptr;
}

}  // namespace tls_audit::pg

using tls_audit::pg::resolve;
using tls_audit::pg::resolve_or_null;
using tls_audit::pg::Slot;

// One forwarder per libpq function the library calls; a function missing
// here is a link error of the library (test/library_layout.sh: no PQ symbol
// left undefined), never a silent load-time dependency.
// `params` and `args` are parenthesized lists and `Type` a parameter's type:
// none can take the extra parentheses the check asks for.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define TLS_AUDIT_FORWARD(Ret, name, params, args)                    \
    Ret name params {                                                 \
        static Slot slot;                                             \
        return resolve<decltype(name)>(slot, #name) args;             \
    }
// Frees what libpq made: with no object, or no libpq, there is nothing to free.
#define TLS_AUDIT_FORWARD_FREE(name, Type)                            \
    void name(Type object) {                                          \
        if (object == nullptr) return;                                \
        static Slot slot;                                             \
        if (auto f = resolve_or_null<decltype(name)>(slot, #name)) f(object); \
    }
// NOLINTEND(bugprone-macro-parentheses)

// Making something from nothing: the first call loads libpq.
TLS_AUDIT_FORWARD(PQconninfoOption *, PQconninfoParse, (const char *conninfo, char **errmsg), (conninfo, errmsg))
TLS_AUDIT_FORWARD(PQconninfoOption *, PQconndefaults, (void), ())
TLS_AUDIT_FORWARD(PGconn *, PQconnectStartParams,
                  (const char *const *keywords, const char *const *values, int expand_dbname),
                  (keywords, values, expand_dbname))
TLS_AUDIT_FORWARD(int, PQlibVersion, (void), ())

// Given a connection or a result libpq made.
TLS_AUDIT_FORWARD(ConnStatusType, PQstatus, (const PGconn *conn), (conn))
TLS_AUDIT_FORWARD(PostgresPollingStatusType, PQconnectPoll, (PGconn *conn), (conn))
TLS_AUDIT_FORWARD(int, PQsocket, (const PGconn *conn), (conn))
TLS_AUDIT_FORWARD(char *, PQhost, (const PGconn *conn), (conn))
TLS_AUDIT_FORWARD(char *, PQport, (const PGconn *conn), (conn))
TLS_AUDIT_FORWARD(int, PQsetnonblocking, (PGconn *conn, int arg), (conn, arg))
TLS_AUDIT_FORWARD(int, PQsendQuery, (PGconn *conn, const char *query), (conn, query))
TLS_AUDIT_FORWARD(int, PQflush, (PGconn *conn), (conn))
TLS_AUDIT_FORWARD(int, PQisBusy, (PGconn *conn), (conn))
TLS_AUDIT_FORWARD(int, PQconsumeInput, (PGconn *conn), (conn))
TLS_AUDIT_FORWARD(PGresult *, PQgetResult, (PGconn *conn), (conn))
TLS_AUDIT_FORWARD(char *, PQerrorMessage, (const PGconn *conn), (conn))
TLS_AUDIT_FORWARD(ExecStatusType, PQresultStatus, (const PGresult *res), (res))
TLS_AUDIT_FORWARD(char *, PQresultErrorMessage, (const PGresult *res), (res))
TLS_AUDIT_FORWARD(int, PQnfields, (const PGresult *res), (res))
TLS_AUDIT_FORWARD(int, PQntuples, (const PGresult *res), (res))
TLS_AUDIT_FORWARD(char *, PQfname, (const PGresult *res, int field_num), (res, field_num))
TLS_AUDIT_FORWARD(int, PQgetisnull, (const PGresult *res, int tup_num, int field_num), (res, tup_num, field_num))
TLS_AUDIT_FORWARD(char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num), (res, tup_num, field_num))

// Freeing, from destructors: never throws.
TLS_AUDIT_FORWARD_FREE(PQfinish, PGconn *)
TLS_AUDIT_FORWARD_FREE(PQclear, PGresult *)
TLS_AUDIT_FORWARD_FREE(PQconninfoFree, PQconninfoOption *)
TLS_AUDIT_FORWARD_FREE(PQfreemem, void *)
