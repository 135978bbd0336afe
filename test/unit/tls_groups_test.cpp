// The groups a server context offers (src/core/base/tls_groups.hpp), read from
// OpenSSL as PostgreSQL's settings configure it.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/openssl_compat.hpp"
#include "base/tls_groups.hpp"

using namespace tls_audit;

namespace {

bool has(const std::vector<std::string> &v, const std::string &x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST(TlsGroups, ListSettingIsResolvedToOpenSslNamesInOrder) {
    // PostgreSQL 18's default: aliases come back as OpenSSL names them.
    auto groups = offered_groups_for_setting("X25519:prime256v1", true);
    ASSERT_TRUE(groups.ok()) << groups.error().message;
    EXPECT_EQ(groups.value(), (std::vector<std::string>{"x25519", "secp256r1"}));
}

TEST(TlsGroups, OneCurveSettingOffersThatCurveOnly) {
    // ssl_ecdh_curve up to 17: one curve, by its short name.
    auto groups = offered_groups_for_setting("prime256v1", false);
    ASSERT_TRUE(groups.ok()) << groups.error().message;
    EXPECT_EQ(groups.value(), (std::vector<std::string>{"secp256r1"}));
    auto p384 = offered_groups_for_setting("secp384r1", false);
    ASSERT_TRUE(p384.ok());
    EXPECT_EQ(p384.value(), (std::vector<std::string>{"secp384r1"}));
}

TEST(TlsGroups, EmptySettingLeavesOpenSslsDefault) {
    auto groups = offered_groups_for_setting("", true);
    ASSERT_TRUE(groups.ok());
    EXPECT_TRUE(has(groups.value(), "x25519"));
    // OpenSSL 3.5's default puts the hybrid group first; older ones have none.
    EXPECT_EQ(has(groups.value(), "X25519MLKEM768"), !available_hybrid_groups().empty());
}

TEST(TlsGroups, UnknownNamesAreErrors) {
    for (const auto &[value, list] : {std::pair<std::string, bool>{"nosuchgroup", true}, {"nosuchcurve", false},
                                      {"X25519:bogus", true}, {"X25519:prime256v1", false}}) {
        auto groups = offered_groups_for_setting(value, list);
        ASSERT_FALSE(groups.ok()) << value;
        EXPECT_EQ(groups.error().sqlstate, std::string(sqlstate::kInvalidParameter));
        EXPECT_NE(groups.error().message.find(value), std::string::npos) << groups.error().message;
    }
}

TEST(TlsGroups, HybridGroupsOnlyWhenThisOpenSslHasThem) {
    const auto hybrid = available_hybrid_groups();
    EXPECT_EQ(openssl_compat::group_available("X25519MLKEM768"), has(hybrid, "X25519MLKEM768"));
    if (hybrid.empty()) {
        // OpenSSL before 3.5: the setting is refused, as the server would refuse it.
        EXPECT_FALSE(offered_groups_for_setting("X25519MLKEM768:X25519", true).ok());
        return;
    }
    auto groups = offered_groups_for_setting("X25519MLKEM768:X25519:prime256v1", true);
    ASSERT_TRUE(groups.ok()) << groups.error().message;
    EXPECT_EQ(groups.value(), (std::vector<std::string>{"X25519MLKEM768", "x25519", "secp256r1"}));
}

TEST(TlsGroups, ClientHelloParserIsBoundsChecked) {
    // A minimal ClientHello record with supported_groups = x25519 (0x001d), secp256r1 (0x0017).
    const std::vector<unsigned char> hello = {
        22, 3, 1, 0, 0x35,                 // record: handshake, length (unchecked)
        1, 0, 0, 0x31,                     // client_hello
        3, 3,                              // legacy_version
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // random
        0,                                 // session id
        0, 2, 0x13, 0x01,                  // cipher suites
        1, 0,                              // compression
        0, 10,                             // extensions
        0, 10, 0, 6, 0, 4, 0, 0x1d, 0, 0x17};
    EXPECT_EQ(client_hello_groups(hello.data(), hello.size()), (std::vector<std::uint16_t>{0x1d, 0x17}));
    // Every truncation is refused, never read past.
    for (std::size_t n = 0; n < hello.size(); ++n)
        EXPECT_TRUE(client_hello_groups(hello.data(), n).empty()) << n;
    // Not a handshake record.
    auto alert = hello;
    alert[0] = 21;
    EXPECT_TRUE(client_hello_groups(alert.data(), alert.size()).empty());
    // A list longer than its extension.
    auto bad = hello;
    bad[bad.size() - 5] = 8;
    EXPECT_TRUE(client_hello_groups(bad.data(), bad.size()).empty());
}
