// The check rules: each rule over plain facts, the cipher analyzer over the
// real OpenSSL, and the certificate rules over make-certs.sh's certificates.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <set>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "rules.hpp"
#include "test_certs.hpp"
#include "x509.hpp"

using namespace tls_audit;
using tls_audit::test::cert_dir;
using tls_audit::test::read_cert_file;

namespace {

constexpr std::int64_t kDay = 86400;
std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

bool all_ok(const std::vector<Finding> &f) {
    return f.size() == 1 && f[0].severity == Severity::Ok && f[0].object.empty();
}

bool has_object(const std::vector<Finding> &f, const std::string &object) {
    return std::any_of(f.begin(), f.end(), [&](const Finding &x) { return x.object == object; });
}

CertInfo cert_from(const std::string &file, std::size_t index = 0) {
    auto infos = certificate_infos(read_cert_file(file));
    if (!infos.ok() || infos.value().size() <= index) {
        ADD_FAILURE() << "cannot read " << file;
        return {};
    }
    return infos.value()[index];
}

// Facts for a server whose ssl_cert_file holds `file` (a chain: leaf first).
ServerCertFacts facts_for(const std::string &file) {
    ServerCertFacts f;
    f.cert_file = "server.crt";
    f.key_file = "server.key";
    auto infos = certificate_infos(read_cert_file(file));
    EXPECT_TRUE(infos.ok()) << file;
    if (!infos.ok()) return f;
    int position = 0;
    for (const auto &c : infos.value()) add_seen_certificate(f.chain, c, position++, true);
    position = 0;
    for (const auto &c : infos.value()) add_seen_certificate(f.chain, c, position++, false);
    return f;
}

CipherFacts cipher(std::string name, int kx, int auth, int enc, int digest) {
    CipherFacts c;
    c.name = std::move(name);
    c.kx_nid = kx;
    c.auth_nid = auth;
    c.cipher_nid = enc;
    c.digest_nid = digest;
    return c;
}

std::set<std::string> names_of(const std::vector<CipherFacts> &ciphers) {
    std::set<std::string> out;
    for (const auto &c : ciphers) out.insert(c.name);
    return out;
}

std::vector<CipherFacts> enabled(const char *list, const char *min = "", const char *max = "") {
    auto result = enabled_ciphers(list, min, max);
    EXPECT_TRUE(result.ok()) << list << ": " << (result.ok() ? "" : result.error().message);
    return result.ok() ? result.value() : std::vector<CipherFacts>{};
}

}  // namespace

// ---------------------------------------------------------------------------

TEST(RulesTest, SeverityNamesRoundTripAndOrder) {
    for (Severity s : {Severity::Ok, Severity::Info, Severity::Warning, Severity::Critical})
        EXPECT_EQ(parse_severity(severity_name(s)), s);
    EXPECT_FALSE(parse_severity("bad"));
    EXPECT_LT(Severity::Ok, Severity::Info);
    EXPECT_LT(Severity::Info, Severity::Warning);
    EXPECT_LT(Severity::Warning, Severity::Critical);
    EXPECT_EQ(worst_severity({}), Severity::Ok);
    EXPECT_EQ(worst_severity({Finding{"a", Severity::Info, "", "", ""}, Finding{"b", Severity::Warning, "", "", ""}}),
              Severity::Warning);
}

TEST(RulesTest, CheckNamesAreStableAndUnique) {
    const auto &names = check_names();
    EXPECT_EQ(names.size(), 24u);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
    EXPECT_EQ(names.front(), "ssl_enabled");
    EXPECT_EQ(names.back(), "settings_not_applied");
}

TEST(RulesTest, SettingsNotAppliedNamesEachRefusedLine) {
    EXPECT_TRUE(all_ok(check_settings_not_applied({})));
    std::vector<FileSetting> rows = {
        {"tls_audit.probe_allowed_hosts", "db1.example.com db2.example.com", "/data/postgresql.conf", 12,
         "setting could not be applied"},
        {"tls_audit.census_max", "abc", "/data/postgresql.conf", 13, "setting could not be applied"},
        {"tls_audit.min_protocol", "TLSv1.4", "", 0, ""},
    };
    auto f = check_settings_not_applied(rows);
    ASSERT_EQ(f.size(), 3u);
    EXPECT_EQ(f[0].check, "settings_not_applied");
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_EQ(f[0].object, "tls_audit.probe_allowed_hosts");
    EXPECT_NE(f[0].message.find("'db1.example.com db2.example.com' (/data/postgresql.conf line 12) is not in effect"),
              std::string::npos)
        << f[0].message;
    EXPECT_NE(f[0].message.find("no host may be probed"), std::string::npos) << f[0].message;
    EXPECT_EQ(f[1].severity, Severity::Warning);
    EXPECT_NE(f[1].message.find("default value applies"), std::string::npos) << f[1].message;
    EXPECT_EQ(f[2].severity, Severity::Critical);
    EXPECT_NE(f[2].message.find("(the configuration files)"), std::string::npos) << f[2].message;
    for (const auto &x : f) EXPECT_FALSE(x.hint.empty());
    EXPECT_TRUE(is_security_setting("TLS_AUDIT.Probe_Allowed_Hosts"));
    EXPECT_FALSE(is_security_setting("tls_audit.census_max"));
}

TEST(RulesTest, NotAvailableIsInfo) {
    Finding f = not_available("crl_expiry", "no CRL view");
    EXPECT_EQ(f.check, "crl_expiry");
    EXPECT_EQ(f.severity, Severity::Info);
    EXPECT_EQ(f.message, "not available: no CRL view");
}

TEST(RulesTest, FormatUtc) { EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC"); }

// --- settings ---------------------------------------------------------------

TEST(RulesTest, SslEnabled) {
    ServerSettings s;
    s.ssl = true;
    s.listen_addresses = "*";
    EXPECT_TRUE(all_ok(check_ssl_enabled(s)));
    s.ssl = false;
    auto f = check_ssl_enabled(s);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_FALSE(f[0].hint.empty());
    s.listen_addresses = "";
    EXPECT_EQ(check_ssl_enabled(s)[0].severity, Severity::Info);
}

TEST(RulesTest, MinProtocolAgainstFloor) {
    ServerSettings s;
    s.min_protocol = "TLSv1.2";
    EXPECT_TRUE(all_ok(check_min_protocol(s, Protocol::TLSv1_2)));
    EXPECT_TRUE(all_ok(check_min_protocol(s, Protocol::TLSv1)));
    auto f = check_min_protocol(s, Protocol::TLSv1_3);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_EQ(f[0].object, "ssl_min_protocol_version");

    s.min_protocol = "TLSv1";
    f = check_min_protocol(s, Protocol::TLSv1_2);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Critical);
    EXPECT_NE(f[0].message.find("TLSv1"), std::string::npos);
    // An explicit floor of TLSv1 accepts it.
    EXPECT_TRUE(all_ok(check_min_protocol(s, Protocol::TLSv1)));

    s.min_protocol = "";  // any version
    EXPECT_EQ(check_min_protocol(s, Protocol::TLSv1_2)[0].severity, Severity::Critical);
    s.min_protocol = "SSLv9";
    EXPECT_EQ(check_min_protocol(s, Protocol::TLSv1_2)[0].severity, Severity::Warning);
}

TEST(RulesTest, MaxProtocol) {
    ServerSettings s;
    EXPECT_TRUE(all_ok(check_max_protocol(s)));
    s.max_protocol = "TLSv1.3";
    EXPECT_TRUE(all_ok(check_max_protocol(s)));
    s.max_protocol = "TLSv1.2";
    auto f = check_max_protocol(s);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Warning);
}

TEST(RulesTest, PasswordEncryption) {
    ServerSettings s;
    s.password_encryption = "scram-sha-256";
    EXPECT_TRUE(all_ok(check_password_encryption(s)));
    s.password_encryption = "md5";
    EXPECT_EQ(check_password_encryption(s)[0].severity, Severity::Warning);
    EXPECT_EQ(check_password_encryption(s)[0].message.find("deprecated"), std::string::npos);
    s.md5_deprecated = true;  // PostgreSQL 18
    EXPECT_NE(check_password_encryption(s)[0].message.find("deprecated since PostgreSQL 18"), std::string::npos);
}

TEST(RulesTest, KeyExchangeGroups) {
    ServerSettings s;
    EXPECT_TRUE(all_ok(check_key_exchange_groups(s)));  // unset: OpenSSL's defaults
    for (const char *good : {"X25519:prime256v1", "prime256v1", "x25519", "X25519:P-384:ffdhe3072", "secp256r1:x448"}) {
        s.groups = good;
        EXPECT_TRUE(all_ok(check_key_exchange_groups(s))) << good;
    }
    s.groups = "secp384r1:secp521r1";  // strong, but not what every client offers
    auto f = check_key_exchange_groups(s);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_NE(f[0].message.find("neither X25519 nor P-256"), std::string::npos);
    EXPECT_EQ(f[0].object, "secp384r1:secp521r1");
    s.groups = "X25519:prime192v1:secp224r1:ffdhe2048";
    f = check_key_exchange_groups(s);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_NE(f[0].message.find("below 128-bit security are allowed: P-192, P-224, ffdhe2048"), std::string::npos)
        << f[0].message;
    s.groups = "X25519:bogus";
    f = check_key_exchange_groups(s);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_NE(f[0].message.find("bogus"), std::string::npos);
    s.groups = ":::";
    f = check_key_exchange_groups(s);
    ASSERT_EQ(f.size(), 1u);  // no group at all: nothing in common
    EXPECT_NE(f[0].message.find("neither X25519 nor P-256"), std::string::npos);
}

TEST(RulesTest, Tls13CipherSuitesAreJudged) {
    // PostgreSQL 18's ssl_tls13_ciphers with a 64-bit-tag suite.
    auto enabled = enabled_ciphers("HIGH:!aNULL", "TLSv1.3", "", "TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_8_SHA256");
    ASSERT_TRUE(enabled.ok()) << enabled.error().message;
    auto f = check_weak_ciphers(enabled.value());
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_EQ(f[0].object, "CCM8");
    EXPECT_NE(f[0].message.find("ssl_tls13_ciphers enables 1 cipher suite"), std::string::npos) << f[0].message;
    EXPECT_NE(f[0].message.find("TLS_AES_128_CCM_8_SHA256"), std::string::npos);
    EXPECT_NE(f[0].hint.find("ssl_tls13_ciphers"), std::string::npos);
    // Unset: OpenSSL's defaults, none weak.
    enabled = enabled_ciphers("HIGH:!aNULL", "TLSv1.3", "", "");
    ASSERT_TRUE(enabled.ok());
    EXPECT_TRUE(all_ok(check_weak_ciphers(enabled.value())));
    // A list OpenSSL refuses, as the server would.
    enabled = enabled_ciphers("HIGH", "", "", "TLS_NO_SUCH_SUITE");
    ASSERT_FALSE(enabled.ok());
    EXPECT_NE(enabled.error().message.find("TLS_NO_SUCH_SUITE"), std::string::npos);
}

// --- ciphers ----------------------------------------------------------------

TEST(RulesTest, CipherWeaknessLabels) {
    auto labels = [](const CipherFacts &c) {
        std::vector<std::string> out;
        for (const auto &w : cipher_weaknesses(c)) out.push_back(w.label);
        return out;
    };
    auto worst = [](const CipherFacts &c) {
        Severity s = Severity::Ok;
        for (const auto &w : cipher_weaknesses(c)) s = std::max(s, w.severity);
        return s;
    };
    // Strong: ECDHE, RSA auth, AES-GCM.
    EXPECT_TRUE(labels(cipher("ECDHE-RSA-AES128-GCM-SHA256", NID_kx_ecdhe, NID_auth_rsa, NID_aes_128_gcm, NID_undef))
                    .empty());
    // TLS 1.3 suites report kx/auth "any".
    EXPECT_TRUE(labels(cipher("TLS_AES_256_GCM_SHA384", NID_kx_any, NID_auth_any, NID_aes_256_gcm, NID_sha384))
                    .empty());
    // 3DES with RSA key exchange: two weaknesses, warning.
    auto c = cipher("DES-CBC3-SHA", NID_kx_rsa, NID_auth_rsa, NID_des_ede3_cbc, NID_sha1);
    EXPECT_EQ(labels(c).size(), 2u);
    EXPECT_EQ(worst(c), Severity::Warning);
    EXPECT_EQ(worst(cipher("EDH-RSA-DES-CBC3-SHA", NID_kx_dhe, NID_auth_rsa, NID_des_ede3_cbc, NID_sha1)),
              Severity::Warning);
    EXPECT_EQ(worst(cipher("DES-CBC-SHA", NID_kx_rsa, NID_auth_rsa, NID_des_cbc, NID_sha1)), Severity::Critical);
    EXPECT_EQ(worst(cipher("ECDHE-RSA-RC4-SHA", NID_kx_ecdhe, NID_auth_rsa, NID_rc4, NID_sha1)), Severity::Critical);
    EXPECT_EQ(worst(cipher("EXP-RC2-CBC-MD5", NID_kx_rsa, NID_auth_rsa, NID_rc2_cbc, NID_md5)), Severity::Critical);
    EXPECT_EQ(worst(cipher("NULL-SHA256", NID_kx_rsa, NID_auth_rsa, NID_undef, NID_sha256)), Severity::Critical);
    EXPECT_EQ(worst(cipher("ADH-AES128-GCM-SHA256", NID_kx_dhe, NID_auth_null, NID_aes_128_gcm, NID_undef)),
              Severity::Critical);
    EXPECT_EQ(worst(cipher("AES128-GCM-SHA256", NID_kx_rsa, NID_auth_rsa, NID_aes_128_gcm, NID_undef)),
              Severity::Warning);
}

TEST(RulesTest, CleanCipherListHasNoWeakCipher) {
    // The list the documentation recommends, over the range it recommends.
    auto list = enabled("HIGH:!aNULL:!eNULL:!kRSA", "TLSv1.2", "");
    ASSERT_FALSE(list.empty());
    for (const auto &c : list) EXPECT_TRUE(cipher_weaknesses(c).empty()) << c.name;
    EXPECT_TRUE(all_ok(check_weak_ciphers(list)));
    // TLS 1.3 suites are part of what is enabled.
    EXPECT_TRUE(names_of(list).count("TLS_AES_256_GCM_SHA384"));
    // PSK and SRP suites cannot be negotiated by a server without PSK/SRP callbacks.
    for (const auto &c : list) {
        EXPECT_EQ(c.name.find("PSK"), std::string::npos) << c.name;
        EXPECT_EQ(c.name.find("SRP"), std::string::npos) << c.name;
    }
}

TEST(RulesTest, WeakCipherListIsFlagged) {
    auto list = enabled("ALL:eNULL:@SECLEVEL=0", "TLSv1", "");
    auto names = names_of(list);
    EXPECT_TRUE(names.count("NULL-MD5"));
    EXPECT_TRUE(names.count("NULL-SHA256"));
    EXPECT_TRUE(names.count("AES128-GCM-SHA256"));
    EXPECT_TRUE(names.count("ADH-AES128-GCM-SHA256"));
    auto findings = check_weak_ciphers(list);
    // One row per weakness, named by the keyword that excludes it.
    EXPECT_TRUE(has_object(findings, "eNULL"));
    EXPECT_TRUE(has_object(findings, "aNULL"));
    EXPECT_TRUE(has_object(findings, "MD5"));
    EXPECT_TRUE(has_object(findings, "kRSA"));
    EXPECT_FALSE(has_object(findings, "3DES"));  // this OpenSSL has none to enable
    for (const auto &f : findings) {
        EXPECT_EQ(f.hint.find("Append :!" + f.object), 0u) << f.hint;
        EXPECT_EQ(f.message.find("ECDHE-RSA-AES128-GCM-SHA256"), std::string::npos) << f.message;
        EXPECT_EQ(f.message.find("TLS_AES_128_GCM_SHA256"), std::string::npos) << f.message;
        if (f.object == "MD5") {
            EXPECT_EQ(f.severity, Severity::Critical);
            EXPECT_NE(f.message.find("NULL-MD5"), std::string::npos) << f.message;
        }
        if (f.object == "kRSA") {
            EXPECT_EQ(f.severity, Severity::Warning);
            EXPECT_NE(f.message.find("AES128-GCM-SHA256"), std::string::npos) << f.message;
        }
    }
    // Ten names at most, then a count.
    std::vector<CipherFacts> many;
    for (int i = 0; i < 14; ++i)
        many.push_back(cipher("RSA-" + std::to_string(i), NID_kx_rsa, NID_auth_rsa, NID_aes_128_gcm, NID_undef));
    auto grouped = check_weak_ciphers(many);
    ASSERT_EQ(grouped.size(), 1u);
    EXPECT_NE(grouped[0].message.find("14 cipher suites"), std::string::npos);
    EXPECT_NE(grouped[0].message.find("and 4 more"), std::string::npos);
}

TEST(RulesTest, SecurityLevelRemovesWhatCannotBeNegotiated) {
    // At level 1, NULL encryption (0 bits), aNULL and MD5 MACs are refused.
    auto names = names_of(enabled("ALL:eNULL:@SECLEVEL=1", "TLSv1", ""));
    EXPECT_FALSE(names.count("NULL-MD5"));
    EXPECT_FALSE(names.count("NULL-SHA256"));
    EXPECT_FALSE(names.count("ADH-AES128-GCM-SHA256"));
    EXPECT_TRUE(names.count("AES128-GCM-SHA256"));
    // At level 3, only forward-secret suites remain.
    names = names_of(enabled("ALL:@SECLEVEL=3", "TLSv1.2", ""));
    EXPECT_FALSE(names.count("AES128-GCM-SHA256"));
    EXPECT_FALSE(names.empty());
}

TEST(RulesTest, ProtocolRangeRemovesSuites) {
    // Only TLS 1.3: the TLS 1.2 list is irrelevant.
    auto tls13 = enabled("ALL:eNULL:@SECLEVEL=0", "TLSv1.3", "");
    ASSERT_FALSE(tls13.empty());
    for (const auto &c : tls13) EXPECT_EQ(c.min_version, "TLSv1.3") << c.name;
    EXPECT_TRUE(all_ok(check_weak_ciphers(tls13)));
    // Up to TLS 1.2: no TLS 1.3 suite.
    auto tls12 = names_of(enabled("HIGH", "TLSv1.2", "TLSv1.2"));
    EXPECT_FALSE(tls12.count("TLS_AES_256_GCM_SHA384"));
    // An empty range gives nothing.
    EXPECT_TRUE(enabled("HIGH", "TLSv1.3", "TLSv1.2").empty());
}

TEST(RulesTest, BadCipherListsAreErrors) {
    auto r = enabled_ciphers("NO-SUCH-CIPHER", "", "");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().sqlstate, "22023");
    EXPECT_FALSE(enabled_ciphers("HIGH", "TLSv9", "").ok());
    EXPECT_FALSE(enabled_ciphers(std::string(10000, 'A'), "", "").ok());
    EXPECT_FALSE(enabled_ciphers(std::string("HIGH\0x", 6), "", "").ok());
    EXPECT_EQ(ERR_peek_error(), 0u);  // no error left on the queue
}

namespace {

// An in-memory handshake: a server configured like PostgreSQL with
// `server_list`, a client offering only `client_cipher` at `version`.
// Returns the negotiated cipher, or "" when the handshake fails.
std::string handshake(const std::string &server_list, const std::string &client_cipher, int version) {
    SslCtxPtr sctx(SSL_CTX_new(TLS_server_method()));
    SslCtxPtr cctx(SSL_CTX_new(TLS_client_method()));
    if (!sctx || !cctx) return "";
    SSL_CTX_set_min_proto_version(sctx.get(), TLS1_VERSION);
    SSL_CTX_set_cipher_list(sctx.get(), server_list.c_str());
    const std::string cert = cert_dir() + "/server.crt";
    const std::string key = cert_dir() + "/server.key";
    // A weak security level must not stop the certificate from loading.
    const int level = SSL_CTX_get_security_level(sctx.get());
    SSL_CTX_set_security_level(sctx.get(), 0);
    if (SSL_CTX_use_certificate_file(sctx.get(), cert.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(sctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
        ADD_FAILURE() << "cannot load " << cert;
        return "";
    }
    SSL_CTX_set_security_level(sctx.get(), level);
    SSL_CTX_set_security_level(cctx.get(), 0);
    SSL_CTX_set_min_proto_version(cctx.get(), version);
    SSL_CTX_set_max_proto_version(cctx.get(), version);
    if (SSL_CTX_set_cipher_list(cctx.get(), (client_cipher + ":@SECLEVEL=0").c_str()) != 1) return "";
    SslPtr server(SSL_new(sctx.get()));
    SslPtr client(SSL_new(cctx.get()));
    BIO *s_bio = nullptr;
    BIO *c_bio = nullptr;
    BIO_new_bio_pair(&s_bio, 0, &c_bio, 0);
    SSL_set_bio(server.get(), s_bio, s_bio);
    SSL_set_bio(client.get(), c_bio, c_bio);
    SSL_set_accept_state(server.get());
    SSL_set_connect_state(client.get());
    bool s_done = false, c_done = false;
    for (int i = 0; i < 100 && !(s_done && c_done); ++i) {
        if (!c_done) {
            int rc = SSL_do_handshake(client.get());
            if (rc == 1) c_done = true;
            else if (SSL_get_error(client.get(), rc) != SSL_ERROR_WANT_READ) break;
        }
        if (!s_done) {
            int rc = SSL_do_handshake(server.get());
            if (rc == 1) s_done = true;
            else if (SSL_get_error(server.get(), rc) != SSL_ERROR_WANT_READ) break;
        }
    }
    ERR_clear_error();
    if (!(s_done && c_done)) return "";
    return SSL_CIPHER_get_name(SSL_get_current_cipher(server.get()));
}

}  // namespace

TEST(RulesTest, FlaggedCiphersReallyNegotiate) {
    ASSERT_FALSE(cert_dir().empty()) << "TLS_AUDIT_TEST_CERTS";
    const std::string weak = "ALL:eNULL:@SECLEVEL=0";
    const std::set<std::string> listed = names_of(enabled(weak.c_str(), "TLSv1", ""));
    // What the analyzer lists, a client can really get...
    for (const char *name : {"NULL-SHA256", "AES128-GCM-SHA256", "ECDHE-RSA-NULL-SHA"}) {
        ASSERT_TRUE(listed.count(name)) << name;
        EXPECT_EQ(handshake(weak, name, TLS1_2_VERSION), name);
    }
    // ...and what the clean list leaves out, it cannot.
    const std::string clean = "HIGH:!aNULL:!eNULL:!kRSA";
    EXPECT_FALSE(names_of(enabled(clean.c_str(), "TLSv1.2", "")).count("AES128-GCM-SHA256"));
    EXPECT_EQ(handshake(clean, "AES128-GCM-SHA256", TLS1_2_VERSION), "");
    EXPECT_EQ(handshake(clean, "ECDHE-RSA-AES128-GCM-SHA256", TLS1_2_VERSION), "ECDHE-RSA-AES128-GCM-SHA256");
}

// --- server certificates ----------------------------------------------------

TEST(RulesTest, GoodServerChainIsOk) {
    auto f = facts_for("server-chain.crt");
    ASSERT_EQ(f.chain.size(), 2u);  // merged: served and file are the same certificates
    EXPECT_TRUE(f.chain[0].served && f.chain[0].in_file);
    Thresholds t;
    EXPECT_TRUE(all_ok(check_server_cert_expiry(f, t, now())));
    EXPECT_TRUE(all_ok(check_server_cert_key_strength(f)));
    EXPECT_TRUE(all_ok(check_server_cert_signature(f)));
    EXPECT_TRUE(all_ok(check_server_cert_self_signed(f)));
}

TEST(RulesTest, ExpiredAndExpiringServerCertificates) {
    Thresholds t;
    auto expired = check_server_cert_expiry(facts_for("expired-chain.crt"), t, now());
    ASSERT_EQ(expired.size(), 1u);
    EXPECT_EQ(expired[0].severity, Severity::Critical);
    EXPECT_EQ(expired[0].object, "O=expired,CN=localhost");
    EXPECT_NE(expired[0].message.find("expired 10 days ago"), std::string::npos) << expired[0].message;

    auto soon = check_server_cert_expiry(facts_for("expiring-3d-chain.crt"), t, now());
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

TEST(RulesTest, WeakKeysAndSignatures) {
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

TEST(RulesTest, SelfSignedLeafOnly) {
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

TEST(RulesTest, NoCertificateMeansNotAvailable) {
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

TEST(RulesTest, ReloadPendingMergesServedAndFile) {
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

TEST(RulesTest, ChainKeyAndPermissions) {
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

TEST(RulesTest, CaFileAndCrl) {
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

// --- pg_hba.conf and passwords -----------------------------------------------

namespace {
HbaRule rule(int line, std::string type, std::string address, std::string netmask, std::string method) {
    HbaRule r;
    r.line_number = line;
    r.type = std::move(type);
    r.database = "{all}";
    r.user_name = "{all}";
    r.address = std::move(address);
    r.netmask = std::move(netmask);
    r.auth_method = std::move(method);
    return r;
}
}  // namespace

TEST(RulesTest, LoopbackRules) {
    EXPECT_TRUE(is_loopback_rule(rule(1, "host", "127.0.0.1", "255.255.255.255", "md5")));
    EXPECT_TRUE(is_loopback_rule(rule(1, "host", "127.0.0.0", "255.0.0.0", "md5")));
    EXPECT_TRUE(is_loopback_rule(rule(1, "host", "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "md5")));
    EXPECT_FALSE(is_loopback_rule(rule(1, "host", "127.0.0.0", "0.0.0.0", "md5")));
    EXPECT_FALSE(is_loopback_rule(rule(1, "host", "10.0.0.0", "255.0.0.0", "md5")));
    EXPECT_FALSE(is_loopback_rule(rule(1, "host", "all", "", "md5")));
    EXPECT_FALSE(is_loopback_rule(rule(1, "host", "samenet", "", "md5")));
}

TEST(RulesTest, HbaRules) {
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

TEST(RulesTest, Md5Passwords) {
    EXPECT_TRUE(all_ok(check_md5_passwords({})));
    auto f = check_md5_passwords({"alice", "bob"});
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_NE(f[0].message.find("2 roles"), std::string::npos);
    EXPECT_NE(f[0].message.find("alice, bob"), std::string::npos);
    std::vector<std::string> many(25, "r");
    EXPECT_NE(check_md5_passwords(many)[0].message.find("and 15 more"), std::string::npos);
}

// --- sessions -----------------------------------------------------------------

TEST(RulesTest, SessionsBelowFloorAreGrouped) {
    std::vector<SessionFacts> sessions(4);
    sessions[0] = {101, "app", "db", "10.0.0.5", "tls", "TLSv1.1", true, "TLSv1.1 < TLSv1.2", "", std::nullopt};
    sessions[1] = {102, "app", "db", "10.0.0.5", "tls", "TLSv1.1", true, "TLSv1.1 < TLSv1.2", "", std::nullopt};
    sessions[2] = {103, "app", "db", "10.0.0.6", "tcp", "", true, "no TLS", "", std::nullopt};
    sessions[3] = {104, "app", "db", "", "unix", "", false, "", "", std::nullopt};
    auto f = check_sessions_below_floor(sessions);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].object, "app@db from 10.0.0.5");
    EXPECT_NE(f[0].message.find("2 sessions"), std::string::npos);
    EXPECT_NE(f[0].message.find("101, 102"), std::string::npos);
    EXPECT_NE(f[1].message.find("no TLS"), std::string::npos);
    EXPECT_TRUE(all_ok(check_sessions_below_floor({sessions[3]})));
}

TEST(RulesTest, ClientCertExpiry) {
    const std::int64_t n = now();
    std::vector<SessionFacts> sessions(3);
    sessions[0] = {201, "a", "db", "", "tls", "TLSv1.3", false, "", "CN=soon", n + 3 * kDay};
    sessions[1] = {202, "a", "db", "", "tls", "TLSv1.3", false, "", "CN=later", n + 20 * kDay};
    sessions[2] = {203, "a", "db", "", "tls", "TLSv1.3", false, "", "CN=fine", n + 200 * kDay};
    auto f = check_client_cert_expiry(sessions, Thresholds{}, n);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].object, "CN=later");
    EXPECT_EQ(f[0].severity, Severity::Warning);
    EXPECT_EQ(f[1].object, "CN=soon");
    EXPECT_EQ(f[1].severity, Severity::Critical);
    EXPECT_TRUE(all_ok(check_client_cert_expiry({sessions[2]}, Thresholds{}, n)));
    EXPECT_TRUE(all_ok(check_client_cert_expiry({}, Thresholds{}, n)));
}

// --- evaluate() -----------------------------------------------------------------

namespace {

AuditFacts clean_facts() {
    AuditFacts f;
    f.now = now();
    f.settings.ssl = true;
    f.settings.listen_addresses = "*";
    f.settings.min_protocol = "TLSv1.2";
    f.settings.ciphers = "HIGH:!aNULL:!eNULL:!kRSA";
    f.settings.password_encryption = "scram-sha-256";
    f.ciphers = Input<std::vector<CipherFacts>>::of(enabled("HIGH:!aNULL:!eNULL:!kRSA", "TLSv1.2", ""));
    ServerCertFacts s = facts_for("server-chain.crt");
    s.key_matches_cert = true;
    s.key_permissions_ok = true;
    s.key_file_mode = "0600";
    s.key_file_owner = "postgres";
    s.chain_complete = true;
    s.reload_pending = false;
    f.server = Input<ServerCertFacts>::of(s);
    f.ca_file = "root.crt";
    f.ca_certificates = Input<std::vector<CertInfo>>::of({cert_from("root.crt")});
    f.hba = Input<std::vector<HbaRule>>::of({rule(1, "hostssl", "all", "", "scram-sha-256")});
    f.md5_roles = Input<std::vector<std::string>>::of({});
    f.sessions = Input<std::vector<SessionFacts>>::of({});
    f.file_settings = Input<std::vector<FileSetting>>::of({});
    std::vector<PreflightStage> stages;
    for (const auto &name : preflight_stage_names()) stages.push_back(PreflightStage{name, "", true, ""});
    f.preflight = Input<std::vector<PreflightStage>>::of(stages);
    return f;
}

std::vector<std::string> checks_in(const std::vector<Finding> &findings) {
    std::vector<std::string> out;
    for (const auto &f : findings)
        if (out.empty() || out.back() != f.check) out.push_back(f.check);
    return out;
}

}  // namespace

TEST(RulesTest, EvaluateCleanServerIsAllOk) {
    auto findings = evaluate(clean_facts());
    EXPECT_EQ(checks_in(findings), check_names());
    EXPECT_EQ(findings.size(), check_names().size());
    for (const auto &f : findings) EXPECT_EQ(f.severity, Severity::Ok) << f.check << ": " << f.message;
}

TEST(RulesTest, EvaluateWithSslOff) {
    AuditFacts f = clean_facts();
    f.settings.ssl = false;
    auto findings = evaluate(f);
    EXPECT_EQ(checks_in(findings), check_names());
    EXPECT_EQ(findings[0].check, "ssl_enabled");
    EXPECT_EQ(findings[0].severity, Severity::Critical);
    for (const auto &x : findings) {
        if (x.check.rfind("server_", 0) == 0 || x.check == "weak_ciphers" || x.check == "min_protocol") {
            EXPECT_EQ(x.severity, Severity::Info) << x.check;
            EXPECT_EQ(x.message, "not applicable: ssl is off");
        }
    }
}

TEST(RulesTest, EvaluateWithMissingInputs) {
    AuditFacts f = clean_facts();
    f.server = Input<ServerCertFacts>::none("function tls_audit.server_tls() does not exist");
    f.hba = Input<std::vector<HbaRule>>::none("permission denied for view pg_hba_file_rules");
    f.md5_roles = Input<std::vector<std::string>>::none("only superusers can read pg_authid");
    f.sessions = Input<std::vector<SessionFacts>>::none("no sessions view");
    f.ciphers = Input<std::vector<CipherFacts>>::none("bad list");
    f.ca_certificates = Input<std::vector<CertInfo>>::none("no CA view");
    f.file_settings = Input<std::vector<FileSetting>>::none("permission denied for function pg_show_all_file_settings");
    f.preflight = Input<std::vector<PreflightStage>>::none("function tls_audit.reload_preflight() does not exist");
    auto findings = evaluate(f);
    EXPECT_EQ(checks_in(findings), check_names());
    int info = 0;
    for (const auto &x : findings) {
        if (x.severity == Severity::Info) {
            ++info;
            EXPECT_EQ(x.message.rfind("not available: ", 0), 0u) << x.message;
        }
    }
    // 7 server checks, server_tls_reload_would_fail, weak_ciphers, ca_file_expiry, 3 hba, md5, 2 session
    // checks, settings_not_applied.
    EXPECT_EQ(info, 17);
}

// --- reload pre-flight and CRL coverage ----------------------------------------

namespace {
std::vector<PreflightStage> stages_with(const std::string &failing, const std::string &error) {
    std::vector<PreflightStage> stages;
    for (const auto &name : preflight_stage_names()) {
        PreflightStage s{name, name == "certificate" ? "server.crt" : "", true, ""};
        if (name == failing) {
            s.ok = false;
            s.error = error;
        }
        stages.push_back(s);
    }
    return stages;
}
}  // namespace

TEST(RulesTest, ReloadWouldFailIsCriticalWithTheReason) {
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

TEST(RulesTest, ReloadPendingSaysWhetherAReloadWouldFixIt) {
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

TEST(RulesTest, EvaluateReportsReloadWouldFail) {
    AuditFacts f = clean_facts();
    f.preflight = Input<std::vector<PreflightStage>>::of(stages_with("certificate", "no start line"));
    auto findings = evaluate(f);
    EXPECT_EQ(checks_in(findings), check_names());
    int critical = 0;
    for (const auto &x : findings)
        if (x.severity == Severity::Critical) {
            ++critical;
            EXPECT_EQ(x.check, "server_tls_reload_would_fail");
        }
    EXPECT_EQ(critical, 1);
}

TEST(RulesTest, CrlCoverageNeedsACrlPerCa) {
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
