// tls_audit.run_checks(): gather the facts (settings, the cipher list OpenSSL
// really enables, the server's certificate files, pg_hba_file_rules, MD5
// password hashes, sessions) and hand them to the core's rules.
//
// Every catalog and view is read through SPI with the caller's privileges,
// each query in its own subtransaction: an input that cannot be read (no
// privilege, an object missing, a file error inside server_tls()) turns its
// checks into 'info' rows instead of failing the whole call.
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "guc_checks.hpp"
#include "guard.hpp"
#include "row.hpp"
#include "sql_hba.hpp"
#include "checks.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_run_checks);
}

using namespace tls_audit;

namespace {

using Cell = std::optional<std::string>;
using Table = std::vector<std::vector<Cell>>;

// Run a read-only query through SPI (already connected) and copy its rows.
Table run_query(const char *sql, int expected_columns) {
    const int rc = pg::call([&] { return SPI_execute(sql, true, 0); });
    if (rc != SPI_OK_SELECT)
        throw CoreError(make_error(sqlstate::kInternal, std::string("unexpected SPI result for ") + sql));
    SPITupleTable *tuptable = SPI_tuptable;
    const uint64 rows = SPI_processed;
    if (tuptable == nullptr || tuptable->tupdesc->natts != expected_columns)
        throw CoreError(make_error(sqlstate::kInternal, std::string("unexpected columns from ") + sql));
    Table table;
    table.reserve(rows);
    for (uint64 r = 0; r < rows; ++r) {
        std::vector<Cell> row;
        row.reserve(expected_columns);
        for (int c = 1; c <= expected_columns; ++c) {
            HeapTuple tuple = tuptable->vals[r];
            TupleDesc desc = tuptable->tupdesc;
            char *value = pg::call([&] { return SPI_getvalue(tuple, desc, c); });
            if (value == nullptr)
                row.emplace_back(std::nullopt);
            else
                row.emplace_back(std::string(value));
        }
        table.push_back(std::move(row));
    }
    return table;
}

// The same inside a subtransaction: a PostgreSQL error (missing object, no
// privilege, an error raised by a function the query calls) is rolled back
// and returned as the error's message.
Expected<Table> query(const char *sql, int expected_columns) {
    MemoryContext outer_context = CurrentMemoryContext;
    ResourceOwner outer_owner = CurrentResourceOwner;
    pg::call([&] {
        BeginInternalSubTransaction(nullptr);
        MemoryContextSwitchTo(outer_context);
    });
    auto leave = [&](bool commit) {
        pg::call([&] {
            if (commit)
                ReleaseCurrentSubTransaction();
            else
                RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(outer_context);
            CurrentResourceOwner = outer_owner;
        });
    };
    try {
        Table table = run_query(sql, expected_columns);
        leave(true);
        return table;
    } catch (const pg::PgError &e) {
        std::string message = e.what();
        leave(false);
        return make_error(sqlstate::kInternal, std::move(message));
    } catch (...) {
        leave(false);
        throw;
    }
}

const std::string &text(const std::vector<Cell> &row, int col) {
    static const std::string empty;
    return row[col] ? *row[col] : empty;
}
std::optional<bool> boolean(const std::vector<Cell> &row, int col) {
    if (!row[col]) return std::nullopt;
    return *row[col] == "t";
}
std::int64_t integer(const std::vector<Cell> &row, int col) {
    return row[col] ? std::strtoll(row[col]->c_str(), nullptr, 10) : 0;
}
std::optional<std::int64_t> integer_opt(const std::vector<Cell> &row, int col) {
    if (!row[col]) return std::nullopt;
    return integer(row, col);
}

std::string setting(const char *name) {
    const char *value = pg::call([&] { return GetConfigOption(name, true, false); });
    return value != nullptr ? value : "";
}

// --- inputs ---------------------------------------------------------------

// Also sets `earliest_crl` to server_tls().crl_next_update, for crl_facts():
// server_tls() may self-probe the server, so it is called once.
Input<ServerCertFacts> gather_server(std::optional<std::int64_t> &earliest_crl) {
    auto tls = query("SELECT cert_file, key_file, ca_file, crl_file, key_matches_cert, key_file_mode, "
                     "key_file_owner, key_file_permissions_ok, chain_complete, chain_error, served_sha256, "
                     "file_sha256, reload_pending, extract(epoch FROM crl_next_update)::bigint "
                     "FROM tls_audit.server_tls()",
                     14);
    if (!tls.ok()) return Input<ServerCertFacts>::none(tls.error().message);
    if (tls.value().size() != 1) return Input<ServerCertFacts>::none("tls_audit.server_tls() returned no row");
    const auto &r = tls.value()[0];
    ServerCertFacts f;
    f.cert_file = text(r, 0);
    f.key_file = text(r, 1);
    f.ca_file = text(r, 2);
    f.crl_file = text(r, 3);
    f.key_matches_cert = boolean(r, 4);
    f.key_file_mode = text(r, 5);
    f.key_file_owner = text(r, 6);
    f.key_permissions_ok = boolean(r, 7);
    f.chain_complete = boolean(r, 8);
    f.chain_error = text(r, 9);
    f.served_sha256 = text(r, 10);
    f.file_sha256 = text(r, 11);
    f.reload_pending = boolean(r, 12);
    earliest_crl = integer_opt(r, 13);

    // Served certificates first, so that a certificate seen both ways keeps
    // its served position.
    auto certs = query("SELECT source, position, subject, issuer, serial, "
                       "extract(epoch FROM not_before)::bigint, extract(epoch FROM not_after)::bigint, "
                       "key_type, key_bits, signature_algorithm, sha256, is_ca, self_signed "
                       "FROM tls_audit.server_certificates ORDER BY source = 'served' DESC, position",
                       13);
    if (!certs.ok()) return Input<ServerCertFacts>::none(certs.error().message);
    for (const auto &c : certs.value()) {
        CertInfo info;
        info.subject = text(c, 2);
        info.issuer = text(c, 3);
        info.serial = text(c, 4);
        info.not_before = integer(c, 5);
        info.not_after = integer(c, 6);
        info.key_type = text(c, 7);
        info.key_bits = static_cast<int>(integer(c, 8));
        info.signature_algorithm = text(c, 9);
        info.sha256 = text(c, 10);
        info.is_ca = boolean(c, 11).value_or(false);
        info.self_signed = boolean(c, 12).value_or(false);
        add_seen_certificate(f.chain, info, static_cast<int>(integer(c, 1)), text(c, 0) == "served");
    }
    return Input<ServerCertFacts>::of(std::move(f));
}

Input<std::vector<HbaRule>> gather_hba() {
    auto rows = query("SELECT line_number, type, database::text, user_name::text, address, netmask, auth_method, "
                      "error FROM pg_catalog.pg_hba_file_rules ORDER BY line_number",
                      8);
    if (!rows.ok()) return Input<std::vector<HbaRule>>::none(rows.error().message);
    std::vector<HbaRule> rules;
    for (const auto &r : rows.value()) {
        HbaRule rule;
        rule.line_number = static_cast<int>(integer(r, 0));
        rule.type = text(r, 1);
        rule.database = text(r, 2);
        rule.user_name = text(r, 3);
        rule.address = text(r, 4);
        rule.netmask = text(r, 5);
        rule.auth_method = text(r, 6);
        rule.error = text(r, 7);
        rules.push_back(std::move(rule));
    }
    return Input<std::vector<HbaRule>>::of(std::move(rules));
}

Input<std::vector<std::string>> gather_md5_roles() {
    if (!superuser())
        return Input<std::vector<std::string>>::none("only superusers can read password hashes (pg_authid)");
    auto rows = query("SELECT rolname::text FROM pg_catalog.pg_authid WHERE rolpassword LIKE 'md5%' "
                      "ORDER BY rolname",
                      1);
    if (!rows.ok()) return Input<std::vector<std::string>>::none(rows.error().message);
    std::vector<std::string> roles;
    for (const auto &r : rows.value()) roles.push_back(text(r, 0));
    return Input<std::vector<std::string>>::of(std::move(roles));
}

Input<std::vector<SessionFacts>> gather_sessions() {
    auto rows = query("SELECT pid, usename::text, datname::text, host(client_addr), transport, protocol, "
                      "below_floor, floor_reason, client_subject, extract(epoch FROM client_not_after)::bigint "
                      "FROM tls_audit.sessions ORDER BY pid",
                      10);
    if (!rows.ok()) return Input<std::vector<SessionFacts>>::none(rows.error().message);
    std::vector<SessionFacts> sessions;
    for (const auto &r : rows.value()) {
        SessionFacts s;
        s.pid = static_cast<int>(integer(r, 0));
        s.usename = text(r, 1);
        s.datname = text(r, 2);
        s.client_addr = text(r, 3);
        s.transport = text(r, 4);
        s.protocol = text(r, 5);
        s.below_floor = boolean(r, 6).value_or(false);
        s.floor_reason = text(r, 7);
        s.client_subject = text(r, 8);
        s.client_not_after = integer_opt(r, 9);
        sessions.push_back(std::move(s));
    }
    return Input<std::vector<SessionFacts>>::of(std::move(sessions));
}

// tls_audit.* lines of the configuration files that cannot be applied
// (pg_file_settings reads the files again; superuser unless granted).
Input<std::vector<FileSetting>> gather_file_settings() {
    auto rows = query("SELECT name, setting, sourcefile, sourceline, error FROM pg_catalog.pg_file_settings "
                      "WHERE pg_catalog.lower(name) LIKE 'tls\\_audit.%' AND error IS NOT NULL ORDER BY seqno",
                      5);
    if (!rows.ok()) return Input<std::vector<FileSetting>>::none(rows.error().message);
    std::vector<FileSetting> settings;
    for (const auto &r : rows.value()) {
        FileSetting s;
        s.name = text(r, 0);
        s.setting = text(r, 1);
        s.file = text(r, 2);
        s.line = static_cast<int>(integer(r, 3));
        s.error = text(r, 4);
        settings.push_back(std::move(s));
    }
    return Input<std::vector<FileSetting>>::of(std::move(settings));
}

// Whether each CA of ssl_ca_file has a CRL (ca_certificates.crl_present, 1.1).
Input<std::vector<CaCrlCoverage>> gather_ca_crl_coverage() {
    auto rows = query("SELECT subject, crl_present FROM tls_audit.ca_certificates ORDER BY position", 2);
    if (!rows.ok()) return Input<std::vector<CaCrlCoverage>>::none(rows.error().message);
    std::vector<CaCrlCoverage> cas;
    for (const auto &r : rows.value()) cas.push_back(CaCrlCoverage{text(r, 0), boolean(r, 1).value_or(false)});
    return Input<std::vector<CaCrlCoverage>>::of(std::move(cas));
}

// The stages of tls_audit.reload_preflight() (1.1).
Input<std::vector<PreflightStage>> gather_preflight() {
    auto rows = query("SELECT stage, file, ok, error FROM tls_audit.reload_preflight()", 4);
    if (!rows.ok()) return Input<std::vector<PreflightStage>>::none(rows.error().message);
    std::vector<PreflightStage> stages;
    for (const auto &r : rows.value()) {
        PreflightStage s;
        s.stage = text(r, 0);
        s.file = text(r, 1);
        s.ok = boolean(r, 2);
        s.error = text(r, 3);
        stages.push_back(std::move(s));
    }
    return Input<std::vector<PreflightStage>>::of(std::move(stages));
}

// The next update of the CRL that one CA of ssl_ca_file issued.
struct CaCrl {
    std::string subject;
    std::int64_t next_update;
};

// Also collects, in `ca_crls`, the CAs that have a CRL, for crl_facts().
Input<std::vector<CertInfo>> gather_ca_certificates(std::vector<CaCrl> &ca_crls) {
    auto rows = query("SELECT subject, issuer, extract(epoch FROM not_before)::bigint, "
                      "extract(epoch FROM not_after)::bigint, sha256, extract(epoch FROM crl_next_update)::bigint "
                      "FROM tls_audit.ca_certificates ORDER BY position",
                      6);
    if (!rows.ok()) return Input<std::vector<CertInfo>>::none(rows.error().message);
    std::vector<CertInfo> certs;
    for (const auto &r : rows.value()) {
        CertInfo c;
        c.subject = text(r, 0);
        c.issuer = text(r, 1);
        c.not_before = integer(r, 2);
        c.not_after = integer(r, 3);
        c.sha256 = text(r, 4);
        if (r[5]) ca_crls.push_back(CaCrl{c.subject, integer(r, 5)});
        certs.push_back(std::move(c));
    }
    return Input<std::vector<CertInfo>>::of(std::move(certs));
}

// The next update of each CRL in ssl_crl_file and ssl_crl_dir: per issuing CA
// of ssl_ca_file, else the earliest one server_tls() knows. From what
// gather_server() and gather_ca_certificates() read; no query of its own.
Input<std::vector<CrlFacts>> crl_facts(const AuditFacts &f, const std::vector<CaCrl> &ca_crls,
                                       std::optional<std::int64_t> earliest) {
    if (!f.ca_file.empty() && !f.ca_certificates.value)
        return Input<std::vector<CrlFacts>>::none(f.ca_certificates.missing);
    std::vector<CrlFacts> crls;
    crls.reserve(ca_crls.size());
    for (const auto &c : ca_crls) crls.push_back(CrlFacts{f.crl_source, c.subject, c.next_update});
    if (crls.empty()) {
        if (!f.server.value) return Input<std::vector<CrlFacts>>::none(f.server.missing);
        if (earliest) crls.push_back(CrlFacts{f.crl_source, "a CA not in ssl_ca_file", earliest});
    }
    return Input<std::vector<CrlFacts>>::of(std::move(crls));
}

// Everything run_checks() looks at. SPI is connected for the duration.
AuditFacts gather() {
    AuditFacts f;
    f.now = pg::now_epoch();
    f.settings.ssl = setting("ssl") == "on";
    f.settings.listen_addresses = setting("listen_addresses");
    f.settings.min_protocol = setting("ssl_min_protocol_version");
    f.settings.max_protocol = setting("ssl_max_protocol_version");
    f.settings.ciphers = setting("ssl_ciphers");
    f.settings.password_encryption = setting("password_encryption");
    if (pg::compat::kHasTls13Ciphers) f.settings.tls13_ciphers = setting("ssl_tls13_ciphers");
    f.settings.groups = setting(pg::compat::kGroupsSetting);
    f.settings.md5_deprecated = pg::compat::kMd5Deprecated;
    f.ca_file = setting("ssl_ca_file");
    const std::string crl_file = setting("ssl_crl_file"), crl_dir = setting("ssl_crl_dir");
    f.crl_source = crl_dir.empty() ? crl_file : crl_file.empty() ? crl_dir : crl_file + " and " + crl_dir;
    const std::string floor = setting("tls_audit.min_protocol");
    f.floor = parse_protocol(floor).value_or(Protocol::TLSv1_2);
    f.thresholds.warning_days = pg::expiry_warning_days();
    f.thresholds.critical_days = pg::expiry_critical_days();

    if (f.settings.ssl) {
        // The list this very process's OpenSSL enables for the settings,
        // built the way the server builds its own context.
        auto ciphers = enabled_ciphers(f.settings.ciphers, f.settings.min_protocol, f.settings.max_protocol,
                                       f.settings.tls13_ciphers);
        f.ciphers = ciphers.ok() ? Input<std::vector<CipherFacts>>::of(std::move(ciphers).value())
                                 : Input<std::vector<CipherFacts>>::none(ciphers.error().message);
    }

    pg::call([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    if (f.settings.ssl) {
        std::optional<std::int64_t> earliest_crl;
        std::vector<CaCrl> ca_crls;
        f.server = gather_server(earliest_crl);
        if (!f.ca_file.empty()) f.ca_certificates = gather_ca_certificates(ca_crls);
        if (!f.crl_source.empty()) f.crls = crl_facts(f, ca_crls, earliest_crl);
        if (!f.ca_file.empty() && !f.crl_source.empty()) f.ca_crl_coverage = gather_ca_crl_coverage();
        f.preflight = gather_preflight();
    }
    f.hba = gather_hba();
    {
        auto matrix = pg::read_hba_matrix();
        f.hba_matrix = matrix.ok() ? Input<hba::Matrix>::of(std::move(matrix).value())
                                   : Input<hba::Matrix>::none(matrix.error().message);
    }
    f.md5_roles = gather_md5_roles();
    f.sessions = gather_sessions();
    f.file_settings = gather_file_settings();
    pg::call([] { SPI_finish(); });
    return f;
}

enum FindingColumn { kFCheck, kFSeverity, kFObject, kFMessage, kFHint, kFindingColumns };

}  // namespace

extern "C" Datum tls_audit_run_checks(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        const std::vector<Finding> findings = evaluate(gather());
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kFindingColumns, "tls_audit.run_checks()");
        for (const Finding &finding : findings) {
            pg::Row row(rsinfo->setDesc);
            row.text(kFCheck, finding.check);
            row.text(kFSeverity, severity_name(finding.severity));
            row.text_or_null(kFObject, finding.object);
            row.text(kFMessage, finding.message);
            row.text_or_null(kFHint, finding.hint);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}
