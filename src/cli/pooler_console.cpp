// See pooler_console.hpp. The connect, send and receive loop is the one both
// readers share (libpq::read_console, src/libpq/pq_console.hpp); this reader
// gives it a poll() with the time left as its wait, so --timeout bounds each
// step however the pooler behaves. (The extension's reader,
// src/pg/pooler_console.cpp, waits on the backend's latch instead.)
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

struct ConninfoFree {
    void operator()(PQconninfoOption *o) const { PQconninfoFree(o); }
};
using ConninfoPtr = std::unique_ptr<PQconninfoOption, ConninfoFree>;
struct FreeMem {
    void operator()(char *p) const { PQfreemem(p); }
};

using libpq::Clock;

constexpr const char *kUnreachableHint =
    "Check that pgbouncer runs, that its admin console accepts the user (admin_users or stats_users), and the "
    "connection string.";
constexpr const char *kNotAdminHint =
    "The user must be in pgbouncer's admin_users or stats_users, and dbname must be pgbouncer.";

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
    const libpq::ConsoleWords words{"pg_tls_check", "--timeout", sqlstate::kConnectionFailure,
                                    kUnreachableHint, kNotAdminHint};
    auto read = libpq::read_console(conninfo, commands, std::chrono::milliseconds(timeout_ms), words, wait_socket);
    if (!read) return read.error();
    return ConsoleRead{std::move(read.value().answers), std::move(read.value().reached)};
}

}  // namespace tls_audit::cli
