// The post-quantum key exchange check (src/core/checks/checks_pq.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "checks/checks.hpp"

using namespace tls_audit;

namespace {

PqKeyExchangeFacts facts(int version, bool hybrid, std::vector<std::string> offered, std::string setting) {
    PqKeyExchangeFacts f;
    f.server_version_num = version;
    f.openssl_version = hybrid ? "OpenSSL 3.5.1" : "OpenSSL 3.0.17";
    f.openssl_has_hybrid = hybrid;
    f.offered_groups = std::move(offered);
    f.setting_value = std::move(setting);
    return f;
}

}  // namespace

TEST(ChecksPq, HybridOfferedIsInfo) {
    auto out = check_pq_key_exchange(
        facts(180001, true, {"X25519MLKEM768", "x25519", "secp256r1"}, "X25519MLKEM768:X25519:prime256v1"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].check, "pq_key_exchange");
    EXPECT_EQ(out[0].severity, Severity::Info);
    EXPECT_NE(out[0].message.find("offers the hybrid post-quantum key exchange X25519MLKEM768"), std::string::npos)
        << out[0].message;
    EXPECT_TRUE(out[0].hint.empty());
}

TEST(ChecksPq, DefaultSslGroupsOn18Warns) {
    auto out = check_pq_key_exchange(facts(180001, true, {"x25519", "secp256r1"}, "X25519:prime256v1"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].severity, Severity::Warning);
    EXPECT_EQ(out[0].object, "ssl_groups");
    EXPECT_NE(out[0].message.find("OpenSSL 3.5.1"), std::string::npos);
    EXPECT_NE(out[0].hint.find("Set ssl_groups = 'X25519MLKEM768:X25519:prime256v1' in postgresql.conf"),
              std::string::npos)
        << out[0].hint;
    // The hint keeps the server's own groups after the hybrid one.
    EXPECT_EQ(pq_groups_setting_line("P-384"), "ssl_groups = 'X25519MLKEM768:P-384'");
    EXPECT_EQ(pq_groups_setting_line(""), "ssl_groups = 'X25519MLKEM768:X25519:prime256v1'");
}

TEST(ChecksPq, OneCurveUpTo17NeedsPostgres18) {
    auto out = check_pq_key_exchange(facts(170006, true, {"secp256r1"}, "prime256v1"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].severity, Severity::Warning);
    EXPECT_EQ(out[0].object, "ssl_ecdh_curve");
    EXPECT_NE(out[0].message.find("PostgreSQL 18 is needed"), std::string::npos) << out[0].message;
    EXPECT_NE(out[0].message.find("ssl_ecdh_curve = 'prime256v1'"), std::string::npos);
}

TEST(ChecksPq, OldOpenSslIsInfoWithItsVersion) {
    for (int v : {150018, 180001}) {
        auto out = check_pq_key_exchange(facts(v, false, {"x25519", "secp256r1"}, "X25519:prime256v1"));
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(out[0].severity, Severity::Info);
        EXPECT_NE(out[0].message.find("not supported by this OpenSSL 3.0.17"), std::string::npos) << out[0].message;
    }
}

TEST(ChecksPq, HybridNames) {
    for (const char *g : {"X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024", "x25519mlkem768"})
        EXPECT_TRUE(is_hybrid_group_name(g)) << g;
    for (const char *g : {"x25519", "secp256r1", "ffdhe2048", "", "MLKEM"})
        EXPECT_EQ(is_hybrid_group_name(g), std::string(g) == "MLKEM") << g;
}
