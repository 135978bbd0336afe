// See pooler_console.hpp. The connect, send and receive loop is the one both
// readers share (libpq::read_console, src/libpq/pq_console.hpp); this reader
// gives it the backend's own WaitLatchOrSocket as its wait, so a cancel,
// statement_timeout or termination is seen at once. The wait never lets a
// longjmp out: PostgreSQL's calls run inside call(), and a pending cancel is
// a C++ exception, so the shared loop's connection is closed by its owner
// (RAII) as the exception leaves, and guarded() raises the error only after
// every C++ frame is gone.
#include "pooler_console.hpp"

#include <chrono>

#include "guard.hpp"
#include "guc_pooler.hpp"
#include "libpq_on_demand.hpp"
#include "pq_console.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

using libpq::Clock;

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

}  // namespace

Expected<std::vector<ConsoleAnswer>> read_console(const std::string &conninfo,
                                                  const std::vector<const char *> &commands) {
    // libpq cannot be loaded: the caller's error value (the sample worker
    // logs it and keeps running), not an exception from the first libpq call.
    if (auto failure = load_libpq()) return *failure;
    const libpq::ConsoleWords words{"pg_tls_audit", "tls_audit.pooler_timeout", sqlstate::kCannotConnect, "",
                                    kNotAdminHint};
    auto read =
        libpq::read_console(conninfo, commands, std::chrono::milliseconds(pooler_timeout_ms()), words, wait_socket);
    if (!read) return read.error();
    return std::move(read.value().answers);
}

}  // namespace tls_audit::pg
