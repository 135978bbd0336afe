// Checks of the server's outbound links (src/core/checks/checks_outbound.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checks/checks.hpp"
#include "checks_test_util.hpp"

using namespace tls_audit;
using namespace tls_audit::test;

namespace {

ConnDefaults defaults() {
    ConnDefaults d;
    d.compiled = {{"sslmode", "prefer"}};
    d.default_socket_dir = "/var/run/postgresql";
    d.default_root_cert = "/home/pg/.postgresql/root.crt";
    d.libpq_version = 180000;
    return d;
}

OutboundLinkFacts link(const std::string &kind, const std::string &name, ConnOptions options) {
    OutboundLinkFacts l;
    l.kind = kind;
    l.name = name;
    l.link = assess_link(options, defaults());
    return l;
}

OutboundLinkFacts remote(const char *sslmode, const std::string &name = "sub1") {
    ConnOptions o{{"host", std::string("db.example.org")}};
    if (sslmode != nullptr) o.push_back({"sslmode", std::string(sslmode)});
    return link("subscription", name, o);
}

CertInfo ca(std::int64_t not_after) {
    CertInfo c;
    c.subject = "CN=Remote CA";
    c.not_before = 1;
    c.not_after = not_after;
    return c;
}

}  // namespace

TEST(ChecksOutboundTest, SslmodeSeverities) {
    for (const char *weak : {"disable", "allow", "prefer"}) {
        auto f = check_outbound_sslmode({remote(weak)});
        ASSERT_EQ(f.size(), 1u) << weak;
        EXPECT_EQ(f[0].severity, Severity::Critical) << weak;
        EXPECT_EQ(f[0].object, "subscription sub1");
        EXPECT_FALSE(f[0].hint.empty());
    }
    auto unset = check_outbound_sslmode({remote(nullptr)});
    ASSERT_EQ(unset.size(), 1u);
    EXPECT_EQ(unset[0].severity, Severity::Critical);
    EXPECT_NE(unset[0].message.find("libpq default"), std::string::npos);
    for (const char *middle : {"require", "verify-ca"}) {
        auto f = check_outbound_sslmode({remote(middle)});
        ASSERT_EQ(f.size(), 1u);
        EXPECT_EQ(f[0].severity, Severity::Warning) << middle;
    }
    EXPECT_EQ(check_outbound_sslmode({remote("bogus")})[0].severity, Severity::Warning);
    EXPECT_TRUE(all_ok(check_outbound_sslmode({remote("verify-full")})));
    EXPECT_TRUE(all_ok(check_outbound_sslmode({})));
}

TEST(ChecksOutboundTest, LoopbackIsNotFlagged) {
    EXPECT_TRUE(all_ok(check_outbound_sslmode(
        {link("physical_replication", "primary_conninfo", {{"host", std::string("127.0.0.1")},
                                                           {"sslmode", std::string("disable")}}),
         link("foreign_server", "local", {}),  // default unix socket
         link("foreign_server", "v6", {{"host", std::string("::1")}})})));
    // One remote host among loopback ones is enough.
    auto f = check_outbound_sslmode(
        {link("foreign_server", "mixed", {{"host", std::string("127.0.0.1,10.0.0.9")}})});
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_EQ(f[0].object, "foreign_server mixed");
}

TEST(ChecksOutboundTest, UnjudgedLinksAreInfo) {
    OutboundLinkFacts l;
    l.kind = "subscription";
    l.name = "hidden";
    l.error = "permission denied";
    auto f = check_outbound_sslmode({l, remote("verify-full")});
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Info);
    EXPECT_NE(f[0].message.find("permission denied"), std::string::npos);
}

TEST(ChecksOutboundTest, PasswordNeverShown) {
    auto withpw = link("user_mapping", "alice@remote",
                       {{"host", std::string("db.example.org")}, {"password", std::string("Hunter2-secret")}});
    auto f = check_outbound_password_in_conninfo({withpw, remote("verify-full")});
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_EQ(f[0].object, "user_mapping alice@remote");
    EXPECT_EQ(f[0].message.find("Hunter2"), std::string::npos);
    EXPECT_EQ(f[0].hint.find("Hunter2"), std::string::npos);
    EXPECT_TRUE(all_ok(check_outbound_password_in_conninfo({remote("prefer")})));
}

TEST(ChecksOutboundTest, RootCert) {
    const std::int64_t n = now();
    const Thresholds t;
    auto l = remote("verify-full");
    l.root_cert = RootCertFacts{"/ca.crt", false, {}, {ca(n + 400 * kDay)}};
    EXPECT_TRUE(all_ok(check_outbound_root_cert({l}, t, n)));

    l.root_cert = RootCertFacts{"/ca.crt", false, {}, {ca(n - 2 * kDay)}};
    auto f = check_outbound_root_cert({l}, t, n);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_NE(f[0].message.find("expired"), std::string::npos);

    l.root_cert = RootCertFacts{"/ca.crt", false, {}, {ca(n + 20 * kDay)}};
    EXPECT_EQ(check_outbound_root_cert({l}, t, n)[0].severity, Severity::Warning);

    l.root_cert = RootCertFacts{"/missing.crt", false, "No such file or directory", {}};
    f = check_outbound_root_cert({l}, t, n);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_NE(f[0].message.find("/missing.crt"), std::string::npos);

    l.root_cert = RootCertFacts{"/empty.crt", false, {}, {}};
    EXPECT_EQ(check_outbound_root_cert({l}, t, n)[0].severity, Severity::Warning);

    l.root_cert = RootCertFacts{"system", true, {}, {}};
    EXPECT_TRUE(all_ok(check_outbound_root_cert({l}, t, n)));

    // Links that do not verify the server have no root certificate to check.
    auto p = remote("prefer");
    EXPECT_TRUE(all_ok(check_outbound_root_cert({p}, t, n)));
}

TEST(ChecksOutboundTest, RealCaFile) {
    // The certificate reader of the core reads the file the glue hands over.
    const CertInfo root = cert_from("root.crt");
    auto l = remote("verify-ca");
    l.root_cert = RootCertFacts{"root.crt", false, {}, {root}};
    EXPECT_TRUE(all_ok(check_outbound_root_cert({l}, Thresholds{}, now())));
    EXPECT_EQ(check_outbound_root_cert({l}, Thresholds{}, root.not_after + kDay)[0].severity, Severity::Critical);
}

TEST(ChecksOutboundTest, EvaluateRunsTheOutboundChecks) {
    AuditFacts facts;
    facts.now = now();
    facts.outbound = Input<std::vector<OutboundLinkFacts>>::of({remote("prefer")});
    auto out = evaluate(facts);
    int seen = 0;
    for (const auto &f : out)
        if (f.check == "outbound_sslmode") {
            ++seen;
            EXPECT_EQ(f.severity, Severity::Critical);
        }
    EXPECT_EQ(seen, 1);
    facts.outbound = Input<std::vector<OutboundLinkFacts>>::none("no privilege");
    out = evaluate(facts);
    for (const auto &f : out) {
        if (f.check.rfind("outbound_", 0) == 0) {
            EXPECT_EQ(f.severity, Severity::Info);
        }
    }
    const auto &names = check_names();
    for (const char *n : {"outbound_sslmode", "outbound_password_in_conninfo", "outbound_root_cert"})
        EXPECT_NE(std::find(names.begin(), names.end(), n), names.end());
}
