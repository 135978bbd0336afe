// See pooler_console.hpp. libpq runs non-blocking (PQconnectStartParams,
// PQconnectPoll, PQsendQuery, PQconsumeInput) and every wait is a poll() with
// the time left, so --timeout bounds each step however the pooler behaves.
// (The extension's own reader, src/pg/pooler_console.cpp, waits on the
// backend's latch instead; what the answers mean is the core's in both.)
#include "pooler_console.hpp"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include <libpq-fe.h>

#include "pooler/pooler_conninfo.hpp"
#include "pq_console.hpp"

namespace tls_audit::cli {

namespace {

using libpq::Conn;
using libpq::Result;
struct ConninfoFree {
    void operator()(PQconninfoOption *o) const { PQconninfoFree(o); }
};
using ConninfoPtr = std::unique_ptr<PQconninfoOption, ConninfoFree>;
struct FreeMem {
    void operator()(char *p) const { PQfreemem(p); }
};

using Clock = std::chrono::steady_clock;

constexpr const char *kNotAdminHint =
    "The user must be in pgbouncer's admin_users or stats_users, and dbname must be pgbouncer.";

Error unreachable(const std::string &why) {
    return make_error(sqlstate::kConnectionFailure, why,
                      "Check that pgbouncer runs, that its admin console accepts the user (admin_users or "
                      "stats_users), and the connection string.");
}

// Wait until `fd` is readable (or writable) or the deadline passes: false on
// timeout or a poll error other than EINTR.
bool wait_socket(int fd, bool for_write, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
        const int rc = poll(&p, 1, static_cast<int>(left));
        if (rc > 0) return true;  // ready, or an error/hang-up libpq will report
        if (rc < 0 && errno != EINTR) return false;
    }
}

ConnOptions to_options(const PQconninfoOption *o) {
    ConnOptions out;
    for (; o != nullptr && o->keyword != nullptr; ++o)
        out.push_back(ConnOption{o->keyword, o->val != nullptr ? std::optional<std::string>(o->val) : std::nullopt});
    return out;
}

Expected<ConnOptions> parse_conninfo(const std::string &conninfo) {
    char *err = nullptr;
    ConninfoPtr parsed(PQconninfoParse(conninfo.c_str(), &err));
    std::unique_ptr<char, FreeMem> err_owner(err);
    if (!parsed)
        return make_error(sqlstate::kInvalidParameter,
                          "invalid connection string: " +
                              (err != nullptr ? redact_conninfo_error(err) : std::string("out of memory")));
    return to_options(parsed.get());
}

std::vector<std::string> libpq_keywords() {
    std::vector<std::string> out;
    ConninfoPtr defaults(PQconndefaults());
    for (const PQconninfoOption *o = defaults.get(); o != nullptr && o->keyword != nullptr; ++o)
        out.emplace_back(o->keyword);
    return out;
}

}  // namespace

Expected<std::vector<PoolerEntry>> pooler_entries(const std::vector<std::string> &values) {
    const std::vector<std::string> keywords = libpq_keywords();
    std::vector<PoolerEntry> out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::size_t position = i + 1;
        auto entry = parse_pooler_option(values[i], position, keywords);
        if (!entry) return entry.error();
        const std::string which = "--pooler " + std::to_string(position) + " (\"" + entry.value().name + "\")";
        auto options = parse_conninfo(entry.value().conninfo);
        if (!options)
            return make_error(sqlstate::kInvalidParameter, which + ": " + options.error().message,
                              "Give a libpq connection string (keyword=value pairs or a postgresql:// URI).");
        if (pooler_conninfo_has_password(options.value()))
            return make_error(sqlstate::kInvalidParameter,
                              which + ": the connection string holds a password (not shown); a command line is "
                                      "visible to every local user",
                              "Give the password in PGPASSWORD or a passfile (~/.pgpass, or passfile=...).");
        for (const auto &seen : out)
            if (seen.name == entry.value().name)
                return make_error(sqlstate::kInvalidParameter, which + ": repeats a name",
                                  "Name each pooler once: --pooler NAME=CONNINFO.");
        if (out.size() == kMaxPoolers)
            return make_error(sqlstate::kInvalidParameter,
                              which + ": is one too many (at most " + std::to_string(kMaxPoolers) + " poolers)");
        out.push_back(std::move(entry).value());
    }
    return out;
}

Expected<ConsoleRead> read_pooler_console(const std::string &conninfo, const std::vector<const char *> &commands,
                                          int timeout_ms) {
    const auto timeout = std::chrono::milliseconds(timeout_ms);
    auto deadline = Clock::now() + timeout;
    const char *keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char *values[] = {conninfo.c_str(), "pg_tls_check", nullptr};
    Conn conn(PQconnectStartParams(keywords, values, 1));
    if (!conn) return unreachable("out of memory");
    if (PQstatus(conn.get()) == CONNECTION_BAD) return unreachable(libpq::message(conn.get()));
    for (PostgresPollingStatusType st = PGRES_POLLING_WRITING;;) {
        if (st == PGRES_POLLING_OK) break;
        if (st == PGRES_POLLING_FAILED) return unreachable(libpq::message(conn.get()));
        const int fd = PQsocket(conn.get());
        if (fd < 0) return unreachable(libpq::message(conn.get()));
        if (!wait_socket(fd, st == PGRES_POLLING_WRITING, deadline))
            return unreachable("timeout after " + std::to_string(timeout_ms) + " ms connecting (--timeout)");
        st = PQconnectPoll(conn.get());
    }
    if (PQsetnonblocking(conn.get(), 1) != 0) return unreachable(libpq::message(conn.get()));
    ConsoleRead read;
    // The host and port libpq reached (the first that answered of a list,
    // with PGHOST/PGPORT applied): where the pooler's certificate is probed.
    auto text_or_unset = [](const char *v) {
        return v != nullptr && v[0] != '\0' ? std::optional<std::string>(v) : std::nullopt;
    };
    read.options = {ConnOption{"host", text_or_unset(PQhost(conn.get()))},
                    ConnOption{"port", text_or_unset(PQport(conn.get()))}};
    for (const char *command : commands) {
        deadline = Clock::now() + timeout;
        if (PQsendQuery(conn.get(), command) == 0) return unreachable(libpq::message(conn.get()));
        for (;;) {
            const int flushed = PQflush(conn.get());
            if (flushed < 0) return unreachable(libpq::message(conn.get()));
            if (flushed == 0) break;
            if (!wait_socket(PQsocket(conn.get()), true, deadline))
                return unreachable(std::string("timeout sending ") + command + " (--timeout)");
        }
        std::optional<ConsoleAnswer> answer;
        for (;;) {
            while (PQisBusy(conn.get())) {
                if (!wait_socket(PQsocket(conn.get()), false, deadline))
                    return unreachable(std::string("timeout waiting for the answer to ") + command + " (--timeout)");
                if (PQconsumeInput(conn.get()) == 0) return unreachable(libpq::message(conn.get()));
            }
            Result res(PQgetResult(conn.get()));
            if (!res) break;
            if (auto failed = libpq::take_show_result(res.get(), command, kNotAdminHint, answer)) return *failed;
        }
        if (!answer) return unreachable(std::string(command) + " returned nothing");
        read.answers.push_back(std::move(*answer));
    }
    return read;
}

}  // namespace tls_audit::cli
