// Checks of connected sessions.
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

TEST(ChecksSessionsTest, SessionsBelowFloorAreGrouped) {
    std::vector<SessionFacts> sessions(4);
    sessions[0] = {101, "app", "db", "10.0.0.5", "tls", "TLSv1.1", true, "TLSv1.1 < TLSv1.2", "", std::nullopt};
    sessions[1] = {102, "app", "db", "10.0.0.5", "tls", "TLSv1.1", true, "TLSv1.1 < TLSv1.2", "", std::nullopt};
    sessions[2] = {103, "app", "db", "10.0.0.6", "tcp", "", true, "no TLS", "", std::nullopt};
    sessions[3] = {104, "app", "db", "", "unix", "", false, "", "", std::nullopt};
    auto f = check_sessions_below_floor(sessions);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].object, "app@db from 10.0.0.5");
    EXPECT_NE(f[0].message.find("2 sessions"), std::string::npos);
    EXPECT_NE(f[0].message.find("101, 102"), std::string::npos);
    EXPECT_NE(f[1].message.find("no TLS"), std::string::npos);
    EXPECT_TRUE(all_ok(check_sessions_below_floor({sessions[3]})));
}

TEST(ChecksSessionsTest, ClientCertExpiry) {
    const std::int64_t n = now();
    std::vector<SessionFacts> sessions(3);
    sessions[0] = {201, "a", "db", "", "tls", "TLSv1.3", false, "", "CN=soon", n + 3 * kDay};
    sessions[1] = {202, "a", "db", "", "tls", "TLSv1.3", false, "", "CN=later", n + 20 * kDay};
    sessions[2] = {203, "a", "db", "", "tls", "TLSv1.3", false, "", "CN=fine", n + 200 * kDay};
    auto f = check_client_cert_expiry(sessions, Thresholds{}, n);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].object, "CN=later");
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_EQ(f[1].object, "CN=soon");
    EXPECT_EQ(f[1].severity, Severity::Critical);
    EXPECT_TRUE(all_ok(check_client_cert_expiry({sessions[2]}, Thresholds{}, n)));
    EXPECT_TRUE(all_ok(check_client_cert_expiry({}, Thresholds{}, n)));
}

// A failed census save is a warning until a save succeeds.
TEST(ChecksSessionsTest, CensusSaveFailed) {
    auto ok = check_census_save_failed({"2026-11-30 12:00:00+00", ""});
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(ok[0].severity, Severity::Ok);
    EXPECT_EQ(ok[0].check, "census_save_failed");
    EXPECT_NE(ok[0].message.find("2026-11-30 12:00:00+00"), std::string::npos);
    EXPECT_TRUE(all_ok(check_census_save_failed({"", ""})));

    auto failed = check_census_save_failed({"2026-11-30 12:00:00+00", "could not create \"x\": Permission denied"});
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].severity, Severity::Warning);
    EXPECT_EQ(failed[0].object, "census file pg_stat/pg_tls_audit_census");
    EXPECT_NE(failed[0].message.find("Permission denied"), std::string::npos);
    EXPECT_NE(failed[0].message.find("last successful save was at 2026-11-30 12:00:00+00"), std::string::npos);
    EXPECT_FALSE(failed[0].hint.empty());

    auto never = check_census_save_failed({"", "could not fsync \"x\": Input/output error"});
    ASSERT_EQ(never.size(), 1u);
    EXPECT_EQ(never[0].severity, Severity::Warning);
    EXPECT_NE(never[0].message.find("no save has succeeded"), std::string::npos);
}
