// Checks of pgbouncer poolers (src/core/checks/checks_pooler.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checks/checks.hpp"

using namespace tls_audit;

namespace {

PoolerFacts reachable(std::string name, std::vector<std::pair<std::string, std::string>> rows) {
    PoolerFacts p;
    p.name = std::move(name);
    p.config = pooler_config_from_rows(rows);
    return p;
}

PoolerFacts strict(std::string name = "edge") {
    return reachable(std::move(name), {{"client_tls_sslmode", "require"}, {"server_tls_sslmode", "verify-full"}});
}

PoolerFacts down(std::string name, std::string error) {
    PoolerFacts p;
    p.name = std::move(name);
    p.error = std::move(error);
    return p;
}

Severity only(const std::vector<Finding> &f) {
    EXPECT_EQ(f.size(), 1u);
    return f.empty() ? Severity::Ok : f[0].severity;
}

}  // namespace

TEST(ChecksPoolerTest, NoPoolerConfiguredIsOk) {
    for (auto rule : {check_pooler_client_tls, check_pooler_server_tls, check_pooler_ciphers,
                      check_pooler_password_in_conninfo, check_pooler_unreachable}) {
        auto f = rule({});
        ASSERT_EQ(f.size(), 1u);
        EXPECT_EQ(f[0].severity, Severity::Ok);
        EXPECT_NE(f[0].message.find("tls_audit.poolers is empty"), std::string::npos);
    }
    EXPECT_EQ(only(check_pooler_protocols({}, Protocol::TLSv1_2)), Severity::Ok);
}

TEST(ChecksPoolerTest, ClientSslmode) {
    EXPECT_EQ(only(check_pooler_client_tls({reachable("a", {})})), Severity::Critical);  // default disable
    EXPECT_EQ(only(check_pooler_client_tls({reachable("a", {{"client_tls_sslmode", "allow"}})})), Severity::Critical);
    EXPECT_EQ(only(check_pooler_client_tls({reachable("a", {{"client_tls_sslmode", "prefer"}})})), Severity::Warning);
    EXPECT_EQ(only(check_pooler_client_tls({reachable("a", {{"client_tls_sslmode", "bogus"}})})), Severity::Warning);
    for (const char *mode : {"require", "verify-ca", "verify-full"})
        EXPECT_EQ(only(check_pooler_client_tls({reachable("a", {{"client_tls_sslmode", mode}})})), Severity::Ok);
    auto f = check_pooler_client_tls({reachable("edge", {{"client_tls_sslmode", "disable"}}), strict("b")});
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].check, "pooler_client_tls");
    EXPECT_EQ(f[0].object, "edge client_tls_sslmode");
    EXPECT_NE(f[0].message.find("plaintext"), std::string::npos);
}

TEST(ChecksPoolerTest, ServerSslmodeBelowVerifyFull) {
    EXPECT_EQ(only(check_pooler_server_tls({strict()})), Severity::Ok);
    for (const char *mode : {"disable", "allow", "prefer", "require", "verify-ca"}) {
        auto f = check_pooler_server_tls({reachable("edge", {{"server_tls_sslmode", mode}})});
        ASSERT_EQ(f.size(), 1u) << mode;
        EXPECT_EQ(f[0].severity, Severity::Warning) << mode;
        EXPECT_EQ(f[0].object, "edge server_tls_sslmode");
    }
    auto f = check_pooler_server_tls({reachable("edge", {})});  // default prefer
    EXPECT_NE(f[0].message.find("does not verify the database"), std::string::npos) << f[0].message;
}

TEST(ChecksPoolerTest, UnreachablePoolerIsAWarningAndInfoElsewhere) {
    std::vector<PoolerFacts> ps = {down("edge", "connection refused"), strict("b")};
    auto u = check_pooler_unreachable(ps);
    ASSERT_EQ(u.size(), 1u);
    EXPECT_EQ(u[0].severity, Severity::Warning);
    EXPECT_EQ(u[0].object, "edge");
    EXPECT_NE(u[0].message.find("connection refused"), std::string::npos);
    auto c = check_pooler_client_tls(ps);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].severity, Severity::Info);
    EXPECT_EQ(c[0].object, "edge");
    EXPECT_EQ(only(check_pooler_unreachable({strict()})), Severity::Ok);
}

TEST(ChecksPoolerTest, Protocols) {
    const Protocol floor = Protocol::TLSv1_2;
    EXPECT_EQ(only(check_pooler_protocols({strict()}, floor)), Severity::Ok);
    auto legacy = check_pooler_protocols(
        {reachable("edge", {{"client_tls_sslmode", "require"}, {"client_tls_protocols", "all"},
                            {"server_tls_sslmode", "disable"}, {"server_tls_protocols", "all"}})},
        floor);
    // The server leg is plaintext: its protocols are not judged.
    ASSERT_EQ(legacy.size(), 1u);
    EXPECT_EQ(legacy[0].severity, Severity::Critical);
    EXPECT_EQ(legacy[0].object, "edge client_tls_protocols");
    EXPECT_NE(legacy[0].message.find("RFC 8996"), std::string::npos);
    // Below a TLSv1.3 floor: warning.
    auto below = check_pooler_protocols({strict()}, Protocol::TLSv1_3);
    ASSERT_EQ(below.size(), 2u);  // both legs allow TLSv1.2
    EXPECT_EQ(below[0].severity, Severity::Warning);
    EXPECT_EQ(below[1].object, "edge server_tls_protocols");
    EXPECT_EQ(only(check_pooler_protocols({reachable("e", {{"client_tls_sslmode", "require"},
                                                           {"client_tls_protocols", "tlsv1.3"},
                                                           {"server_tls_sslmode", "disable"}})},
                                          Protocol::TLSv1_3)),
              Severity::Ok);
    // No TLSv1.3, an unknown name, nothing allowed.
    EXPECT_EQ(only(check_pooler_protocols({reachable("e", {{"client_tls_sslmode", "require"},
                                                           {"client_tls_protocols", "tlsv1.2"},
                                                           {"server_tls_sslmode", "disable"}})},
                                          floor)),
              Severity::Warning);
    auto unknown = check_pooler_protocols({reachable("e", {{"client_tls_sslmode", "require"},
                                                           {"client_tls_protocols", "tlsv9"},
                                                           {"server_tls_sslmode", "disable"}})},
                                          floor);
    ASSERT_EQ(unknown.size(), 1u);
    EXPECT_NE(unknown[0].message.find("unknown protocol \"tlsv9\""), std::string::npos);
    EXPECT_EQ(only(check_pooler_protocols({reachable("e", {{"client_tls_sslmode", "require"},
                                                           {"client_tls_protocols", "!all"},
                                                           {"server_tls_sslmode", "disable"}})},
                                          floor)),
              Severity::Warning);
}

TEST(ChecksPoolerTest, CiphersJudgedLikeTheServers) {
    // TLSv1.3 only: OpenSSL's TLS 1.3 suites, none weak.
    EXPECT_EQ(only(check_pooler_ciphers({reachable("e", {{"client_tls_sslmode", "require"},
                                                         {"client_tls_protocols", "tlsv1.3"},
                                                         {"server_tls_sslmode", "disable"}})})),
              Severity::Ok);
    // pgbouncer's "default" is OpenSSL's default list, which keeps RSA key
    // exchange for TLSv1.2: reported as for a server's ssl_ciphers.
    bool default_krsa = false;
    for (const auto &f : check_pooler_ciphers({strict()}))
        if (f.object == "edge client_tls_ciphers: kRSA") {
            default_krsa = true;
            EXPECT_EQ(f.message.rfind("pooler edge: client_tls_ciphers enables ", 0), 0u) << f.message;
        }
    EXPECT_TRUE(default_krsa);
    EXPECT_EQ(only(check_pooler_ciphers({reachable("e", {{"client_tls_sslmode", "require"},
                                                         {"client_tls_ciphers", "ECDHE+AESGCM"},
                                                         {"server_tls_sslmode", "disable"}})})),
              Severity::Ok);
    auto weak = check_pooler_ciphers({reachable("edge", {{"client_tls_sslmode", "require"},
                                                         {"client_tls_ciphers", "AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256"},
                                                         {"server_tls_sslmode", "disable"}})});
    ASSERT_FALSE(weak.empty());
    bool krsa = false;
    for (const auto &f : weak) {
        EXPECT_EQ(f.check, "pooler_ciphers");
        EXPECT_EQ(f.object.rfind("edge client_tls_ciphers: ", 0), 0u) << f.object;
        if (f.object == "edge client_tls_ciphers: kRSA") krsa = true;
    }
    EXPECT_TRUE(krsa);
    auto refused = check_pooler_ciphers({reachable("edge", {{"client_tls_sslmode", "require"},
                                                            {"client_tls_ciphers", "NO-SUCH-CIPHER"},
                                                            {"client_tls_protocols", "tlsv1.2"},
                                                            {"server_tls_sslmode", "disable"}})});
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].severity, Severity::Warning);
    EXPECT_NE(refused[0].message.find("not a cipher list"), std::string::npos);
}

TEST(ChecksPoolerTest, PasswordInConninfoIsCriticalAndNotShown) {
    PoolerFacts p = strict();
    p.password_in_conninfo = true;
    auto f = check_pooler_password_in_conninfo({p, strict("b")});
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_EQ(f[0].object, "edge");
    EXPECT_EQ(only(check_pooler_password_in_conninfo({strict()})), Severity::Ok);
}

TEST(ChecksPoolerTest, EvaluateListsThePoolerChecks) {
    AuditFacts facts;
    facts.poolers = Input<std::vector<PoolerFacts>>::of({down("edge", "timeout")});
    bool seen = false;
    for (const auto &f : evaluate(facts))
        if (f.check == "pooler_unreachable") {
            seen = true;
            EXPECT_EQ(f.severity, Severity::Warning);
        }
    EXPECT_TRUE(seen);
}

TEST(ChecksPoolerTest, ServedCertificateExpiry) {
    const std::int64_t now = 1'800'000'000;
    const Thresholds t;  // 30 / 7 days
    auto with_chain = [&](std::int64_t days_left) {
        PoolerFacts p = strict();
        CertInfo leaf;
        leaf.subject = "CN=pooler";
        leaf.not_before = now - 86400;
        leaf.not_after = now + days_left * 86400;
        p.served_chain = std::vector<CertInfo>{leaf};
        return p;
    };
    EXPECT_EQ(only(check_pooler_cert_expiry({with_chain(200)}, t, now)), Severity::Ok);
    auto soon = check_pooler_cert_expiry({with_chain(20)}, t, now);
    ASSERT_EQ(soon.size(), 1u);
    EXPECT_EQ(soon[0].severity, Severity::Warning);
    EXPECT_EQ(soon[0].object, "edge CN=pooler");
    EXPECT_NE(soon[0].message.find("expires in 20 days"), std::string::npos) << soon[0].message;
    EXPECT_EQ(only(check_pooler_cert_expiry({with_chain(3)}, t, now)), Severity::Critical);
    EXPECT_EQ(only(check_pooler_cert_expiry({with_chain(-1)}, t, now)), Severity::Critical);
    // Not probed (a unix socket, a refused handshake): info with the reason.
    PoolerFacts unprobed = strict();
    unprobed.cert_error = "the admin console is reached over a unix socket: the certificate is not probed";
    auto info = check_pooler_cert_expiry({unprobed}, t, now);
    ASSERT_EQ(info.size(), 1u);
    EXPECT_EQ(info[0].severity, Severity::Info);
    EXPECT_NE(info[0].message.find("unix socket"), std::string::npos);
    // A plaintext client leg serves no certificate: nothing to judge.
    EXPECT_EQ(only(check_pooler_cert_expiry({reachable("a", {{"client_tls_sslmode", "disable"}})}, t, now)),
              Severity::Ok);
    EXPECT_EQ(only(check_pooler_cert_expiry({down("a", "refused")}, t, now)), Severity::Info);
    EXPECT_EQ(only(check_pooler_cert_expiry({}, t, now)), Severity::Ok);
}

TEST(CheckPoolersTest, EveryPoolerCheckOnce) {
    // What run_checks() and pg_tls_check --pooler both report: each pooler check, in order.
    auto all = check_poolers({strict(), down("batch", "connection refused")}, Protocol::TLSv1_2, Thresholds{}, 0);
    std::vector<std::string> seen;
    for (const auto &f : all)
        if (seen.empty() || seen.back() != f.check) seen.push_back(f.check);
    EXPECT_EQ(seen, (std::vector<std::string>{"pooler_client_tls", "pooler_server_tls", "pooler_protocols",
                                              "pooler_ciphers", "pooler_cert_expiry", "pooler_password_in_conninfo",
                                              "pooler_unreachable"}));
    bool unreachable = false;
    for (const auto &f : all)
        if (f.check == "pooler_unreachable" && f.object == "batch") unreachable = f.severity == Severity::Warning;
    EXPECT_TRUE(unreachable);
}
