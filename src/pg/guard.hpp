// The C++/PostgreSQL boundary.
//
// PostgreSQL reports errors with longjmp, which skips C++ destructors; C++
// reports them with exceptions, which PostgreSQL cannot catch. Two helpers
// keep each mechanism on its own side:
//
//  * guarded(body): wraps every SQL-callable entry point. The body runs C++
//    freely; any exception is turned into ereport(ERROR) with its SQLSTATE
//    only after every C++ frame of the body is gone.
//  * call(fn): runs a PostgreSQL function from C++ code. An ereport inside it
//    longjmps only as far as call()'s own PG_TRY, is copied, and continues as a
//    PgError exception, so the C++ frames above unwind normally. `fn` itself
//    must hold only plain data (it is skipped by the longjmp).
//
// The connection hooks are fail-open and use neither: they hold only plain
// data, run PostgreSQL calls in their own PG_TRY, and in PG_CATCH call
// log_caught_error(), so the connection goes on as if we were not there.
#pragma once

#include <exception>
#include <type_traits>

#include "base/error.hpp"
#include "postgres.hpp"

namespace tls_audit::pg {

// A PostgreSQL error raised inside call(), carried through C++ frames.
class PgError : public std::exception {
  public:
    explicit PgError(ErrorData *edata) : edata_(edata) {}
    ErrorData *edata() const noexcept { return edata_; }
    const char *what() const noexcept override;

  private:
    ErrorData *edata_;  // palloc'd in the memory context current at the call
};

[[noreturn]] void throw_pg_error(MemoryContext context);

// In a PG_CATCH block: log the caught error at LOG as "pg_tls_audit: <what>:
// <message>" and leave error state. `context` is the memory context that was
// current at PG_TRY.
void log_caught_error(MemoryContext context, const char *what);

template <class Fn> auto call(Fn &&fn) -> decltype(fn()) {
    using Result = decltype(fn());
    MemoryContext context = CurrentMemoryContext;
    volatile bool failed = false;
    if constexpr (std::is_void_v<Result>) {
        PG_TRY();
        { fn(); }
        PG_CATCH();
        { failed = true; }
        PG_END_TRY();
        if (failed) throw_pg_error(context);
    } else {
        static_assert(std::is_trivially_copyable_v<Result>, "call() returns plain data only");
        Result result{};
        Result *volatile out = &result;  // keeps `result` in memory across the longjmp
        PG_TRY();
        { *out = fn(); }
        PG_CATCH();
        { failed = true; }
        PG_END_TRY();
        if (failed) throw_pg_error(context);
        return result;
    }
}

// For a background worker, which has no transaction of its own: runs body
// inside a new transaction with a snapshot (catalog reads, SPI), commits it,
// and returns what body returned. When body throws (a PgError from call(), or
// any C++ exception) the transaction is aborted and the exception goes on, so
// the worker's main loop decides what a failure means.
template <class Body> auto in_own_transaction(Body &&body) -> decltype(body()) {
    call([] {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
    });
    try {
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            call([] {
                PopActiveSnapshot();
                CommitTransactionCommand();
            });
        } else {
            auto result = body();
            call([] {
                PopActiveSnapshot();
                CommitTransactionCommand();
            });
            return result;
        }
    } catch (...) {
        call([] { AbortCurrentTransaction(); });
        throw;
    }
}

// Inside a transaction: runs body in an internal subtransaction, in the
// memory context and resource owner of the caller (so what body returns, and
// the error data of a PgError it throws, outlive the subtransaction).
// Released when body returns; rolled back when it throws, and the exception
// goes on, so the caller decides what a failure means.
template <class Body> auto in_subtransaction(Body &&body) -> decltype(body()) {
    MemoryContext outer_context = CurrentMemoryContext;
    ResourceOwner outer_owner = CurrentResourceOwner;
    call([&] {
        BeginInternalSubTransaction(nullptr);
        MemoryContextSwitchTo(outer_context);
    });
    auto leave = [&](bool commit) {
        call([&] {
            if (commit)
                ReleaseCurrentSubTransaction();
            else
                RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(outer_context);
            CurrentResourceOwner = outer_owner;
        });
    };
    try {
        if constexpr (std::is_void_v<decltype(body())>) {
            body();
            leave(true);
        } else {
            auto result = body();
            leave(true);
            return result;
        }
    } catch (...) {
        leave(false);
        throw;
    }
}

// Report `error` as ereport(ERROR). Takes plain data only.
[[noreturn]] void report_error(const char *sqlstate, const char *message, const char *detail,
                               const char *hint);

template <class Body> Datum guarded(Body &&body) {
    // Only plain data lives in this frame across the ereport below.
    ErrorData *pg_error = nullptr;
    char sqlstate[6] = "XX000";
    char message[1024] = "internal error";
    char detail[512] = "";
    char hint[512] = "";
    try {
        return body();
    } catch (const PgError &e) {
        pg_error = e.edata();
    } catch (...) {
        const Error error = describe_current_exception();
        strlcpy(sqlstate, error.sqlstate.c_str(), sizeof sqlstate);
        strlcpy(message, error.message.c_str(), sizeof message);
        strlcpy(detail, error.detail.c_str(), sizeof detail);
        strlcpy(hint, error.hint.c_str(), sizeof hint);
    }
    if (pg_error != nullptr) ReThrowError(pg_error);
    report_error(sqlstate, message, detail, hint);
}

}  // namespace tls_audit::pg
