// See pooler_console.hpp. libpq runs non-blocking (PQconnectStartParams,
// PQconnectPoll, PQsendQuery, PQconsumeInput): every wait is the backend's
// own WaitLatchOrSocket, so a cancel, statement_timeout or termination is
// seen at once and the connection is closed by its owner (RAII) before the
// error is raised, as no longjmp crosses this file's C++ frames.
#include "pooler_console.hpp"

#include <chrono>
#include <memory>

#include "guard.hpp"
#include "guc_pooler.hpp"
#include "libpq_on_demand.hpp"
#include "pq_console.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

using libpq::Conn;
using libpq::Result;

using Clock = std::chrono::steady_clock;

constexpr const char *kNotAdminHint =
    "The user of tls_audit.poolers must be in pgbouncer's admin_users or stats_users, and dbname must be "
    "pgbouncer.";

[[noreturn]] void throw_cancel() {
    throw CoreError(make_error(sqlstate::kQueryCanceled, "canceling the read of a pooler"));
}

// Wait until `fd` is readable (or writable) or the deadline passes: false on
// timeout. A pending cancel or termination throws.
bool wait_socket(int fd, bool for_write, Clock::time_point deadline) {
    for (;;) {
        if (QueryCancelPending || ProcDiePending) throw_cancel();
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        const int events = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH |
                           (for_write ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE);
        const int rc = call([&] {
            const int r = WaitLatchOrSocket(MyLatch, events, fd, static_cast<long>(left), compat::pooler_wait_event());
            if ((r & WL_LATCH_SET) != 0) ResetLatch(MyLatch);
            return r;
        });
        if ((rc & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE)) != 0) return true;
    }
}

Error unreachable(const std::string &why) { return make_error(sqlstate::kCannotConnect, why); }

}  // namespace


Expected<std::vector<ConsoleAnswer>> read_console(const std::string &conninfo,
                                                  const std::vector<const char *> &commands) {
    // libpq cannot be loaded: the caller's error value (the sample worker
    // logs it and keeps running), not an exception from the first libpq call.
    if (auto failure = load_libpq()) return *failure;
    const auto timeout = std::chrono::milliseconds(pooler_timeout_ms());
    auto deadline = Clock::now() + timeout;
    const char *keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char *values[] = {conninfo.c_str(), "pg_tls_audit", nullptr};
    Conn conn(PQconnectStartParams(keywords, values, 1));
    if (!conn) return unreachable("out of memory");
    if (PQstatus(conn.get()) == CONNECTION_BAD) return unreachable(libpq::message(conn.get()));
    for (PostgresPollingStatusType st = PGRES_POLLING_WRITING;;) {
        if (st == PGRES_POLLING_OK) break;
        if (st == PGRES_POLLING_FAILED) return unreachable(libpq::message(conn.get()));
        const int fd = PQsocket(conn.get());
        if (fd < 0) return unreachable(libpq::message(conn.get()));
        if (!wait_socket(fd, st == PGRES_POLLING_WRITING, deadline))
            return unreachable("timeout after " + std::to_string(timeout.count()) +
                               " ms connecting (tls_audit.pooler_timeout)");
        st = PQconnectPoll(conn.get());
    }
    if (PQsetnonblocking(conn.get(), 1) != 0) return unreachable(libpq::message(conn.get()));
    std::vector<ConsoleAnswer> answers;
    for (const char *command : commands) {
        deadline = Clock::now() + timeout;
        if (PQsendQuery(conn.get(), command) == 0) return unreachable(libpq::message(conn.get()));
        for (;;) {
            const int flushed = PQflush(conn.get());
            if (flushed < 0) return unreachable(libpq::message(conn.get()));
            if (flushed == 0) break;
            if (!wait_socket(PQsocket(conn.get()), true, deadline))
                return unreachable(std::string("timeout sending ") + command);
        }
        std::optional<ConsoleAnswer> answer;
        for (;;) {
            while (PQisBusy(conn.get())) {
                if (!wait_socket(PQsocket(conn.get()), false, deadline))
                    return unreachable(std::string("timeout waiting for the answer to ") + command +
                                       " (tls_audit.pooler_timeout)");
                if (PQconsumeInput(conn.get()) == 0) return unreachable(libpq::message(conn.get()));
            }
            Result res(PQgetResult(conn.get()));
            if (!res) break;
            if (auto failed = libpq::take_show_result(res.get(), command, kNotAdminHint, answer)) return *failed;
        }
        if (!answer) return unreachable(std::string(command) + " returned nothing");
        answers.push_back(std::move(*answer));
    }
    return answers;
}

}  // namespace tls_audit::pg
