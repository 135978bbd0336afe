// What both readers of pgbouncer's admin console do alike with libpq: the
// CLI's (src/cli/pooler_console.cpp, waiting with poll()) and the extension's
// (src/pg/pooler_console.cpp, waiting on the backend's latch). They differ
// in how they wait and in the words of their errors; owning libpq's objects,
// its message and what a SHOW command's result says are the same, so they
// are here once. Only libpq and the core: no PostgreSQL server header (the
// build compiles this folder as it compiles the CLI), so both can use it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "base/error.hpp"
#include "pooler/pooler_connections.hpp"

namespace tls_audit::libpq {

struct Finish {
    void operator()(PGconn *c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, Finish>;
struct Clear {
    void operator()(PGresult *r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, Clear>;

// libpq's message, first line only, without trailing blanks.
std::string message(const PGconn *conn);

// Takes one result of `command` (PQgetResult, called until it returns null):
// the first fills `answer`, a later one is ignored (pgbouncer sends one per
// SHOW). The error: a result that is not rows, which for a SHOW means the
// user is not in admin_users or stats_users or dbname is not pgbouncer
// (SQLSTATE connection_failure; `hint` says so in the caller's words), or
// more rows than kMaxPoolerRows (program_limit_exceeded), before any is read.
std::optional<Error> take_show_result(const PGresult *res, const char *command, const char *hint,
                                      std::optional<ConsoleAnswer> &answer);

}  // namespace tls_audit::libpq
