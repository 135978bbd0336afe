// tls_audit.control_rows() (the rows of tls_audit.controls, from the core's
// control table), tls_audit.show_bidi_controls(text) (text made safe for a
// dashboard label, as the reports show it) and tls_audit.report(format): the
// audit report, its model
// gathered through SPI from the extension's own functions and views (with the
// caller's privileges, each query in its own subtransaction: a section whose
// input cannot be read is listed as not available), rendered by the core.
#include <sstream>
#include <string>
#include <vector>

#include "checks/controls.hpp"
#include "guard.hpp"
#include "report/report_html.hpp"
#include "row.hpp"
#include "spi_query.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_control_rows);
PG_FUNCTION_INFO_V1(tls_audit_report);
PG_FUNCTION_INFO_V1(tls_audit_show_bidi_controls);
}

using namespace tls_audit;

namespace {

enum ControlColumn { kCFramework, kCControlId, kCTitle, kCCheck, kCSource, kControlColumns };

std::vector<std::string> split_spaces(const std::string &s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string word; in >> word;) out.push_back(word);
    return out;
}

// Runs one query; on failure notes the section as not available and returns
// no rows.
pg::Table read(report::Model &m, const char *section, const char *sql, int columns) {
    auto result = pg::spi_query(sql, columns);
    if (!result.ok()) {
        m.unavailable.emplace_back(section, result.error().message);
        return {};
    }
    return std::move(result).value();
}

report::Model gather() {
    report::Model m;
    m.generated_at = pg::now_epoch();
    pg::call([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    for (const auto &r :
         read(m, "server identity",
              "SELECT coalesce(nullif(pg_catalog.current_setting('cluster_name'), ''), "
              "'port ' || pg_catalog.current_setting('port')) "
              "|| coalesce(' on ' || pg_catalog.host(pg_catalog.inet_server_addr()), ''), "
              "pg_catalog.current_setting('server_version'), pg_catalog.current_database(), "
              "(SELECT e.extversion FROM pg_catalog.pg_extension AS e WHERE e.extname = 'pg_tls_audit')",
              4)) {
        m.server = pg::cell_text(r, 0);
        m.version = pg::cell_text(r, 1);
        m.database = pg::cell_text(r, 2);
        m.extension_version = pg::cell_text(r, 3);
    }
    for (const auto &r : read(m, "findings",
                              "SELECT c.\"check\", c.severity, c.object, c.message, c.hint, "
                              "pg_catalog.array_to_string(c.controls, ' ') FROM tls_audit.run_checks() AS c",
                              6))
        m.findings.push_back({pg::cell_text(r, 0), pg::cell_text(r, 1), pg::cell_text(r, 2), pg::cell_text(r, 3),
                              pg::cell_text(r, 4), split_spaces(pg::cell_text(r, 5))});
    for (const auto &r : read(m, "server certificates",
                              "SELECT s.source, s.\"position\", s.subject, s.issuer, "
                              "extract(epoch FROM s.not_before)::bigint, extract(epoch FROM s.not_after)::bigint "
                              "FROM tls_audit.server_certificates AS s ORDER BY s.source = 'served' DESC, s.\"position\"",
                              6))
        m.certificates.push_back({pg::cell_text(r, 0), static_cast<int>(pg::cell_int(r, 1)), pg::cell_text(r, 2),
                                  pg::cell_text(r, 3), pg::cell_int(r, 4), pg::cell_int(r, 5)});
    for (const auto &r : read(m, "sessions",
                              "SELECT CASE WHEN s.protocol IS NOT NULL THEN s.protocol || ' ' || coalesce(s.cipher, '') "
                              "ELSE coalesce(s.transport, 'unknown') || ' (no TLS)' END, pg_catalog.count(*) "
                              "FROM tls_audit.sessions AS s GROUP BY 1 ORDER BY 2 DESC, 1",
                              2)) {
        m.sessions_by_protocol.push_back({pg::cell_text(r, 0), pg::cell_int(r, 1)});
        m.sessions_total += pg::cell_int(r, 1);
    }
    const std::string session_sql =
        "SELECT s.usename, s.datname, s.application_name, pg_catalog.host(s.client_addr), "
        "coalesce(s.protocol, s.transport), s.cipher, s.key_exchange_group, s.client_subject "
        "FROM tls_audit.sessions AS s "
        "ORDER BY s.protocol NULLS FIRST, s.pid LIMIT " +
        std::to_string(m.max_sessions);
    for (const auto &r : read(m, "sessions", session_sql.c_str(), 8))
        m.sessions.push_back({pg::cell_text(r, 0), pg::cell_text(r, 1), pg::cell_text(r, 2), pg::cell_text(r, 3),
                              pg::cell_text(r, 4), pg::cell_text(r, 5), pg::cell_text(r, 6), pg::cell_text(r, 7)});
    // The census: connections per protocol by day last seen (UTC), the last 14 days.
    for (const auto &r :
         read(m, "census",
              "SELECT pg_catalog.to_char(e.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, "
              "CASE WHEN e.outcome = 'tls_rejected' THEN 'TLS refused' "
              "WHEN e.protocol IS NOT NULL THEN e.protocol ELSE coalesce(e.transport, 'unknown') END AS protocol, "
              "pg_catalog.sum(e.connections)::bigint FROM tls_audit.census AS e "
              "WHERE e.last_seen >= pg_catalog.now() - interval '14 days' GROUP BY 1, 2 ORDER BY 1, 2",
              3)) {
        if (m.census.empty() || m.census.back().label != pg::cell_text(r, 0))
            m.census.push_back({pg::cell_text(r, 0), {}});
        m.census.back().protocols.push_back({pg::cell_text(r, 1), pg::cell_int(r, 2)});
    }
    for (const auto &r : read(m, "floor readiness",
                              "SELECT f.target, f.connections_total, f.connections_ready, f.clients_not_ready "
                              "FROM pg_catalog.unnest(ARRAY['TLSv1.2', 'TLSv1.3']) AS t (floor), "
                              "tls_audit.floor_readiness_summary(t.floor) AS f",
                              4))
        m.readiness.push_back({pg::cell_text(r, 0), pg::cell_int(r, 1), pg::cell_int(r, 2), pg::cell_int(r, 3)});
    const std::string not_ready_sql =
        "SELECT t.floor, f.usename, f.application_name, pg_catalog.host(f.client_addr), f.protocol, f.connections "
        "FROM pg_catalog.unnest(ARRAY['TLSv1.2', 'TLSv1.3']) AS t (floor), "
        "tls_audit.floor_readiness(t.floor) AS f ORDER BY t.floor, f.connections DESC LIMIT " +
        std::to_string(m.max_not_ready);
    for (const auto &r : read(m, "clients not ready", not_ready_sql.c_str(), 6))
        m.not_ready.push_back({pg::cell_text(r, 0), pg::cell_text(r, 1), pg::cell_text(r, 2), pg::cell_text(r, 3),
                               pg::cell_text(r, 4), pg::cell_int(r, 5)});
    pg::call([] { SPI_finish(); });
    return m;
}

}  // namespace

extern "C" Datum tls_audit_control_rows(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kControlColumns, "tls_audit.control_rows()");
        for (const Control &c : controls()) {
            const std::string key = control_key(c);
            const std::string source = control_source(c);
            for (const char *check : c.checks) {
                pg::Row row(rsinfo->setDesc);
                row.text(kCFramework, c.framework);
                row.text(kCControlId, key);
                row.text(kCTitle, c.title);
                row.text(kCCheck, check);
                row.text(kCSource, source);
                row.put(rsinfo);
            }
        }
        return Datum(0);
    });
}

extern "C" Datum tls_audit_report(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        if (PG_ARGISNULL(0))
            throw CoreError(make_error("22004", "format must not be NULL", "Use 'html' or 'markdown'."));
        const char *arg = pg::call([&] { return static_cast<const char *>(text_to_cstring(PG_GETARG_TEXT_PP(0))); });
        const std::string format = arg;
        if (format != "html" && format != "markdown")
            throw CoreError(make_error(sqlstate::kInvalidParameter, "unknown report format \"" + format + "\"",
                                       "Use 'html' or 'markdown'."));
        const report::Model model = gather();
        const std::string out = format == "html" ? report::render_html(model) : report::render_markdown(model);
        const char *data = out.data();
        const int len = static_cast<int>(out.size());
        return pg::call([&] { return PointerGetDatum(cstring_to_text_with_len(data, len)); });
    });
}

// STRICT. Bidirectional controls exist as such only in UTF-8 (SQL_ASCII
// stores the client's bytes, usually UTF-8, as they are); in another server
// encoding the same bytes are other characters, and are left alone.
extern "C" Datum tls_audit_show_bidi_controls(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        struct varlena *value = pg::call([&] { return PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0)); });
        const std::string_view input(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
        const int encoding = pg::call([] { return GetDatabaseEncoding(); });
        if (encoding != PG_UTF8 && encoding != PG_SQL_ASCII) return PG_GETARG_DATUM(0);
        const std::string shown = report::show_bidi_controls(input);
        return pg::call([&] { return PointerGetDatum(cstring_to_text_with_len(shown.data(), static_cast<int>(shown.size()))); });
    });
}
