// The check of the extension's own settings (pg_file_settings rows).
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

TEST(ChecksSettingsTest, SettingsNotAppliedNamesEachRefusedLine) {
    EXPECT_TRUE(all_ok(check_settings_not_applied({})));
    std::vector<FileSetting> rows = {
        {"tls_audit.probe_allowed_hosts", "db1.example.com db2.example.com", "/data/postgresql.conf", 12,
         "setting could not be applied"},
        {"tls_audit.census_max", "abc", "/data/postgresql.conf", 13, "setting could not be applied"},
        {"tls_audit.min_protocol", "TLSv1.4", "", 0, ""},
    };
    auto f = check_settings_not_applied(rows);
    ASSERT_EQ(f.size(), 3u);
    EXPECT_EQ(f[0].check, "settings_not_applied");
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_EQ(f[0].object, "tls_audit.probe_allowed_hosts");
    EXPECT_NE(f[0].message.find("'db1.example.com db2.example.com' (/data/postgresql.conf line 12) is not in effect"),
              std::string::npos)
        << f[0].message;
    EXPECT_NE(f[0].message.find("no host may be probed"), std::string::npos) << f[0].message;
    EXPECT_EQ(f[1].severity, Severity::Warning);
    EXPECT_NE(f[1].message.find("default value applies"), std::string::npos) << f[1].message;
    EXPECT_EQ(f[2].severity, Severity::Critical);
    EXPECT_NE(f[2].message.find("(the configuration files)"), std::string::npos) << f[2].message;
    for (const auto &x : f) EXPECT_FALSE(x.hint.empty());
    EXPECT_TRUE(is_security_setting("TLS_AUDIT.Probe_Allowed_Hosts"));
    EXPECT_FALSE(is_security_setting("tls_audit.census_max"));
    // The per-role floor settings are security settings.
    EXPECT_TRUE(is_security_setting("tls_audit.role_min_protocol"));
    EXPECT_TRUE(is_security_setting("tls_audit.enforce_floor"));
    auto g = check_settings_not_applied({{"tls_audit.role_min_protocol", "etl=TLSv9", "/d/postgresql.conf", 3, ""}});
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].severity, Severity::Critical);
    EXPECT_NE(g[0].message.find("floors fail closed"), std::string::npos) << g[0].message;
}

// role_floor_unmatched: a warning per entry matching no role, critical with
// enforce_floor = on, the case variant in the hint; 'ok' otherwise.
TEST(ChecksSettingsTest, RoleFloorUnmatched) {
    RoleFloorFacts f;
    f.setting = "ETL_TEAM=TLSv1.3, ghost=TLSv1.3, app=TLSv1.2, *=TLSv1.2";
    f.roles = {"etl_team", "app", "postgres"};
    auto found = check_role_floor_unmatched(f);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].check, "role_floor_unmatched");
    EXPECT_EQ(found[0].severity, Severity::Warning);
    EXPECT_NE(found[0].object.find("ETL_TEAM"), std::string::npos) << found[0].object;
    EXPECT_NE(found[0].message.find("matches no role"), std::string::npos);
    EXPECT_NE(found[0].hint.find("role etl_team differs only in case"), std::string::npos) << found[0].hint;
    EXPECT_EQ(found[1].object, "ghost=TLSv1.3");
    EXPECT_EQ(found[1].hint.find("differs only in case"), std::string::npos);
    EXPECT_NE(found[1].hint.find("RENAME"), std::string::npos);

    f.enforce_on = true;
    for (const auto &x : check_role_floor_unmatched(f)) EXPECT_EQ(x.severity, Severity::Critical);

    f.roles.push_back("ETL_TEAM");
    f.roles.push_back("ghost");
    found = check_role_floor_unmatched(f);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].severity, Severity::Ok);
    f.setting = "";
    found = check_role_floor_unmatched(f);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].severity, Severity::Ok);
    EXPECT_NE(found[0].message.find("empty"), std::string::npos);
    f.setting = "a=TLSv9";  // cannot be in effect (the GUC refuses it): said, not guessed
    found = check_role_floor_unmatched(f);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].severity, Severity::Info);
}
