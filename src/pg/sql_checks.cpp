// tls_audit.run_checks(): gather the facts (settings, the cipher list OpenSSL
// really enables, the server's certificate files, pg_hba_file_rules, MD5
// password hashes, sessions) and hand them to the core's checks.
//
// The server's own TLS state comes from the same C++ readers the SQL
// functions use (server_readers.hpp), not from calling those functions back.
// What only SQL can give (pg_hba_file_rules, pg_authid, pg_file_settings,
// tls_audit.sessions) is read through SPI with the caller's privileges, each
// query in its own subtransaction (spi_query.hpp): an input that cannot be
// read turns its checks into 'info' rows instead of failing the whole call.
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "guc_checks.hpp"
#include "guard.hpp"
#include "row.hpp"
#include "sql_hba.hpp"
#include "checks/checks.hpp"
#include "guard.hpp"
#include "bgw_auto_reload.hpp"
#include "guc_auto_reload.hpp"
#include "guc_checks.hpp"
#include "hook_reload.hpp"
#include "row.hpp"
#include "interrupts.hpp"
#include "server_readers.hpp"
#include "certs/server_files.hpp"
#include "spi_query.hpp"
#include "sql_checks_auth.hpp"
#include "sql_checks_role_floor.hpp"
#include "sql_outbound.hpp"
#include "sql_pooler.hpp"
#include "checks/controls.hpp"
#include "base/tls_groups.hpp"
#include "probe/probe_enumerate.hpp"
#include "module.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_run_checks);
}

using namespace tls_audit;

namespace {

using pg::cell_bool;
using pg::cell_int;
using pg::cell_int_opt;
using pg::cell_text;
using pg::setting;
using pg::spi_query;

// --- inputs ---------------------------------------------------------------

// The next update of the CRL that one CA of ssl_ca_file issued.
struct CaCrl {
    std::string subject;
    std::int64_t next_update;
};

// The served chain and the files, merged as server_tls() and
// server_certificates show them; also the CA file's certificates and CRL
// coverage (ca_certificates). Sets `interrupted` when a self-probe stopped
// for a cancel (the caller then stops).
struct ServerInputs {
    Input<ServerCertFacts> server = Input<ServerCertFacts>::none("not read");
    Input<std::vector<CertInfo>> ca_certificates = Input<std::vector<CertInfo>>::none("not read");
    Input<std::vector<CaCrlCoverage>> ca_crl_coverage = Input<std::vector<CaCrlCoverage>>::none("not read");
    std::optional<std::int64_t> earliest_crl;  // server_tls().crl_next_update
    std::vector<CaCrl> ca_crls;                // the CAs that have a CRL, for crl_facts()
};

ServerInputs gather_server(bool &interrupted) {
    ServerInputs in;
    const pg::TlsSettings s = pg::read_tls_settings();
    ServerFilesReport files;
    try {
        files = pg::read_server_files(s);
    } catch (const CoreError &e) {
        const std::string why = e.error().message;
        in.server = Input<ServerCertFacts>::none(why);
        in.ca_certificates = Input<std::vector<CertInfo>>::none(why);
        in.ca_crl_coverage = Input<std::vector<CaCrlCoverage>>::none(why);
        return in;
    }
    const pg::Served served = pg::served_certificates(true, interrupted);
    if (interrupted) return in;

    ServerCertFacts f;
    f.cert_file = s.files.cert_file;
    f.key_file = s.files.key_file;
    f.ca_file = s.files.ca_file;
    f.crl_file = s.files.crl_file;
    f.key_matches_cert = files.key_matches_cert;
    if (files.key_permissions) {
        f.key_file_mode = files.key_permissions->mode;
        f.key_file_owner = files.key_permissions->owner;
        f.key_permissions_ok = files.key_permissions->ok;
    }
    f.chain_complete = files.chain_complete;
    f.chain_error = files.chain_error;
    if (!served.certs.empty()) f.served_sha256 = served.certs.front().sha256;
    if (!files.chain.empty()) f.file_sha256 = files.chain.front().sha256;
    f.reload_pending = reload_pending(served.certs, served.source == "handshake", files.chain);
    in.earliest_crl = files.crl_next_update;
    // Served certificates first, so that a certificate seen both ways keeps
    // its served position.
    for (std::size_t i = 0; i < served.certs.size(); ++i)
        add_seen_certificate(f.chain, served.certs[i], static_cast<int>(i), true);
    for (std::size_t i = 0; i < files.chain.size(); ++i)
        add_seen_certificate(f.chain, files.chain[i], static_cast<int>(i), false);
    in.server = Input<ServerCertFacts>::of(std::move(f));

    if (!s.files.ca_file.empty()) {
        std::vector<CaCrlCoverage> coverage;
        for (std::size_t i = 0; i < files.ca_certificates.size(); ++i) {
            const CertInfo &ca = files.ca_certificates[i];
            if (i < files.ca_crl_next_update.size() && files.ca_crl_next_update[i])
                in.ca_crls.push_back(CaCrl{ca.subject, *files.ca_crl_next_update[i]});
            coverage.push_back(CaCrlCoverage{ca.subject, i < files.ca_crl_present.size() && files.ca_crl_present[i]});
        }
        in.ca_certificates = Input<std::vector<CertInfo>>::of(files.ca_certificates);
        in.ca_crl_coverage = Input<std::vector<CaCrlCoverage>>::of(std::move(coverage));
    }
    return in;
}

// The facts of pq_key_exchange: the groups the running server offers (as
// server_tls() reads them) and what this process's OpenSSL, the server's own,
// can do.
Input<PqKeyExchangeFacts> gather_pq(const pg::TlsSettings &s) {
    const pg::OfferedGroups offered = pg::read_offered_groups(s);
    if (!offered.error.empty()) return Input<PqKeyExchangeFacts>::none(offered.error);
    PqKeyExchangeFacts f;
    f.server_version_num = pg::compat::kVersionNum;
    f.openssl_version = local_openssl_version();
    f.openssl_has_hybrid = !available_hybrid_groups().empty();
    f.offered_groups = offered.groups;
    f.setting_value = s.groups;
    return Input<PqKeyExchangeFacts>::of(std::move(f));
}

// Why the caller may not execute `signature` (PostgreSQL's own message), or
// nullopt when it may. SPI is connected.
std::optional<std::string> denied(const char *signature, const char *name) {
    const std::string sql =
        std::string("SELECT pg_catalog.has_function_privilege('") + signature + "', 'EXECUTE')";
    auto rows = spi_query(sql.c_str(), 1);
    if (!rows.ok()) return rows.error().message;
    if (rows.value().size() == 1 && cell_bool(rows.value()[0], 0).value_or(false)) return std::nullopt;
    return std::string("permission denied for function ") + name;
}

Input<std::vector<HbaRule>> gather_hba() {
    auto rows = spi_query("SELECT line_number, type, database::text, user_name::text, address, netmask, auth_method, "
                      "error FROM pg_catalog.pg_hba_file_rules ORDER BY line_number",
                      8);
    if (!rows.ok()) return Input<std::vector<HbaRule>>::none(rows.error().message);
    std::vector<HbaRule> rules;
    for (const auto &r : rows.value()) {
        HbaRule rule;
        rule.line_number = static_cast<int>(cell_int(r, 0));
        rule.type = cell_text(r, 1);
        rule.database = cell_text(r, 2);
        rule.user_name = cell_text(r, 3);
        rule.address = cell_text(r, 4);
        rule.netmask = cell_text(r, 5);
        rule.auth_method = cell_text(r, 6);
        rule.error = cell_text(r, 7);
        rules.push_back(std::move(rule));
    }
    return Input<std::vector<HbaRule>>::of(std::move(rules));
}

Input<std::vector<std::string>> gather_md5_roles() {
    if (!superuser())
        return Input<std::vector<std::string>>::none("only superusers can read password hashes (pg_authid)");
    auto rows = spi_query("SELECT rolname::text FROM pg_catalog.pg_authid WHERE rolpassword LIKE 'md5%' "
                      "ORDER BY rolname",
                      1);
    if (!rows.ok()) return Input<std::vector<std::string>>::none(rows.error().message);
    std::vector<std::string> roles;
    for (const auto &r : rows.value()) roles.push_back(cell_text(r, 0));
    return Input<std::vector<std::string>>::of(std::move(roles));
}

Input<std::vector<SessionFacts>> gather_sessions() {
    auto rows = spi_query("SELECT pid, usename::text, datname::text, host(client_addr), transport, protocol, "
                      "below_floor, floor_reason, client_subject, extract(epoch FROM client_not_after)::bigint "
                      "FROM tls_audit.sessions ORDER BY pid",
                      10);
    if (!rows.ok()) return Input<std::vector<SessionFacts>>::none(rows.error().message);
    std::vector<SessionFacts> sessions;
    for (const auto &r : rows.value()) {
        SessionFacts s;
        s.pid = static_cast<int>(cell_int(r, 0));
        s.usename = cell_text(r, 1);
        s.datname = cell_text(r, 2);
        s.client_addr = cell_text(r, 3);
        s.transport = cell_text(r, 4);
        s.protocol = cell_text(r, 5);
        s.below_floor = cell_bool(r, 6).value_or(false);
        s.floor_reason = cell_text(r, 7);
        s.client_subject = cell_text(r, 8);
        s.client_not_after = cell_int_opt(r, 9);
        sessions.push_back(std::move(s));
    }
    return Input<std::vector<SessionFacts>>::of(std::move(sessions));
}

// The census file's last save, from tls_audit.census_info().
Input<CensusSaveFacts> gather_census_save() {
    if (!pg::loaded_at_startup())
        return Input<CensusSaveFacts>::none("pg_tls_audit is not in shared_preload_libraries");
    auto rows = spi_query("SELECT last_save_at::text, last_save_error FROM tls_audit.census_info()", 2);
    if (!rows.ok()) return Input<CensusSaveFacts>::none(rows.error().message);
    CensusSaveFacts c;
    if (!rows.value().empty()) {
        c.last_save_at = cell_text(rows.value()[0], 0);
        c.last_save_error = cell_text(rows.value()[0], 1);
    }
    return Input<CensusSaveFacts>::of(std::move(c));
}

// tls_audit.* lines of the configuration files that cannot be applied
// (pg_file_settings reads the files again; superuser unless granted).
Input<std::vector<FileSetting>> gather_file_settings() {
    auto rows = spi_query("SELECT name, setting, sourcefile, sourceline, error FROM pg_catalog.pg_file_settings "
                      "WHERE pg_catalog.lower(name) LIKE 'tls\\_audit.%' AND error IS NOT NULL ORDER BY seqno",
                      5);
    if (!rows.ok()) return Input<std::vector<FileSetting>>::none(rows.error().message);
    std::vector<FileSetting> settings;
    for (const auto &r : rows.value()) {
        FileSetting s;
        s.name = cell_text(r, 0);
        s.setting = cell_text(r, 1);
        s.file = cell_text(r, 2);
        s.line = static_cast<int>(cell_int(r, 3));
        s.error = cell_text(r, 4);
        settings.push_back(std::move(s));
    }
    return Input<std::vector<FileSetting>>::of(std::move(settings));
}

// The next update of each CRL in ssl_crl_file and ssl_crl_dir: per issuing CA
// of ssl_ca_file, else the earliest one server_tls() knows. From what
// gather_server() read.
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

// The server's outbound links with the root certificates of those that
// verify the server (tls_audit.outbound_connections' rows, same visibility).
// Gated like the other inputs: by the privilege on the view's function.
Input<std::vector<OutboundLinkFacts>> gather_outbound_links() {
    if (const auto why = denied("tls_audit.outbound_connection_rows()", "outbound_connection_rows"))
        return Input<std::vector<OutboundLinkFacts>>::none(*why);
    try {
        std::vector<OutboundLinkFacts> links;
        for (auto &row : pg::gather_outbound(true)) links.push_back(std::move(row.facts));
        return Input<std::vector<OutboundLinkFacts>>::of(std::move(links));
    } catch (const CoreError &e) {
        return Input<std::vector<OutboundLinkFacts>>::none(e.error().message);
    }
}

// The poolers of tls_audit.poolers (fail open: a pooler that cannot be read
// is a PoolerFacts with its error, reported as pooler_unreachable). Gated by
// the privilege on pooler_settings(), which reads the same SHOW CONFIG. A
// cancel while waiting on a pooler is not an input problem: it propagates.
Input<std::vector<PoolerFacts>> gather_pooler_facts() {
    if (const auto why = denied("tls_audit.pooler_settings()", "pooler_settings"))
        return Input<std::vector<PoolerFacts>>::none(*why);
    try {
        return Input<std::vector<PoolerFacts>>::of(pg::gather_poolers());
    } catch (const CoreError &e) {
        if (e.error().sqlstate == sqlstate::kQueryCanceled) throw;
        return Input<std::vector<PoolerFacts>>::none(e.error().message);
    }
}

// Everything run_checks() looks at. Sets `interrupted` when a self-probe
// stopped for a cancel: the facts are then incomplete and must not be used.
AuditFacts gather(bool &interrupted) {
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
        f.pq = gather_pq(pg::read_tls_settings());
    }

    // The reload history and the automatic reload, from shared memory.
    if (f.settings.ssl) {
        if (!pg::reload_history_active()) {
            f.last_reload = Input<std::optional<LastReload>>::none(
                "the reload history needs pg_tls_audit in shared_preload_libraries");
        } else {
            const auto history = pg::reload_history();
            std::optional<LastReload> last;
            if (!history.empty()) {
                const pg::ReloadEvent &e = history.back();
                last = LastReload{pg::timestamptz_to_epoch(e.at), e.kind, e.ok, e.error};
            }
            f.last_reload = Input<std::optional<LastReload>>::of(last);
        }
        const auto status = pg::auto_reload_status();
        AutoReloadFacts ar;
        ar.mode = status ? status->mode : auto_reload_mode_name(pg::auto_reload_mode());
        ar.state = status ? status->state : "not preloaded";
        if (status) {
            ar.last_error = status->last_error;
            ar.last_action = status->last_action;
        }
        f.auto_reload = Input<AutoReloadFacts>::of(ar);
    }

    pg::call([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    if (f.settings.ssl) {
        // Each input is gated by the privilege that reading it through its
        // SQL function would need, so run_checks() reveals nothing a caller
        // could not see there (a role granted run_checks() but not server_tls()
        // gets 'info' rows for the certificate checks).
        if (const auto why = denied("tls_audit.reload_preflight()", "reload_preflight"))
            f.preflight = Input<std::vector<PreflightStage>>::none(*why);
        else {
            const pg::ReloadPlan plan = pg::reload_plan();
            f.preflight = Input<std::vector<PreflightStage>>::of(plan.ssl ? run_reload_preflight(plan.settings, pg::cancel_requested())
                                                                          : std::vector<PreflightStage>{});
        }
        auto why = denied("tls_audit.server_tls()", "server_tls");
        if (!why) why = denied("tls_audit.server_certificates()", "server_certificates");
        if (why) {
            f.server = Input<ServerCertFacts>::none(*why);
            if (!f.crl_source.empty()) f.crls = Input<std::vector<CrlFacts>>::none(*why);
        } else {
            ServerInputs in = gather_server(interrupted);
            if (interrupted) {
                pg::call([] { SPI_finish(); });
                return f;
            }
            f.server = std::move(in.server);
            const auto ca_why = denied("tls_audit.ca_certificates()", "ca_certificates");
            if (!f.ca_file.empty())
                f.ca_certificates = ca_why ? Input<std::vector<CertInfo>>::none(*ca_why) : std::move(in.ca_certificates);
            if (!f.crl_source.empty()) f.crls = crl_facts(f, in.ca_crls, in.earliest_crl);
            if (!f.ca_file.empty() && !f.crl_source.empty())
                f.ca_crl_coverage = ca_why ? Input<std::vector<CaCrlCoverage>>::none(*ca_why)
                                           : std::move(in.ca_crl_coverage);
        }
    }
    f.hba = gather_hba();
    {
        auto matrix = pg::read_hba_matrix();
        f.hba_matrix = matrix.ok() ? Input<hba::Matrix>::of(std::move(matrix).value())
                                   : Input<hba::Matrix>::none(matrix.error().message);
    }
    f.md5_roles = gather_md5_roles();
    f.sessions = gather_sessions();
    f.census_save = gather_census_save();
    f.file_settings = gather_file_settings();
    f.role_floor = pg::gather_role_floor();
    f.outbound = gather_outbound_links();
    f.poolers = gather_pooler_facts();
    f.weak_auth = pg::gather_weak_auth(f.thresholds.warning_days);
    f.census_completeness = pg::gather_census_completeness();
    pg::call([] { SPI_finish(); });
    return f;
}

// 1.1 adds controls; a 1.0 install (not updated yet) has the first five.
enum FindingColumn { kFCheck, kFSeverity, kFObject, kFMessage, kFHint, kFControls, kFindingColumns };
constexpr int kFindingColumns10 = kFControls;

}  // namespace

extern "C" Datum tls_audit_run_checks(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        const AuditFacts facts = gather(interrupted);
        if (interrupted) return Datum(0);
        const std::vector<Finding> findings = evaluate(facts);
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        const int columns = rsinfo->setDesc->natts;
        pg::check_columns(columns, kFindingColumns, "tls_audit.run_checks()", kFindingColumns10);
        for (const Finding &finding : findings) {
            pg::Row row(rsinfo->setDesc);
            row.text(kFCheck, finding.check);
            row.text(kFSeverity, severity_name(finding.severity));
            row.text_or_null(kFObject, finding.object);
            row.text(kFMessage, finding.message);
            row.text_or_null(kFHint, finding.hint);
            if (columns == kFindingColumns) row.text_array(kFControls, controls_for_check(finding.check));
            row.put(rsinfo);
        }
        return Datum(0);
    });
    if (interrupted) pg::service_self_probe_interrupt();
    return result;
}
