// Server certificate, CA file, CRL and reload checks over make-certs.sh's certificates.
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

TEST(ChecksCertificatesTest, GoodServerChainIsOk) {
    auto f = facts_for("server-chain.crt");
    ASSERT_EQ(f.chain.size(), 2u);  // merged: served and file are the same certificates
    EXPECT_TRUE(f.chain[0].served && f.chain[0].in_file);
    Thresholds t;
    EXPECT_TRUE(all_ok(check_server_cert_expiry(f, t, now())));
    EXPECT_TRUE(all_ok(check_server_cert_key_strength(f)));
    EXPECT_TRUE(all_ok(check_server_cert_signature(f)));
    EXPECT_TRUE(all_ok(check_server_cert_self_signed(f)));
}

TEST(ChecksCertificatesTest, ExpiredAndExpiringServerCertificates) {
    Thresholds t;
    auto expired = check_server_cert_expiry(facts_for("expired-chain.crt"), t, now());
    ASSERT_EQ(expired.size(), 1u);
    EXPECT_EQ(expired[0].severity, Severity::Critical);
    EXPECT_EQ(expired[0].object, "O=expired,CN=localhost");
    EXPECT_NE(expired[0].message.find("expired 10 days ago"), std::string::npos) << expired[0].message;

    // Judged an hour after now: the certificate was made for 3 days moments
    // ago (in the same second, right before the tests), so whole days left are
    // 2 whatever the seconds in between.
    auto soon = check_server_cert_expiry(facts_for("expiring-3d-chain.crt"), t, now() + 3600);
    ASSERT_EQ(soon.size(), 1u);
    EXPECT_EQ(soon[0].severity, Severity::Critical);  // 3 days < 7
    EXPECT_NE(soon[0].message.find("expires in 2 days"), std::string::npos) << soon[0].message;

    Thresholds lenient{30, 2};
    EXPECT_EQ(check_server_cert_expiry(facts_for("expiring-3d-chain.crt"), lenient, now())[0].severity,
              Severity::Warning);
    Thresholds none{1, 1};
    EXPECT_TRUE(all_ok(check_server_cert_expiry(facts_for("expiring-3d-chain.crt"), none, now())));
    // A year-long certificate seen from 340 days later: warning; from 360 days: critical.
    auto good = facts_for("server.crt");
    EXPECT_EQ(check_server_cert_expiry(good, t, now() + 340 * kDay)[0].severity, Severity::Warning);
    EXPECT_EQ(check_server_cert_expiry(good, t, now() + 360 * kDay)[0].severity, Severity::Critical);
    // Not yet valid.
    auto early = check_server_cert_expiry(good, t, now() - 5 * kDay);
    EXPECT_EQ(early[0].severity, Severity::Critical);
    EXPECT_NE(early[0].message.find("not valid before"), std::string::npos);
}

TEST(ChecksCertificatesTest, WeakKeysAndSignatures) {
    auto rsa1024 = check_server_cert_key_strength(facts_for("rsa1024-chain.crt"));
    ASSERT_EQ(rsa1024.size(), 1u);
    EXPECT_EQ(rsa1024[0].severity, Severity::Critical);
    EXPECT_NE(rsa1024[0].message.find("1024"), std::string::npos);
    EXPECT_TRUE(all_ok(check_server_cert_key_strength(facts_for("p384-chain.crt"))));
    EXPECT_TRUE(all_ok(check_server_cert_key_strength(facts_for("ed25519-chain.crt"))));
    CertInfo ec;
    ec.key_type = "EC";
    ec.key_bits = 224;
    EXPECT_TRUE(weak_key_reason(ec));
    ec.key_bits = 256;
    EXPECT_FALSE(weak_key_reason(ec));

    auto sha1 = check_server_cert_signature(facts_for("sha1-chain.crt"));
    ASSERT_EQ(sha1.size(), 1u);
    EXPECT_EQ(sha1[0].severity, Severity::Warning);
    EXPECT_NE(sha1[0].message.find("sha1WithRSAEncryption"), std::string::npos);
    CertInfo md5;
    md5.signature_algorithm = "md5WithRSAEncryption";
    EXPECT_EQ(weak_signature(md5)->severity, Severity::Critical);
    md5.signature_algorithm = "ecdsa-with-SHA256";
    EXPECT_FALSE(weak_signature(md5));
}

TEST(ChecksCertificatesTest, SelfSignedLeafOnly) {
    auto self = check_server_cert_self_signed(facts_for("selfsigned.crt"));
    ASSERT_EQ(self.size(), 1u);
    EXPECT_EQ(self[0].severity, Severity::Warning);
    // A chain file that ends with the (self-signed) root: the root is not the leaf,
    // and its own signature is never checked.
    ServerCertFacts f;
    add_seen_certificate(f.chain, cert_from("server.crt"), 0, false);
    add_seen_certificate(f.chain, cert_from("intermediate.crt"), 1, false);
    CertInfo root = cert_from("root.crt");
    root.signature_algorithm = "sha1WithRSAEncryption";
    add_seen_certificate(f.chain, root, 2, false);
    EXPECT_TRUE(all_ok(check_server_cert_self_signed(f)));
    EXPECT_TRUE(all_ok(check_server_cert_signature(f)));
}

TEST(ChecksCertificatesTest, NoCertificateMeansNotAvailable) {
    ServerCertFacts f;
    for (auto fn : {check_server_cert_key_strength, check_server_cert_signature, check_server_cert_self_signed}) {
        auto r = fn(f);
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].severity, Severity::Info);
    }
    EXPECT_EQ(check_server_cert_expiry(f, Thresholds{}, now())[0].severity, Severity::Info);
    EXPECT_EQ(check_server_cert_chain(f)[0].severity, Severity::Info);
    EXPECT_EQ(check_server_key_permissions(f)[0].severity, Severity::Info);
    EXPECT_EQ(check_server_cert_reload_pending(f)[0].severity, Severity::Info);
}

TEST(ChecksCertificatesTest, ReloadPendingMergesServedAndFile) {
    ServerCertFacts f;
    f.cert_file = "server.crt";
    add_seen_certificate(f.chain, cert_from("expiring-3d.crt"), 0, true);  // still served
    add_seen_certificate(f.chain, cert_from("server-renewed.crt"), 0, false);  // renewed on disk
    ASSERT_EQ(f.chain.size(), 2u);
    f.reload_pending = true;
    f.served_sha256 = f.chain[0].cert.sha256;
    f.file_sha256 = f.chain[1].cert.sha256;
    auto pending = check_server_cert_reload_pending(f);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].severity, Severity::Warning);
    EXPECT_EQ(pending[0].object, "server.crt");
    // The served certificate still expires, and the hint says to reload.
    auto expiry = check_server_cert_expiry(f, Thresholds{}, now());
    ASSERT_EQ(expiry.size(), 1u);
    EXPECT_EQ(expiry[0].severity, Severity::Critical);
    EXPECT_NE(expiry[0].message.find("served (no longer in ssl_cert_file)"), std::string::npos);
    EXPECT_NE(expiry[0].hint.find("pg_reload_conf"), std::string::npos);
    f.reload_pending = false;
    EXPECT_TRUE(all_ok(check_server_cert_reload_pending(f)));
}

TEST(ChecksCertificatesTest, ChainKeyAndPermissions) {
    ServerCertFacts f;
    f.cert_file = "/data/server.crt";
    f.key_file = "/data/server.key";
    f.chain_complete = true;
    f.key_matches_cert = true;
    EXPECT_TRUE(all_ok(check_server_cert_chain(f)));
    f.chain_complete = false;
    f.chain_error = "unable to get local issuer certificate";
    auto chain = check_server_cert_chain(f);
    ASSERT_EQ(chain.size(), 1u);
    EXPECT_EQ(chain[0].severity, Severity::Warning);
    EXPECT_NE(chain[0].message.find("unable to get local issuer"), std::string::npos);
    f.key_matches_cert = false;
    chain = check_server_cert_chain(f);
    ASSERT_EQ(chain.size(), 2u);
    EXPECT_EQ(worst_severity(chain), Severity::Critical);

    f.key_permissions_ok = true;
    f.key_file_mode = "0600";
    f.key_file_owner = "postgres";
    EXPECT_TRUE(all_ok(check_server_key_permissions(f)));
    f.key_permissions_ok = false;
    f.key_file_mode = "0644";
    auto perm = check_server_key_permissions(f);
    EXPECT_EQ(perm[0].severity, Severity::Critical);
    EXPECT_EQ(perm[0].object, "/data/server.key");
    EXPECT_NE(perm[0].message.find("0644"), std::string::npos);
}

TEST(ChecksCertificatesTest, CaFileAndCrl) {
    Thresholds t;
    const std::int64_t n = now();
    EXPECT_TRUE(all_ok(check_ca_file_expiry("", {}, t, n)));
    std::vector<CertInfo> ca = {cert_from("root.crt"), cert_from("intermediate.crt")};
    EXPECT_TRUE(all_ok(check_ca_file_expiry("root.crt", ca, t, n)));
    ca.push_back(cert_from("expired.crt"));
    auto f = check_ca_file_expiry("root.crt", ca, t, n);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Critical);

    EXPECT_TRUE(all_ok(check_crl_expiry("", {}, t, n)));
    std::vector<CrlFacts> crls = {{"root.crl", "CN=Root", n + 60 * kDay}};
    EXPECT_TRUE(all_ok(check_crl_expiry("root.crl", crls, t, n)));
    crls.push_back({"int.crl", "CN=Intermediate", n + 20 * kDay});
    EXPECT_EQ(worst_severity(check_crl_expiry("root.crl", crls, t, n)), Severity::Warning);
    crls.push_back({"old.crl", "CN=Old", n - 2 * kDay});
    auto stale = check_crl_expiry("root.crl", crls, t, n);
    EXPECT_EQ(stale.size(), 2u);
    EXPECT_EQ(worst_severity(stale), Severity::Critical);
    EXPECT_TRUE(has_object(stale, "old.crl"));
    // A CRL without next_update never expires.
    EXPECT_TRUE(all_ok(check_crl_expiry("x.crl", {{"x.crl", "CN=X", std::nullopt}}, t, n)));
}


TEST(ChecksCertificatesTest, ReloadWouldFailIsCriticalWithTheReason) {
    EXPECT_TRUE(all_ok(check_server_tls_reload_would_fail(stages_with("", ""))));
    auto f = check_server_tls_reload_would_fail(stages_with("certificate", "no start line"));
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].check, "server_tls_reload_would_fail");
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_EQ(f[0].object, "server.crt");
    EXPECT_NE(f[0].message.find("stage certificate): no start line"), std::string::npos) << f[0].message;
    auto g = check_server_tls_reload_would_fail(stages_with("ciphers", "no cipher match"));
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].object, "ciphers");
    // An undecided stage (passphrase command not run) is not a failure, but is said.
    auto undecided = stages_with("", "");
    undecided[1].ok.reset();
    auto u = check_server_tls_reload_would_fail(undecided);
    EXPECT_TRUE(all_ok(u));
    EXPECT_NE(u[0].message.find("not decided: key"), std::string::npos) << u[0].message;
}

TEST(ChecksCertificatesTest, ReloadWouldFailNamesAFileThatIsNotRegular) {
    auto stages = stages_with("certificate", "ssl_cert_file \"server.crt\" is a FIFO: the next reload or restart will hang or fail");
    stages[0].file_kind = "a FIFO";
    auto f = check_server_tls_reload_would_fail(stages);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_EQ(f[0].object, "server.crt");
    EXPECT_EQ(f[0].message, "the TLS configuration on disk does not load (stage certificate): ssl_cert_file "
                            "\"server.crt\" is a FIFO: the next reload or restart will hang or fail");
    // Not "a reload keeps the previous configuration": the postmaster would wait on it.
    EXPECT_EQ(f[0].message.find("keeps the previous"), std::string::npos);
    EXPECT_NE(f[0].hint.find("regular file"), std::string::npos) << f[0].hint;
}

TEST(ChecksCertificatesTest, ReloadPendingSaysWhetherAReloadWouldFixIt) {
    ServerCertFacts f;
    f.cert_file = "server.crt";
    f.reload_pending = true;
    f.file_sha256 = std::string(64, 'a');
    f.served_sha256 = std::string(64, 'b');
    auto good = stages_with("", "");
    auto bad = stages_with("key_match", "key values mismatch");
    auto fixes = check_server_cert_reload_pending(f, &good);
    EXPECT_EQ(fixes[0].severity, Severity::Warning);
    EXPECT_NE(fixes[0].message.find("a reload would load it"), std::string::npos) << fixes[0].message;
    auto fails = check_server_cert_reload_pending(f, &bad);
    EXPECT_NE(fails[0].message.find("a reload would NOT fix it"), std::string::npos) << fails[0].message;
    EXPECT_NE(fails[0].message.find("key values mismatch"), std::string::npos) << fails[0].message;
    EXPECT_NE(fails[0].hint.find("reload_preflight"), std::string::npos);
    // Served certificate unknown (e.g. ssl_cert_file deleted): still says the reload would fail.
    f.reload_pending.reset();
    auto unknown = check_server_cert_reload_pending(f, &bad);
    EXPECT_EQ(unknown[0].severity, Severity::Info);
    EXPECT_NE(unknown[0].message.find("would fail"), std::string::npos) << unknown[0].message;
}

TEST(ChecksCertificatesTest, CrlCoverageNeedsACrlPerCa) {
    EXPECT_TRUE(all_ok(check_crl_coverage("", {{"CN=Root", false}})));
    EXPECT_TRUE(all_ok(check_crl_coverage("crl.pem", {{"CN=Root", true}, {"CN=Intermediate", true}})));
    auto f = check_crl_coverage("crl.pem", {{"CN=Intermediate", true}, {"CN=Root", false}});
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].check, "crl_coverage");
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_EQ(f[0].object, "CN=Root");
    EXPECT_NE(f[0].message.find("unable to get certificate CRL"), std::string::npos) << f[0].message;

    AuditFacts facts = clean_facts();
    facts.crl_source = "crl.pem";
    facts.crls = Input<std::vector<CrlFacts>>::of({});
    facts.ca_crl_coverage = Input<std::vector<CaCrlCoverage>>::of({{"CN=Root", false}});
    int critical = 0;
    for (const auto &x : evaluate(facts))
        if (x.severity == Severity::Critical) {
            ++critical;
            EXPECT_EQ(x.check, "crl_coverage");
        }
    EXPECT_EQ(critical, 1);
    facts.ca_crl_coverage = Input<std::vector<CaCrlCoverage>>::none("column crl_present does not exist");
    for (const auto &x : evaluate(facts)) {
        if (x.check == "crl_coverage") {
            EXPECT_EQ(x.severity, Severity::Info);
        }
    }
}

TEST(ChecksCertificatesTest, LastReloadFailedIsCritical) {
    EXPECT_TRUE(all_ok(check_server_tls_reload_failed(std::nullopt)));
    LastReload r;
    r.at = 1764500000;
    r.kind = "reload";
    r.ok = true;
    EXPECT_TRUE(all_ok(check_server_tls_reload_failed(r)));
    r.ok.reset();
    EXPECT_TRUE(all_ok(check_server_tls_reload_failed(r)));  // in progress
    r.ok = false;
    r.error = "private key file \"server.key\" has group or world access";
    auto f = check_server_tls_reload_failed(r);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].check, "server_tls_reload_failed");
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_NE(f[0].message.find("group or world access"), std::string::npos) << f[0].message;
    EXPECT_NE(f[0].message.find("kept the previous TLS configuration"), std::string::npos);
    r.error.clear();
    EXPECT_NE(check_server_tls_reload_failed(r)[0].message.find("no reason was logged"), std::string::npos);
}

TEST(ChecksCertificatesTest, AutoReloadStates) {
    EXPECT_TRUE(all_ok(check_server_tls_auto_reload({"off", "off", "", ""})));
    EXPECT_TRUE(all_ok(check_server_tls_auto_reload({"on", "watching", "", ""})));
    EXPECT_TRUE(all_ok(check_server_tls_auto_reload({"on", "settling", "", ""})));
    auto refused = check_server_tls_auto_reload({"on", "refused", "key (/k): key values mismatch", "refuse: ..."});
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].severity, Severity::Warning);
    EXPECT_NE(refused[0].message.find("key values mismatch"), std::string::npos);
    auto waiting = check_server_tls_auto_reload({"on", "waiting", "", "wait_settings: work_mem"});
    ASSERT_EQ(waiting.size(), 1u);
    EXPECT_EQ(waiting[0].severity, Severity::Info);
    EXPECT_NE(waiting[0].message.find("work_mem"), std::string::npos);
    auto down = check_server_tls_auto_reload({"on", "not running", "", ""});
    ASSERT_EQ(down.size(), 1u);
    EXPECT_EQ(down[0].severity, Severity::Warning);
}
