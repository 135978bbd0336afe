// The cipher suites the enumeration offers and how it describes them: the
// local OpenSSL's suites per protocol version (candidate_suites()), those it
// knows but cannot offer (untestable_suites()), and a suite's description
// (describe_suite()). Declared in probe_enumerate.hpp, whose loops use them.
#include "probe/probe_enumerate.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <new>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include "base/openssl_ptr.hpp"
#include "probe/probe_tls.hpp"

namespace tls_audit {

namespace {

// Everything OpenSSL has for TLS up to 1.2, including NULL encryption
// (COMPLEMENTOFALL), at security level 0.
constexpr const char *kAllSuites = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";

// The TLS 1.3 suites of RFC 8446 that OpenSSL implements.
constexpr const char *kTls13Suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                        "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256",
                                        "TLS_AES_128_CCM_8_SHA256"};

std::string join_names(const std::vector<std::string> &names) {
    std::string out;
    for (const auto &n : names) {
        if (!out.empty()) out += ":";
        out += n;
    }
    return out;
}

SslCtxPtr bare_context() {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) throw std::bad_alloc();
    SSL_CTX_set_security_level(ctx.get(), 0);
    return ctx;
}

// Every suite object this OpenSSL knows, by OpenSSL name (TLS 1.3 included).
const std::map<std::string, const SSL_CIPHER *> &known_suites() {
    static const std::map<std::string, const SSL_CIPHER *> known = [] {
        std::map<std::string, const SSL_CIPHER *> m;
        SslCtxPtr ctx = bare_context();
        SSL_CTX_set_cipher_list(ctx.get(), kAllSuites);
        SSL_CTX_set_ciphersuites(ctx.get(), join_names({std::begin(kTls13Suites), std::end(kTls13Suites)}).c_str());
        STACK_OF(SSL_CIPHER) *all = SSL_CTX_get_ciphers(ctx.get());
        for (int i = 0; i < sk_SSL_CIPHER_num(all); ++i) {
            const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, i);
            m.emplace(SSL_CIPHER_get_name(c), c);
        }
        ERR_clear_error();
        return m;
    }();
    return known;
}

std::vector<std::string> compute_candidates(Protocol p) {
    std::vector<std::string> out;
    if (p == Protocol::TLSv1_3) {
        for (const char *name : kTls13Suites) {
            SslCtxPtr ctx = bare_context();
            if (SSL_CTX_set_ciphersuites(ctx.get(), name) == 1) out.emplace_back(name);
        }
        ERR_clear_error();
        return out;
    }
    auto ctx = make_probe_context(p);
    if (!ctx || SSL_CTX_set_cipher_list(ctx.value().get(), kAllSuites) != 1) {
        ERR_clear_error();
        return out;
    }
    SslPtr ssl(SSL_new(ctx.value().get()));
    if (!ssl) throw std::bad_alloc();
    // Filtered by protocol version and by what a client without PSK or SRP
    // credentials can offer.
    STACK_OF(SSL_CIPHER) *supported = SSL_get1_supported_ciphers(ssl.get());
    for (int i = 0; i < sk_SSL_CIPHER_num(supported); ++i) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(supported, i);
        if (std::string(SSL_CIPHER_get_version(c)) == "TLSv1.3") continue;
        out.emplace_back(SSL_CIPHER_get_name(c));
    }
    sk_SSL_CIPHER_free(supported);
    ERR_clear_error();
    return out;
}

std::string strip_prefix(const char *sn, const char *prefix) {
    std::string s = sn != nullptr ? sn : "";
    std::string pre = prefix;
    if (s.rfind(pre, 0) == 0) s = s.substr(pre.size());
    if (s == "ANY") return "any";
    if (s == "NULL") return "none";
    return s;
}

}  // namespace

std::vector<std::string> candidate_suites(Protocol p) {
    static std::mutex mu;
    static std::map<Protocol, std::vector<std::string>> cache;
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(p);
    if (it == cache.end()) it = cache.emplace(p, compute_candidates(p)).first;
    return it->second;
}

std::vector<std::string> untestable_suites() {
    std::vector<std::string> offered;
    for (Protocol p : kProbedProtocols) {
        auto c = candidate_suites(p);
        offered.insert(offered.end(), c.begin(), c.end());
    }
    std::vector<std::string> out;
    for (const auto &[name, cipher] : known_suites()) {
        (void)cipher;
        if (std::find(offered.begin(), offered.end(), name) == offered.end()) out.push_back(name);
    }
    return out;
}

std::optional<AcceptedSuite> describe_suite(const std::string &openssl_name) {
    const auto &known = known_suites();
    auto it = known.find(openssl_name);
    if (it == known.end()) return std::nullopt;
    AcceptedSuite s;
    s.facts = describe_cipher(it->second);
    s.key_exchange = strip_prefix(OBJ_nid2sn(s.facts.kx_nid), "Kx");
    s.authentication = strip_prefix(OBJ_nid2sn(s.facts.auth_nid), "Auth");
    if (s.facts.cipher_nid == NID_undef) {
        s.encryption = "none";
    } else {
        // "AES-128-GCM", "CHACHA20-POLY1305", "CAMELLIA-256-CBC", ...
        const char *ln = OBJ_nid2ln(s.facts.cipher_nid);
        s.encryption = ln != nullptr ? ln : "";
        std::transform(s.encryption.begin(), s.encryption.end(), s.encryption.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    }
    s.strength = cipher_strength(s.facts);
    return s;
}

}  // namespace tls_audit
