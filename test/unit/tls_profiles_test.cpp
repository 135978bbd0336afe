// Mozilla profiles as data and the comparison of an enumeration with them.
#include <gtest/gtest.h>

#include <algorithm>

#include "probe/tls_profiles.hpp"

using namespace tls_audit;

namespace {

ProtocolSuites suites(Protocol p, std::vector<std::string> names, std::optional<bool> server_pref = false) {
    ProtocolSuites out;
    out.protocol = p;
    for (const auto &n : names) {
        auto d = describe_suite(n);
        EXPECT_TRUE(d) << n;
        if (d) out.suites.push_back(*d);
    }
    out.server_preference = out.suites.size() >= 2 ? server_pref : std::nullopt;
    return out;
}

Enumeration intermediate_server() {
    Enumeration e;
    e.ciphers.protocols = {suites(Protocol::TLSv1, {}), suites(Protocol::TLSv1_1, {}),
                           suites(Protocol::TLSv1_2, {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"}),
                           suites(Protocol::TLSv1_3, {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"})};
    e.groups.groups = {{Protocol::TLSv1_3, "x25519", true}, {Protocol::TLSv1_3, "P-256", true},
                       {Protocol::TLSv1_3, "x448", false}, {Protocol::TLSv1_2, "P-256", true}};
    return e;
}

CertInfo rsa_leaf(int bits = 2048, int days = 90) {
    CertInfo c;
    c.key_type = "RSA";
    c.key_bits = bits;
    c.signature_algorithm = "sha256WithRSAEncryption";
    c.not_before = 1700000000;
    c.not_after = c.not_before + static_cast<std::int64_t>(days) * 86400;
    return c;
}

std::vector<std::string> categories(const ProfileReport &r, bool required_only = true) {
    std::vector<std::string> out;
    for (const auto &d : r.deviations)
        if (d.required || !required_only) out.push_back(d.category + ":" + d.subject);
    return out;
}

}  // namespace

TEST(TlsProfiles, Data) {
    ASSERT_EQ(tls_profiles().size(), 3u);
    EXPECT_STREQ(kMozillaGuidelinesVersion, "5.7");
    const TlsProfile *modern = find_profile("modern");
    ASSERT_NE(modern, nullptr);
    EXPECT_EQ(modern->protocols, std::vector<Protocol>{Protocol::TLSv1_3});
    EXPECT_EQ(find_profile("intermediate")->suites.size(), 12u);  // 3 + 9
    EXPECT_EQ(find_profile("old")->dh_min_bits, 1024);
    EXPECT_TRUE(find_profile("old")->server_preference);
    EXPECT_EQ(find_profile("Modern"), nullptr);
    EXPECT_EQ(unknown_profile_error("x").sqlstate, sqlstate::kInvalidParameter);
    // Every suite named by a profile is a name OpenSSL knows, except 3DES that this build may lack.
    for (const auto &p : tls_profiles())
        for (const auto &s : p.suites)
            if (s != "DES-CBC3-SHA") {
                EXPECT_TRUE(describe_suite(s)) << p.name << " " << s;
            }
}

TEST(TlsProfiles, IntermediateCompliant) {
    CertInfo leaf = rsa_leaf();
    auto r = evaluate_profile(*find_profile("intermediate"), intermediate_server(), &leaf);
    EXPECT_TRUE(r.compliant);
    EXPECT_TRUE(r.deviations.empty()) << r.deviations[0].message;
}

TEST(TlsProfiles, ModernRejectsTls12RsaAndCertificate) {
    CertInfo leaf = rsa_leaf();
    auto r = evaluate_profile(*find_profile("modern"), intermediate_server(), &leaf);
    EXPECT_FALSE(r.compliant);
    auto c = categories(r);
    EXPECT_NE(std::find(c.begin(), c.end(), "protocol:TLSv1.2"), c.end());
    EXPECT_NE(std::find(c.begin(), c.end(), "cipher:ECDHE-RSA-AES128-GCM-SHA256"), c.end());
    EXPECT_NE(std::find(c.begin(), c.end(), "certificate_key:RSA"), c.end());
    EXPECT_NE(std::find(c.begin(), c.end(), "certificate_signature:sha256WithRSAEncryption"), c.end());
    EXPECT_EQ(std::find(c.begin(), c.end(), "protocol:TLSv1.3"), c.end());
}

TEST(TlsProfiles, Deviations) {
    Enumeration e = intermediate_server();
    e.ciphers.protocols[1] = suites(Protocol::TLSv1_1, {"AES128-SHA"});
    e.ciphers.protocols[2].server_preference = true;
    e.groups.groups.push_back({Protocol::TLSv1_3, "ffdhe2048", true});
    e.groups.dhe_accepted = true;
    e.groups.dhe_bits = 1024;
    CertInfo leaf = rsa_leaf(1024, 730);
    auto r = evaluate_profile(*find_profile("intermediate"), e, &leaf);
    EXPECT_FALSE(r.compliant);
    auto c = categories(r);
    for (const char *want : {"protocol:TLSv1.1", "cipher:AES128-SHA", "group:ffdhe2048", "dhe:1024",
                             "certificate_key:RSA 1024", "certificate_lifetime:730"})
        EXPECT_NE(std::find(c.begin(), c.end(), want), c.end()) << want;
    // The client-chooses rule is a recommendation only.
    auto all = categories(r, false);
    EXPECT_NE(std::find(all.begin(), all.end(), "preference:TLSv1.2"), all.end());
    EXPECT_EQ(std::find(c.begin(), c.end(), "preference:TLSv1.2"), c.end());

    // The same server against "old": TLS 1.1, AES128-SHA and DHE-1024 are fine.
    auto old = evaluate_profile(*find_profile("old"), e, &leaf);
    auto oc = categories(old);
    EXPECT_EQ(std::find(oc.begin(), oc.end(), "protocol:TLSv1.1"), oc.end());
    EXPECT_EQ(std::find(oc.begin(), oc.end(), "cipher:AES128-SHA"), oc.end());
    EXPECT_EQ(std::find(oc.begin(), oc.end(), "dhe:1024"), oc.end());
}

TEST(TlsProfiles, LifetimeRecommendationAndMissingLeaf) {
    CertInfo leaf = rsa_leaf(2048, 200);
    auto r = evaluate_profile(*find_profile("intermediate"), intermediate_server(), &leaf);
    EXPECT_TRUE(r.compliant);  // 200 days: more than the recommended 90, less than 366
    ASSERT_EQ(r.deviations.size(), 1u);
    EXPECT_FALSE(r.deviations[0].required);
    auto none = evaluate_profile(*find_profile("intermediate"), intermediate_server(), nullptr);
    EXPECT_FALSE(none.compliant);
}
