// run_checks() glue of the census checks: weak_auth_in_use (the weak clients
// of the census within tls_audit.expiry_warning_days, from
// tls_audit.auth_readiness()) and census_incomplete (from
// tls_audit.floor_readiness_summary()).
#include "sql_checks_auth.hpp"

#include <string>

#include "spi_query.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

Input<std::vector<WeakAuthFacts>> gather_weak_auth(int window_days) {
    const std::string query =
        "SELECT usename, datname, host(client_addr), application_name, auth_method, reason, connections, "
        "extract(epoch FROM last_seen)::bigint "
        "FROM tls_audit.auth_readiness('scram-sha-256', pg_catalog.make_interval(days => " +
        std::to_string(window_days) + ")) ORDER BY connections DESC, usename, datname, client_addr, application_name";
    auto rows = spi_query(query.c_str(), 8);
    if (!rows.ok()) return Input<std::vector<WeakAuthFacts>>::none(rows.error().message);
    std::vector<WeakAuthFacts> clients;
    for (const auto &r : rows.value()) {
        WeakAuthFacts c;
        c.usename = cell_text(r, 0);
        c.datname = cell_text(r, 1);
        c.client_addr = cell_text(r, 2);
        c.application_name = cell_text(r, 3);
        c.auth_method = cell_text(r, 4);
        c.reason = cell_text(r, 5);
        c.connections = cell_int(r, 6);
        c.last_seen = cell_int_opt(r, 7).value_or(0);
        clients.push_back(std::move(c));
    }
    return Input<std::vector<WeakAuthFacts>>::of(std::move(clients));
}

Input<CensusCompleteness> gather_census_completeness() {
    auto rows = spi_query("SELECT complete, evicted_since::text FROM tls_audit.floor_readiness_summary()", 2);
    if (!rows.ok()) return Input<CensusCompleteness>::none(rows.error().message);
    if (rows.value().size() != 1)
        return Input<CensusCompleteness>::none("tls_audit.floor_readiness_summary() returned no row");
    const auto complete = cell_bool(rows.value()[0], 0);
    if (!complete) return Input<CensusCompleteness>::none("tls_audit.floor_readiness_summary() has no complete");
    CensusCompleteness c;
    c.complete = *complete;
    c.evicted_since = cell_text(rows.value()[0], 1);
    return Input<CensusCompleteness>::of(std::move(c));
}

}  // namespace tls_audit::pg
