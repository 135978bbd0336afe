// pg_hba.conf and password-storage checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <set>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "checks.hpp"
#include "checks_test_util.hpp"
#include "test_certs.hpp"
#include "x509.hpp"


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
