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

}  // namespace tls_audit::libpq
