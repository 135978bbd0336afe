// See pq_console.hpp.
#include "pq_console.hpp"

namespace tls_audit::libpq {

std::string message(const PGconn *conn) {
    std::string m = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    const auto nl = m.find('\n');
    if (nl != std::string::npos) m.resize(nl);
    while (!m.empty() && (m.back() == ' ' || m.back() == '\r')) m.pop_back();
    return m.empty() ? std::string("unknown libpq error") : m;
}

std::optional<Error> take_show_result(const PGresult *res, const char *command, const char *hint,
                                      std::optional<ConsoleAnswer> &answer) {
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        std::string m = PQresultErrorMessage(res);
        while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
        return make_error(sqlstate::kConnectionFailure, std::string(command) + " failed: " + (m.empty() ? "no rows" : m),
                          hint);
    }
    if (answer) return std::nullopt;  // one result per SHOW; anything more is ignored
    const int ncols = PQnfields(res), nrows = PQntuples(res);
    if (static_cast<std::size_t>(nrows) > kMaxPoolerRows)
        return make_error(sqlstate::kProgramLimit, std::string(command) + " returned " + std::to_string(nrows) +
                                                       " rows, more than " + std::to_string(kMaxPoolerRows));
    ConsoleAnswer taken;
    for (int c = 0; c < ncols; ++c) taken.columns.emplace_back(PQfname(res, c));
    taken.rows.reserve(static_cast<std::size_t>(nrows));
    for (int r = 0; r < nrows; ++r) {
        std::vector<PoolerCell> row;
        row.reserve(static_cast<std::size_t>(ncols));
        for (int c = 0; c < ncols; ++c)
            row.push_back(PQgetisnull(res, r, c) ? PoolerCell{} : PoolerCell{PQgetvalue(res, r, c)});
        taken.rows.push_back(std::move(row));
    }
    answer = std::move(taken);
    return std::nullopt;
}

namespace {

Error unreachable(const ConsoleWords &words, const std::string &why) {
    return make_error(words.unreachable_sqlstate, why, words.unreachable_hint);
}

std::optional<std::string> text_or_unset(const char *v) {
    return v != nullptr && v[0] != '\0' ? std::optional<std::string>(v) : std::nullopt;
}

}  // namespace

Expected<ConsoleRead> read_console(const std::string &conninfo, const std::vector<const char *> &commands,
                                   std::chrono::milliseconds timeout, const ConsoleWords &words,
                                   const SocketWait &wait) {
    const std::string bound = std::string(" (") + words.timeout_setting + ")";
    auto deadline = Clock::now() + timeout;
    const char *keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char *values[] = {conninfo.c_str(), words.fallback_application_name, nullptr};
    Conn conn(PQconnectStartParams(keywords, values, 1));
    if (!conn) return unreachable(words, "out of memory");
    if (PQstatus(conn.get()) == CONNECTION_BAD) return unreachable(words, message(conn.get()));
    for (PostgresPollingStatusType st = PGRES_POLLING_WRITING;;) {
        if (st == PGRES_POLLING_OK) break;
        if (st == PGRES_POLLING_FAILED) return unreachable(words, message(conn.get()));
        const int fd = PQsocket(conn.get());
        if (fd < 0) return unreachable(words, message(conn.get()));
        if (!wait(fd, st == PGRES_POLLING_WRITING, deadline))
            return unreachable(words, "timeout after " + std::to_string(timeout.count()) + " ms connecting" + bound);
        st = PQconnectPoll(conn.get());
    }
    if (PQsetnonblocking(conn.get(), 1) != 0) return unreachable(words, message(conn.get()));
    ConsoleRead read;
    // The host and port libpq reached (the first that answered of a list,
    // with PGHOST/PGPORT applied): where the pooler's certificate is probed.
    read.reached = {ConnOption{"host", text_or_unset(PQhost(conn.get()))},
                    ConnOption{"port", text_or_unset(PQport(conn.get()))}};
    for (const char *command : commands) {
        deadline = Clock::now() + timeout;
        if (PQsendQuery(conn.get(), command) == 0) return unreachable(words, message(conn.get()));
        for (;;) {
            const int flushed = PQflush(conn.get());
            if (flushed < 0) return unreachable(words, message(conn.get()));
            if (flushed == 0) break;
            if (!wait(PQsocket(conn.get()), true, deadline))
                return unreachable(words, std::string("timeout sending ") + command + bound);
        }
        std::optional<ConsoleAnswer> answer;
        for (;;) {
            while (PQisBusy(conn.get())) {
                if (!wait(PQsocket(conn.get()), false, deadline))
                    return unreachable(words, std::string("timeout waiting for the answer to ") + command + bound);
                if (PQconsumeInput(conn.get()) == 0) return unreachable(words, message(conn.get()));
            }
            Result res(PQgetResult(conn.get()));
            if (!res) break;
            if (auto failed = take_show_result(res.get(), command, words.not_admin_hint, answer)) return *failed;
        }
        if (!answer) return unreachable(words, std::string(command) + " returned nothing");
        read.answers.push_back(std::move(*answer));
    }
    return read;
}

}  // namespace tls_audit::libpq
