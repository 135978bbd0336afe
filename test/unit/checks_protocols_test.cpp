// Protocol, cipher and key-exchange checks, and the cipher analyzer over the real OpenSSL.
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

TEST(ChecksProtocolsTest, SslEnabled) {
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

TEST(ChecksProtocolsTest, MinProtocolAgainstFloor) {
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

TEST(ChecksProtocolsTest, MaxProtocol) {
    ServerSettings s;
    EXPECT_TRUE(all_ok(check_max_protocol(s)));
    s.max_protocol = "TLSv1.3";
    EXPECT_TRUE(all_ok(check_max_protocol(s)));
    s.max_protocol = "TLSv1.2";
    auto f = check_max_protocol(s);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].severity, Severity::Warning);
}

TEST(ChecksProtocolsTest, KeyExchangeGroups) {
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

TEST(ChecksProtocolsTest, Tls13CipherSuitesAreJudged) {
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

TEST(ChecksProtocolsTest, CipherWeaknessLabels) {
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

TEST(ChecksProtocolsTest, CleanCipherListHasNoWeakCipher) {
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

TEST(ChecksProtocolsTest, WeakCipherListIsFlagged) {
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

TEST(ChecksProtocolsTest, SecurityLevelRemovesWhatCannotBeNegotiated) {
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

TEST(ChecksProtocolsTest, ProtocolRangeRemovesSuites) {
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

TEST(ChecksProtocolsTest, BadCipherListsAreErrors) {
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

TEST(ChecksProtocolsTest, FlaggedCiphersReallyNegotiate) {
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
