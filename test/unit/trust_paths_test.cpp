// Trust-store readiness: each server chain of a root migration verified
// against each bundle, compared cell by cell with `openssl verify`.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "test_certs.hpp"
#include "certs/trust_paths.hpp"
#include "certs/x509.hpp"

using namespace tls_audit;

namespace {

std::string path(const std::string &name) { return test::cert_dir() + "/" + name; }

std::vector<X509Ptr> chain_of(const std::string &file) {
    auto parsed = parse_certificates(test::read_cert_file(file));
    EXPECT_TRUE(parsed.ok()) << file;
    return parsed.ok() ? std::move(parsed).value() : std::vector<X509Ptr>{};
}

std::vector<X509 *> raw(const std::vector<X509Ptr> &v) {
    std::vector<X509 *> out;
    for (const auto &c : v) out.push_back(c.get());
    return out;
}

struct OpensslVerdict {
    bool ok = false;
    std::string anchor_line;  // the last "depth=N: ..." line of -show_chain
};

// `openssl verify -show_chain -CAfile BUNDLE -untrusted CHAIN LEAF`.
OpensslVerdict openssl_verify(const std::string &bundle, const std::string &chain) {
    std::string cmd = "OPENSSL_CONF=/dev/null openssl verify -show_chain -nameopt RFC2253 -purpose sslserver -CAfile '" + path(bundle) +
                      "' -untrusted '" + path(chain) + "' '" + path("rollover-server.crt") + "' 2>&1";
    OpensslVerdict v;
    FILE *p = popen(cmd.c_str(), "r");
    if (p == nullptr) return v;
    char line[1024];
    std::string all;
    while (fgets(line, sizeof line, p) != nullptr) {
        std::string l(line);
        all += l;
        if (l.rfind("depth=", 0) == 0) v.anchor_line = l;
    }
    v.ok = pclose(p) == 0 && all.find(": OK\n") != std::string::npos;
    return v;
}

}  // namespace

TEST(TrustPathTest, MatrixEqualsOpensslVerify) {
    const char *bundles[] = {"rollover-bundle-old.crt", "rollover-bundle-new.crt", "rollover-bundle-both.crt"};
    const char *chains[] = {"rollover-a-chain.crt", "rollover-b-chain.crt", "rollover-c-chain.crt"};
    int verified_cells = 0, failed_cells = 0;
    for (const char *c : chains) {
        auto chain = chain_of(c);
        ASSERT_GE(chain.size(), 2u);
        for (const char *b : bundles) {
            auto bundle = load_trust_bundle(path(b));
            ASSERT_TRUE(bundle.ok()) << bundle.error().message;
            TrustPathReport r = verify_trust_path(raw(chain), bundle.value());
            OpensslVerdict o = openssl_verify(b, c);
            SCOPED_TRACE(std::string(b) + " x " + c);
            EXPECT_EQ(r.verified, o.ok) << r.error;
            EXPECT_EQ(r.bundle, path(b));
            if (r.verified) {
                ++verified_cells;
                EXPECT_EQ(r.path_length, 3);
                ASSERT_EQ(r.path.size(), 3u);
                EXPECT_EQ(r.path.back(), r.anchor_subject);
                EXPECT_NE(o.anchor_line.find(": " + r.anchor_subject + "\n"), std::string::npos)
                    << o.anchor_line << " vs " << r.anchor_subject;
                EXPECT_EQ(r.anchor_sha256.size(), 64u);
                EXPECT_TRUE(r.error.empty());
            } else {
                ++failed_cells;
                EXPECT_TRUE(r.anchor_subject.empty());
                EXPECT_EQ(r.path_length, 0);
                EXPECT_NE(r.error.find("unable to get local issuer certificate"), std::string::npos) << r.error;
            }
        }
    }
    // The fixture really is a migration: some cells fail, some pass.
    EXPECT_EQ(verified_cells, 6);
    EXPECT_EQ(failed_cells, 3);
}

TEST(TrustPathTest, AnchorsFollowTheCrossSignature) {
    auto old_b = load_trust_bundle(path("rollover-bundle-old.crt")).take();
    auto new_b = load_trust_bundle(path("rollover-bundle-new.crt")).take();
    auto a = chain_of("rollover-a-chain.crt");
    auto b = chain_of("rollover-b-chain.crt");
    auto c = chain_of("rollover-c-chain.crt");
    auto old_root = chain_of("rollover-old-root.crt");
    auto new_root = chain_of("rollover-new-root.crt");
    EXPECT_FALSE(verify_trust_path(raw(a), old_b).verified);
    EXPECT_EQ(verify_trust_path(raw(a), new_b).anchor_sha256, sha256_hex(new_root[0].get()));
    EXPECT_EQ(verify_trust_path(raw(b), old_b).anchor_sha256, sha256_hex(old_root[0].get()));
    EXPECT_FALSE(verify_trust_path(raw(b), new_b).verified);
    // Both intermediates presented, the one from New Root first: OpenSSL takes
    // the first untrusted issuer that matches and does not backtrack through
    // the other, so an Old-Root-only client still fails (as `openssl verify`
    // does); listed the other way round, the verdicts swap.
    EXPECT_FALSE(verify_trust_path(raw(c), old_b).verified);
    EXPECT_EQ(verify_trust_path(raw(c), new_b).anchor_sha256, sha256_hex(new_root[0].get()));
    std::vector<X509 *> reversed = {c[0].get(), c[2].get(), c[1].get()};
    EXPECT_EQ(verify_trust_path(reversed, old_b).anchor_sha256, sha256_hex(old_root[0].get()));
    EXPECT_FALSE(verify_trust_path(reversed, new_b).verified);
}

TEST(TrustPathTest, FromDerAndBadInput) {
    auto chain = chain_of("rollover-a-chain.crt");
    std::vector<std::string> der;
    for (const auto &c : chain) {
        int len = i2d_X509(c.get(), nullptr);
        std::string s(static_cast<std::size_t>(len), '\0');
        auto *p = reinterpret_cast<unsigned char *>(&s[0]);
        i2d_X509(c.get(), &p);
        der.push_back(s);
    }
    auto bundles = load_trust_bundles({path("rollover-bundle-old.crt"), path("rollover-bundle-both.crt")}).take();
    auto reports = verify_trust_paths(der, bundles);
    ASSERT_TRUE(reports.ok());
    ASSERT_EQ(reports.value().size(), 2u);
    EXPECT_FALSE(reports.value()[0].verified);
    EXPECT_TRUE(reports.value()[1].verified);

    auto garbage = verify_trust_paths({"not der"}, bundles);
    ASSERT_FALSE(garbage.ok());
    EXPECT_EQ(garbage.error().sqlstate, "22023");

    auto none = verify_trust_paths({}, bundles);
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none.value()[0].verified);
    EXPECT_EQ(none.value()[0].error, "server presented no certificate");

    for (const std::string &bad : {path("garbage.txt"), path("no-such-file.crt"), std::string(),
                                  std::string("a\0b", 3)}) {
        auto b = load_trust_bundle(bad);
        ASSERT_FALSE(b.ok()) << bad;
        EXPECT_EQ(b.error().sqlstate, "22023");
    }
    std::vector<std::string> many(kMaxTrustBundles + 1, path("rollover-bundle-old.crt"));
    auto too_many = load_trust_bundles(many);
    ASSERT_FALSE(too_many.ok());
    EXPECT_EQ(too_many.error().sqlstate, "54000");
}
