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
    auto g = [](Protocol p, const char *name, bool ok) {
        return GroupSupport{p, name, ok ? GroupStatus::Supported : GroupStatus::NotSupported, ok, {}};
    };
    e.groups.groups = {g(Protocol::TLSv1_3, "x25519", true), g(Protocol::TLSv1_3, "P-256", true),
                       g(Protocol::TLSv1_3, "x448", false), g(Protocol::TLSv1_2, "P-256", true)};
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
    EXPECT_EQ(find_profile("intermediate")->ciphersuites.size() + find_profile("intermediate")->ciphers.size(),
              12u);  // 3 + 9
    EXPECT_EQ(find_profile("old")->dh_min_bits, 1024);
    EXPECT_TRUE(find_profile("old")->server_preference);
    EXPECT_EQ(find_profile("Modern"), nullptr);
    EXPECT_EQ(unknown_profile_error("x").sqlstate, sqlstate::kInvalidParameter);
    // Every suite named by a profile is a name OpenSSL knows, except 3DES that this build may lack.
    for (const auto &p : tls_profiles())
        for (const auto *list : {&p.ciphersuites, &p.ciphers})
            for (const auto &s : *list)
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
    e.groups.groups.push_back({Protocol::TLSv1_3, "ffdhe2048", GroupStatus::Supported, true, {}});
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

namespace {

CertInfo ec_leaf(std::int64_t seconds, std::string curve = "prime256v1") {
    CertInfo c;
    c.key_type = "EC";
    c.key_bits = 256;
    c.key_curve = std::move(curve);
    c.signature_algorithm = "ecdsa-with-SHA256";
    c.not_before = 1700000000;
    c.not_after = c.not_before + seconds;
    return c;
}

Enumeration tls13_only_server() {
    Enumeration e;
    e.ciphers.protocols = {suites(Protocol::TLSv1_2, {}),
                           suites(Protocol::TLSv1_3, {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"})};
    e.groups.groups = {{Protocol::TLSv1_3, "x25519", GroupStatus::Supported, true, {}},
                       {Protocol::TLSv1_3, "P-256", GroupStatus::Supported, true, {}}};
    return e;
}

bool has(const ProfileReport &r, const std::string &what, bool required_only = true) {
    auto c = categories(r, required_only);
    return std::find(c.begin(), c.end(), what) != c.end();
}

}  // namespace

// Each profile's own lifespan limit, at the second: 90 days for modern, 366
// for intermediate and old (Mozilla 5.7 maximum_certificate_lifespan).
TEST(TlsProfiles, LifespanLimitPerProfile) {
    const std::int64_t day = 86400;
    CertInfo in90 = ec_leaf(90 * day), out90 = ec_leaf(90 * day + 1), at200 = ec_leaf(200 * day);
    const TlsProfile &modern = *find_profile("modern");
    EXPECT_TRUE(evaluate_profile(modern, tls13_only_server(), &in90).compliant);
    auto r = evaluate_profile(modern, tls13_only_server(), &out90);
    EXPECT_FALSE(r.compliant);
    EXPECT_TRUE(has(r, "certificate_lifetime:91"));
    EXPECT_FALSE(evaluate_profile(modern, tls13_only_server(), &at200).compliant);

    const TlsProfile &intermediate = *find_profile("intermediate");
    CertInfo in366 = ec_leaf(366 * day), out366 = ec_leaf(366 * day + 1);
    r = evaluate_profile(intermediate, tls13_only_server(), &in366);
    EXPECT_TRUE(r.compliant);
    EXPECT_TRUE(has(r, "certificate_lifetime:366", false));  // over the recommended 90: a recommendation
    r = evaluate_profile(intermediate, tls13_only_server(), &out366);
    EXPECT_FALSE(r.compliant);
    EXPECT_TRUE(has(r, "certificate_lifetime:367"));
    CertInfo rsa366 = rsa_leaf(2048, 366), rsa367 = rsa_leaf(2048, 367);
    EXPECT_FALSE(has(evaluate_profile(*find_profile("old"), tls13_only_server(), &rsa366), "certificate_lifetime:366"));
    EXPECT_TRUE(has(evaluate_profile(*find_profile("old"), tls13_only_server(), &rsa367), "certificate_lifetime:367"));
    // A certificate whose notAfter is before its notBefore has no lifespan to exceed.
    CertInfo backwards = ec_leaf(-day);
    EXPECT_FALSE(has(evaluate_profile(modern, tls13_only_server(), &backwards), "certificate_lifetime:0", false));
}

// old allows RSA keys signed with sha256WithRSAEncryption only.
TEST(TlsProfiles, OldAllowsOnlyRsaSha256) {
    const TlsProfile &old = *find_profile("old");
    CertInfo ec = ec_leaf(90 * 86400);
    auto r = evaluate_profile(old, tls13_only_server(), &ec);
    EXPECT_FALSE(r.compliant);
    EXPECT_TRUE(has(r, "certificate_key:EC"));
    EXPECT_TRUE(has(r, "certificate_signature:ecdsa-with-SHA256"));
    CertInfo rsa = rsa_leaf(2048, 90);
    EXPECT_TRUE(evaluate_profile(old, tls13_only_server(), &rsa).compliant);
    rsa.signature_algorithm = "sha384WithRSAEncryption";
    EXPECT_TRUE(has(evaluate_profile(old, tls13_only_server(), &rsa), "certificate_signature:sha384WithRSAEncryption"));
    // The same P-256 certificate complies with intermediate and modern.
    EXPECT_TRUE(evaluate_profile(*find_profile("intermediate"), tls13_only_server(), &ec).compliant);
    EXPECT_TRUE(evaluate_profile(*find_profile("modern"), tls13_only_server(), &ec).compliant);
}

// TLS 1.3 suites are judged against "ciphersuites", older ones against "ciphers".
TEST(TlsProfiles, SuitesJudgedPerVersion) {
    Enumeration e = tls13_only_server();
    e.ciphers.protocols[0] = suites(Protocol::TLSv1_2, {"ECDHE-RSA-AES128-GCM-SHA256"});
    CertInfo rsa = rsa_leaf(2048, 90);
    auto r = evaluate_profile(*find_profile("intermediate"), e, &rsa);
    EXPECT_TRUE(r.compliant) << (r.deviations.empty() ? "" : r.deviations[0].message);
    r = evaluate_profile(*find_profile("modern"), e, &rsa);
    EXPECT_TRUE(has(r, "cipher:ECDHE-RSA-AES128-GCM-SHA256"));
    EXPECT_FALSE(has(r, "cipher:TLS_AES_128_GCM_SHA256"));
}
