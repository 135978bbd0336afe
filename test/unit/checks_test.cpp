// check_names(), severities and evaluate(): all checks at once over plain facts.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <set>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "checks/checks.hpp"
#include "checks_test_util.hpp"
#include "test_certs.hpp"
#include "certs/x509.hpp"


using namespace tls_audit;
using namespace tls_audit::test;

TEST(ChecksTest, SeverityNamesRoundTripAndOrder) {
    for (Severity s : {Severity::Ok, Severity::Info, Severity::Warning, Severity::Critical})
        EXPECT_EQ(parse_severity(severity_name(s)), s);
    EXPECT_FALSE(parse_severity("bad"));
    EXPECT_LT(Severity::Ok, Severity::Info);
    EXPECT_LT(Severity::Info, Severity::Warning);
    EXPECT_LT(Severity::Warning, Severity::Critical);
    EXPECT_EQ(worst_severity({}), Severity::Ok);
    EXPECT_EQ(worst_severity({Finding{"a", Severity::Info, "", "", ""}, Finding{"b", Severity::Warning, "", "", ""}}),
              Severity::Warning);
}

TEST(ChecksTest, CheckNamesAreStableAndUnique) {
    const auto &names = check_names();
    EXPECT_EQ(names.size(), 44u);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
    EXPECT_EQ(names.front(), "ssl_enabled");
    EXPECT_EQ(names.back(), "pooler_unreachable");
}

TEST(ChecksTest, NotAvailableIsInfo) {
    Finding f = not_available("crl_expiry", "no CRL view");
    EXPECT_EQ(f.check, "crl_expiry");
    EXPECT_EQ(f.severity, Severity::Info);
    EXPECT_EQ(f.message, "not available: no CRL view");
}

TEST(ChecksTest, FormatUtc) { EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC"); }


TEST(ChecksTest, EvaluateCleanServerIsAllOk) {
    auto findings = evaluate(clean_facts());
    EXPECT_EQ(checks_in(findings), check_names());
    EXPECT_EQ(findings.size(), check_names().size());
    // pq_key_exchange has no 'ok': a server offering a hybrid group is 'info'.
    for (const auto &f : findings)
        EXPECT_EQ(f.severity, f.check == "pq_key_exchange" ? Severity::Info : Severity::Ok)
            << f.check << ": " << f.message;
}

TEST(ChecksTest, EvaluateWithSslOff) {
    AuditFacts f = clean_facts();
    f.settings.ssl = false;
    auto findings = evaluate(f);
    EXPECT_EQ(checks_in(findings), check_names());
    EXPECT_EQ(findings[0].check, "ssl_enabled");
    EXPECT_EQ(findings[0].severity, Severity::Critical);
    for (const auto &x : findings) {
        if (x.check.rfind("server_", 0) == 0 || x.check == "weak_ciphers" || x.check == "min_protocol" ||
            x.check == "pq_key_exchange") {
            EXPECT_EQ(x.severity, Severity::Info) << x.check;
            EXPECT_EQ(x.message, "not applicable: ssl is off");
        }
    }
}

TEST(ChecksTest, EvaluateWithMissingInputs) {
    AuditFacts f = clean_facts();
    f.server = Input<ServerCertFacts>::none("function tls_audit.server_tls() does not exist");
    f.hba = Input<std::vector<HbaRule>>::none("permission denied for view pg_hba_file_rules");
    f.hba_matrix = Input<hba::Matrix>::none("permission denied for view pg_hba_file_rules");
    f.md5_roles = Input<std::vector<std::string>>::none("only superusers can read pg_authid");
    f.sessions = Input<std::vector<SessionFacts>>::none("no sessions view");
    f.census_save = Input<CensusSaveFacts>::none("pg_tls_audit is not in shared_preload_libraries");
    f.ciphers = Input<std::vector<CipherFacts>>::none("bad list");
    f.ca_certificates = Input<std::vector<CertInfo>>::none("no CA view");
    f.file_settings = Input<std::vector<FileSetting>>::none("permission denied for function pg_show_all_file_settings");
    f.preflight = Input<std::vector<PreflightStage>>::none("function tls_audit.reload_preflight() does not exist");
    f.last_reload = Input<std::optional<LastReload>>::none("pg_tls_audit is not in shared_preload_libraries");
    f.auto_reload = Input<AutoReloadFacts>::none("pg_tls_audit is not in shared_preload_libraries");
    f.outbound = Input<std::vector<OutboundLinkFacts>>::none("no outbound view");
    f.weak_auth = Input<std::vector<WeakAuthFacts>>::none("pg_tls_audit must be loaded via shared_preload_libraries");
    f.role_floor = Input<RoleFloorFacts>::none("permission denied for view pg_roles");
    f.census_completeness = Input<CensusCompleteness>::none("pg_tls_audit must be loaded via shared_preload_libraries");
    f.pq = Input<PqKeyExchangeFacts>::none("could not read the server's groups");
    f.poolers = Input<std::vector<PoolerFacts>>::none("tls_audit.poolers could not be parsed");
    auto findings = evaluate(f);
    EXPECT_EQ(checks_in(findings), check_names());
    int info = 0;
    for (const auto &x : findings) {
        if (x.severity == Severity::Info) {
            ++info;
            EXPECT_EQ(x.message.rfind("not available: ", 0), 0u) << x.message;
        }
    }
    // 7 server checks, server_tls_reload_would_fail, server_tls_reload_failed, server_tls_auto_reload,
    // weak_ciphers, ca_file_expiry, 5 hba, md5, 2 session checks, census_save_failed, settings_not_applied,
    // role_floor_unmatched, 4 outbound checks, weak_auth_in_use, census_incomplete, pq_key_exchange,
    // 7 pooler checks.
    EXPECT_EQ(info, 37);
}

TEST(ChecksTest, EvaluateReportsReloadWouldFail) {
    AuditFacts f = clean_facts();
    f.preflight = Input<std::vector<PreflightStage>>::of(stages_with("certificate", "no start line"));
    auto findings = evaluate(f);
    EXPECT_EQ(checks_in(findings), check_names());
    int critical = 0;
    for (const auto &x : findings)
        if (x.severity == Severity::Critical) {
            ++critical;
            EXPECT_EQ(x.check, "server_tls_reload_would_fail");
        }
    EXPECT_EQ(critical, 1);
}

TEST(ChecksTest, EvaluateReportsFailedReload) {
    AuditFacts f = clean_facts();
    LastReload failed;
    failed.at = f.now;
    failed.kind = "reload";
    failed.ok = false;
    failed.error = "could not load private key file \"server.key\": key values mismatch";
    f.last_reload = Input<std::optional<LastReload>>::of(failed);
    auto findings = evaluate(f);
    EXPECT_EQ(checks_in(findings), check_names());
    int critical = 0;
    for (const auto &x : findings)
        if (x.severity == Severity::Critical) {
            ++critical;
            EXPECT_EQ(x.check, "server_tls_reload_failed");
            EXPECT_NE(x.message.find("key values mismatch"), std::string::npos) << x.message;
        }
    EXPECT_EQ(critical, 1);
}
