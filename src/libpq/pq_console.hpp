// What both readers of pgbouncer's admin console do alike with libpq: the
// CLI's (src/cli/pooler_console.cpp, waiting with poll()) and the extension's
// (src/pg/pooler_console.cpp, waiting on the backend's latch). They differ
// in how they wait for the socket and in the words of their errors; the
// connect, send and receive loop, owning libpq's objects, its message and
// what a SHOW command's result says are the same, so they are here once.
// Only libpq and the core: no PostgreSQL server header (the build compiles
// this folder as it compiles the CLI), so both can use it. In the extension
// the PQ calls bind to its hidden forwarders (src/pg/libpq_on_demand.cpp),
// as the extension links this folder's objects with them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "access/outbound.hpp"
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

using Clock = std::chrono::steady_clock;

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

// How a reader waits for libpq's socket: true once `fd` is readable (or
// writable, when `for_write`) or in error (libpq then reports it), false
// when `deadline` passes first. It may throw a C++ exception (a cancel of
// the backend) but must never longjmp: the connection is owned by
// read_console()'s frame and is closed as the exception leaves it.
using SocketWait = std::function<bool(int fd, bool for_write, Clock::time_point deadline)>;

// The caller's words in what read_console() says and sends.
struct ConsoleWords {
    const char *fallback_application_name;  // shown by the pooler's SHOW CLIENTS
    const char *timeout_setting;            // names the bound in timeout errors: "--timeout"
    const char *unreachable_sqlstate;       // of every error but a refused SHOW's
    const char *unreachable_hint;           // of those errors; empty for none
    const char *not_admin_hint;             // of a refused SHOW (take_show_result)
};

struct ConsoleRead {
    std::vector<ConsoleAnswer> answers;  // one per command, in order
    ConnOptions reached;                 // host and port as libpq reached them (PQhost, PQport)
};

// Connects to `conninfo` (non-blocking: PQconnectStartParams, PQconnectPoll)
// and runs each of `commands` (simple-query SHOWs) on that one connection,
// answers in order. Every wait is `wait` with a deadline `timeout` from the
// start of the connection (TLS included) and again from the sending of each
// command, so a pooler that never answers cannot hold the caller longer.
// An Error says why the pooler could not be read, in libpq's words without
// the connection string. (libpq resolves a host name before the first wait:
// a slow DNS server can take longer.)
Expected<ConsoleRead> read_console(const std::string &conninfo, const std::vector<const char *> &commands,
                                   std::chrono::milliseconds timeout, const ConsoleWords &words,
                                   const SocketWait &wait);

}  // namespace tls_audit::libpq
