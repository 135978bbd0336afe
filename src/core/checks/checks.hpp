// The checks behind tls_audit.run_checks(): plain facts in, findings out.
//
// Every check_* function returns at least one Finding: the problems it found,
// or a single 'ok' row saying what was checked. A check whose input could not
// be gathered reports one 'info' row instead (see not_available()). Nothing
// here reads files, settings or catalogs: the PostgreSQL glue gathers the
// facts and passes them in, so every rule is unit-tested on its own.
//
// The checks live in one file per area, beside their unit tests
// (test/unit/checks_<area>_test.cpp):
//   checks_protocols     ssl, protocol range, ciphers, key-exchange groups
//   checks_certificates  server certificate, key, CA file, CRLs, reload
//   checks_hba           pg_hba.conf lines, password storage
//   checks_sessions      connected sessions
//   checks_settings      the extension's own settings
//   checks_outbound      the server's own outbound links (replication, subscriptions, FDW)
//   checks_auth          how clients authenticated (connection census)
//   checks_pq            post-quantum (hybrid ML-KEM) key exchange
//   checks_pooler        pgbouncer poolers (tls_audit.poolers)
// A new check goes into its area's file and is listed in check_names() and
// evaluate() (checks.cpp).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checks/checks_auth.hpp"
#include "checks/checks_pq.hpp"
#include "checks/checks_pooler.hpp"
#include "checks/checks_certificates.hpp"
#include "checks/checks_hba.hpp"
#include "checks/checks_outbound.hpp"
#include "checks/checks_protocols.hpp"
#include "checks/checks_sessions.hpp"
#include "checks/checks_settings.hpp"
#include "checks/finding.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// The stable check names, in the order run_checks() reports them.
const std::vector<std::string> &check_names();

// All checks at once

// One gathered input: its value, or why it could not be gathered.
template <class T> struct Input {
    std::optional<T> value;
    std::string missing;  // e.g. "permission denied for view pg_hba_file_rules"

    static Input of(T v) { return Input{std::move(v), {}}; }
    static Input none(std::string why) { return Input{std::nullopt, std::move(why)}; }
};

struct AuditFacts {
    ServerSettings settings;
    std::string ca_file;   // ssl_ca_file
    // Where the server's CRLs come from, for messages: ssl_crl_file, ssl_crl_dir,
    // or both as "FILE and DIR"; empty when neither is set.
    std::string crl_source;
    Protocol floor = Protocol::TLSv1_2;  // tls_audit.min_protocol
    Thresholds thresholds;
    std::int64_t now = 0;
    Input<std::vector<CipherFacts>> ciphers;     // enabled_ciphers() of the settings
    // The groups the running server offers and its OpenSSL's hybrid groups (server_tls())
    Input<PqKeyExchangeFacts> pq = Input<PqKeyExchangeFacts>::none("not gathered");
    Input<ServerCertFacts> server;               // server_tls() + server_certificates
    Input<std::vector<CertInfo>> ca_certificates;  // ca_certificates
    Input<std::vector<CrlFacts>> crls;           // the CRLs of ssl_crl_file and ssl_crl_dir
    Input<std::vector<CaCrlCoverage>> ca_crl_coverage;  // ca_certificates (crl_present)
    Input<std::vector<PreflightStage>> preflight;  // reload_preflight()
    Input<std::optional<LastReload>> last_reload;  // reload_history (nullopt inside: none recorded)
    Input<AutoReloadFacts> auto_reload;            // auto_reload_status
    Input<std::vector<HbaRule>> hba;             // pg_hba_file_rules
    Input<hba::Matrix> hba_matrix;               // pg_hba_file_rules with roles, databases, interfaces
    Input<std::vector<std::string>> md5_roles;   // roles with MD5 hashes (superuser only)
    Input<std::vector<SessionFacts>> sessions;   // tls_audit.sessions
    Input<CensusSaveFacts> census_save;          // tls_audit.census_info() (preloaded only)
    Input<std::vector<FileSetting>> file_settings;  // tls_audit.* rows of pg_file_settings with an error
    Input<std::vector<OutboundLinkFacts>> outbound;  // tls_audit.outbound_connections (+ root certificates)
    // tls_audit.auth_readiness('scram-sha-256') within thresholds.warning_days
    Input<std::vector<WeakAuthFacts>> weak_auth = Input<std::vector<WeakAuthFacts>>::none("not gathered");
    Input<RoleFloorFacts> role_floor = Input<RoleFloorFacts>::none("not gathered");  // + pg_authid.rolname
    // tls_audit.floor_readiness_summary(): complete, evicted_since
    Input<CensusCompleteness> census_completeness = Input<CensusCompleteness>::none("not gathered");
    // The poolers of tls_audit.poolers, each read or not (an empty list: none configured)
    Input<std::vector<PoolerFacts>> poolers = Input<std::vector<PoolerFacts>>::none("not gathered");
};

// Every check of check_names(), in that order: the findings of each, or its
// 'ok' row, or one 'info' row when its input is missing. With ssl off, the
// checks of the server's TLS configuration report 'info' (not applicable).
std::vector<Finding> evaluate(const AuditFacts &facts);

}  // namespace tls_audit
