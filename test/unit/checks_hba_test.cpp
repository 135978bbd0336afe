// pg_hba.conf and password-storage checks.
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

TEST(ChecksHbaTest, PasswordEncryption) {
    ServerSettings s;
    s.password_encryption = "scram-sha-256";
    EXPECT_TRUE(all_ok(check_password_encryption(s)));
    s.password_encryption = "md5";
    EXPECT_EQ(check_password_encryption(s)[0].severity, Severity::Warning);
    EXPECT_EQ(check_password_encryption(s)[0].message.find("deprecated"), std::string::npos);
    s.md5_deprecated = true;  // PostgreSQL 18
    EXPECT_NE(check_password_encryption(s)[0].message.find("deprecated since PostgreSQL 18"), std::string::npos);
}


TEST(ChecksHbaTest, LoopbackRules) {
    EXPECT_TRUE(is_loopback_rule(rule(1, "host", "127.0.0.1", "255.255.255.255", "md5")));
    EXPECT_TRUE(is_loopback_rule(rule(1, "host", "127.0.0.0", "255.0.0.0", "md5")));
    EXPECT_TRUE(is_loopback_rule(rule(1, "host", "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "md5")));
    EXPECT_FALSE(is_loopback_rule(rule(1, "host", "127.0.0.0", "0.0.0.0", "md5")));
    EXPECT_FALSE(is_loopback_rule(rule(1, "host", "10.0.0.0", "255.0.0.0", "md5")));
    EXPECT_FALSE(is_loopback_rule(rule(1, "host", "all", "", "md5")));
    EXPECT_FALSE(is_loopback_rule(rule(1, "host", "samenet", "", "md5")));
}

TEST(ChecksHbaTest, HbaRules) {
    std::vector<HbaRule> clean = {rule(1, "local", "", "", "peer"),
                                  rule(2, "hostssl", "0.0.0.0", "0.0.0.0", "scram-sha-256"),
                                  rule(3, "hostnossl", "0.0.0.0", "0.0.0.0", "reject"),
                                  rule(4, "host", "all", "", "reject"),
                                  rule(5, "hostssl", "all", "", "cert")};
    EXPECT_TRUE(all_ok(check_hba_hostnossl(clean)));
    EXPECT_TRUE(all_ok(check_hba_host_without_ssl(clean, true)));
    EXPECT_TRUE(all_ok(check_hba_weak_auth(clean)));

    std::vector<HbaRule> bad = {rule(1, "local", "", "", "trust"),
                                rule(2, "hostnossl", "10.0.0.0", "255.0.0.0", "scram-sha-256"),
                                rule(3, "hostnossl", "127.0.0.1", "255.255.255.255", "scram-sha-256"),
                                rule(4, "host", "0.0.0.0", "0.0.0.0", "md5"),
                                rule(5, "hostssl", "all", "", "password"),
                                rule(6, "host", "all", "", "password"),
                                rule(7, "hostssl", "127.0.0.1", "255.255.255.255", "trust")};
    auto nossl = check_hba_hostnossl(bad);
    ASSERT_EQ(nossl.size(), 2u);
    EXPECT_EQ(nossl[0].object, "pg_hba.conf line 2");
    EXPECT_EQ(nossl[0].severity, Severity::Warning);
    EXPECT_EQ(nossl[1].severity, Severity::Info);  // loopback only

    auto host = check_hba_host_without_ssl(bad, true);
    ASSERT_EQ(host.size(), 2u);
    EXPECT_TRUE(has_object(host, "pg_hba.conf line 4"));
    EXPECT_TRUE(has_object(host, "pg_hba.conf line 6"));

    auto weak = check_hba_weak_auth(bad);
    ASSERT_EQ(weak.size(), 4u);  // not line 1: local trust is not TCP
    EXPECT_FALSE(has_object(weak, "pg_hba.conf line 1"));
    for (const auto &f : weak) {
        Severity want = Severity::Critical;  // line 6: password maybe plain; line 7: trust
        if (f.object == "pg_hba.conf line 4" || f.object == "pg_hba.conf line 5") {
            want = Severity::Warning;  // md5; password inside TLS
        }
        EXPECT_EQ(f.severity, want) << f.object;
    }
}

// A line pg_hba_file_rules reports with an error can never match (hostssl
// while ssl is off): no hba check judges it, as pg_hba_file_rules' own
// error column says (the rule sql/checks.sql compares with).
TEST(ChecksHbaTest, LinesWithAnErrorNeverMatch) {
    const std::string why = "hostssl record cannot match because SSL is disabled";
    std::vector<HbaRule> rules = {rule(2, "hostssl", "127.0.0.1", "255.255.255.255", "trust"),
                                  rule(3, "hostnossl", "10.0.0.0", "255.0.0.0", "trust"),
                                  rule(4, "host", "10.0.0.0", "255.0.0.0", "md5")};
    for (auto &r : rules) r.error = why;
    for (const auto &found : {check_hba_weak_auth(rules), check_hba_hostnossl(rules),
                              check_hba_host_without_ssl(rules, false)}) {
        ASSERT_EQ(found.size(), 1u);
        EXPECT_EQ(found[0].severity, Severity::Ok) << found[0].check << ": " << found[0].message;
    }
    rules[0].error.clear();
    const auto weak = check_hba_weak_auth(rules);
    ASSERT_EQ(weak.size(), 1u);
    EXPECT_EQ(weak[0].object, "pg_hba.conf line 2");
    EXPECT_EQ(weak[0].severity, Severity::Critical);
}

TEST(ChecksHbaTest, Md5Passwords) {
    EXPECT_TRUE(all_ok(check_md5_passwords({})));
    auto f = check_md5_passwords({"alice", "bob"});
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_NE(f[0].message.find("2 roles"), std::string::npos);
    EXPECT_NE(f[0].message.find("alice, bob"), std::string::npos);
    std::vector<std::string> many(25, "r");
    EXPECT_NE(check_md5_passwords(many)[0].message.find("and 15 more"), std::string::npos);
}

namespace {

hba::Rule matrix_line(int n, const char *type, const char *address, const char *netmask, const char *method) {
    hba::Rule r;
    r.order = r.line_number = n;
    r.type = type;
    r.databases = {"all"};
    r.roles = {"all"};
    r.address = address;
    r.netmask = netmask;
    r.auth_method = method;
    return r;
}

hba::Matrix matrix(std::vector<hba::Rule> rules) {
    hba::Matrix m;
    m.rules = std::move(rules);
    m.env.roles = {"postgres", "app"};
    m.env.databases = {"postgres"};
    m.env.ssl = true;
    return m;
}

}  // namespace

TEST(ChecksHbaTest, PlaintextReachableFollowsFirstMatch) {
    // hostssl after host does not protect: line 2 is reachable in the clear,
    // from private addresses (critical) and loopback (info).
    auto m = matrix({matrix_line(1, "host", "127.0.0.1", "255.255.255.255", "scram-sha-256"),
                     matrix_line(2, "host", "10.0.0.0", "255.0.0.0", "scram-sha-256"),
                     matrix_line(3, "hostssl", "10.0.0.0", "255.0.0.0", "scram-sha-256"),
                     matrix_line(4, "hostssl", "0.0.0.0", "0.0.0.0", "scram-sha-256")});
    auto f = check_hba_plaintext_reachable(m);
    ASSERT_EQ(f.size(), 2U);
    EXPECT_EQ(f[0].severity, Severity::Info);
    EXPECT_EQ(f[0].object, "pg_hba.conf line 1");
    EXPECT_EQ(f[1].severity, Severity::Critical);
    EXPECT_EQ(f[1].object, "pg_hba.conf line 2");
    EXPECT_NE(f[1].message.find("private"), std::string::npos) << f[1].message;
    EXPECT_FALSE(f[1].hint.empty());

    // A reject for unencrypted TCP first: nothing reachable in the clear.
    m = matrix({matrix_line(1, "hostnossl", "all", "", "reject"), matrix_line(2, "host", "all", "", "md5")});
    EXPECT_TRUE(all_ok(check_hba_plaintext_reachable(m)));
    // ... but a partial reject leaves the rest reachable, and says so.
    m = matrix({matrix_line(1, "hostnossl", "10.0.0.0", "255.0.0.0", "reject"), matrix_line(2, "host", "all", "", "md5")});
    f = check_hba_plaintext_reachable(m);
    ASSERT_EQ(f.size(), 1U);
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_NE(f[0].message.find("earlier line(s) 1"), std::string::npos) << f[0].message;
    // With ssl off every host line is plaintext.
    m = matrix({matrix_line(1, "hostssl", "all", "", "scram-sha-256"), matrix_line(2, "host", "all", "", "scram-sha-256")});
    EXPECT_TRUE(all_ok(check_hba_plaintext_reachable(m)) == false);
    m.env.ssl = false;
    f = check_hba_plaintext_reachable(m);
    ASSERT_EQ(f.size(), 1U);
    EXPECT_EQ(f[0].object, "pg_hba.conf line 2");
}

TEST(ChecksHbaTest, ShadowedLine) {
    auto m = matrix({matrix_line(1, "host", "all", "", "scram-sha-256"),
                     matrix_line(2, "hostssl", "10.0.0.0", "255.0.0.0", "cert")});
    auto f = check_hba_shadowed_line(m);
    ASSERT_EQ(f.size(), 1U);
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_EQ(f[0].object, "pg_hba.conf line 2");
    EXPECT_NE(f[0].message.find("pg_hba.conf line 1"), std::string::npos);
    m = matrix({matrix_line(1, "hostssl", "10.0.0.0", "255.0.0.0", "cert"),
                matrix_line(2, "host", "all", "", "scram-sha-256")});
    EXPECT_TRUE(all_ok(check_hba_shadowed_line(m)));
}
