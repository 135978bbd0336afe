#include "checks/checks_protocols.hpp"

#include <map>
#include <set>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "checks/check_util.hpp"

namespace tls_audit {

using namespace check_util;

// Server settings

std::vector<Finding> check_ssl_enabled(const ServerSettings &s) {
    constexpr std::string_view check = "ssl_enabled";
    if (s.ssl) return ok(check, "ssl is on");
    if (s.listen_addresses.empty())
        return {make(check, Severity::Info, "ssl",
                     "ssl is off, but listen_addresses is empty: only unix-socket connections are accepted",
                     "Set ssl = on (with ssl_cert_file and ssl_key_file) before enabling TCP connections.")};
    return {make(check, Severity::Critical, "ssl",
                 "ssl is off: every TCP connection (listen_addresses = '" + s.listen_addresses +
                     "') is unencrypted",
                 "Install a certificate and key, set ssl = on, ssl_cert_file and ssl_key_file, and reload "
                 "(https://www.postgresql.org/docs/current/ssl-tcp.html).")};
}

std::vector<Finding> check_min_protocol(const ServerSettings &s, Protocol floor) {
    constexpr std::string_view check = "min_protocol";
    const std::string floor_name = protocol_name(floor);
    const std::string hint = "Set ssl_min_protocol_version = '" + floor_name +
                             "' (or newer) and reload "
                             "(https://www.postgresql.org/docs/current/runtime-config-connection.html"
                             "#GUC-SSL-MIN-PROTOCOL-VERSION).";
    std::optional<Protocol> min;
    if (!s.min_protocol.empty()) {
        min = parse_protocol(s.min_protocol);
        if (!min)
            return {make(check, Severity::Warning, "ssl_min_protocol_version",
                         "unknown ssl_min_protocol_version '" + s.min_protocol + "'", hint)};
    }
    if (min && *min >= floor)
        return ok(check, "ssl_min_protocol_version " + s.min_protocol + " is not below the floor " + floor_name +
                             " (tls_audit.min_protocol)");
    const std::string shown = min ? protocol_name(*min) : std::string("any version (empty)");
    // TLSv1 and TLSv1.1 are deprecated outright (RFC 8996).
    const bool deprecated = !min || *min < Protocol::TLSv1_2;
    return {make(check, deprecated ? Severity::Critical : Severity::Warning, "ssl_min_protocol_version",
                 "ssl_min_protocol_version allows " + shown + ", below the floor " + floor_name +
                     " (tls_audit.min_protocol)" +
                     (deprecated ? "; TLSv1 and TLSv1.1 are deprecated (RFC 8996)" : ""),
                 hint)};
}

std::vector<Finding> check_max_protocol(const ServerSettings &s) {
    constexpr std::string_view check = "max_protocol";
    if (s.max_protocol.empty()) return ok(check, "ssl_max_protocol_version is not set: TLSv1.3 is allowed");
    auto max = parse_protocol(s.max_protocol);
    if (max && *max >= Protocol::TLSv1_3)
        return ok(check, "ssl_max_protocol_version " + s.max_protocol + " allows TLSv1.3");
    return {make(check, Severity::Warning, "ssl_max_protocol_version",
                 "ssl_max_protocol_version = '" + s.max_protocol + "' disables TLSv1.3",
                 "Reset ssl_max_protocol_version (leave it empty) and reload "
                 "(https://www.postgresql.org/docs/current/runtime-config-connection.html"
                 "#GUC-SSL-MAX-PROTOCOL-VERSION).")};
}

std::vector<Finding> check_key_exchange_groups(const ServerSettings &s) {
    constexpr std::string_view check = "key_exchange_groups";
    if (s.groups.empty())
        return ok(check, "no group list is set: OpenSSL's default groups (X25519, P-256, ...) are offered");
    // Names OpenSSL accepts (lower case) and their security strength in bits
    // (NIST SP 800-57: P-192 96 bits, P-224 and ffdhe2048 112; ffdhe3072 128).
    struct Known {
        const char *name;
        const char *canonical;
        int bits;
    };
    static const Known known[] = {
        {"x25519", "X25519", 128},
        {"x448", "X448", 224},
        {"prime256v1", "P-256", 128},
        {"secp256r1", "P-256", 128},
        {"p-256", "P-256", 128},
        {"secp384r1", "P-384", 192},
        {"p-384", "P-384", 192},
        {"secp521r1", "P-521", 256},
        {"p-521", "P-521", 256},
        {"prime192v1", "P-192", 96},
        {"secp192r1", "P-192", 96},
        {"p-192", "P-192", 96},
        {"secp224r1", "P-224", 112},
        {"p-224", "P-224", 112},
        {"ffdhe2048", "ffdhe2048", 112},
        {"ffdhe3072", "ffdhe3072", 128},
        {"ffdhe4096", "ffdhe4096", 150},
        {"ffdhe6144", "ffdhe6144", 175},
        {"ffdhe8192", "ffdhe8192", 192},
        {"brainpoolp256r1", "brainpoolP256r1", 128},
        {"brainpoolp384r1", "brainpoolP384r1", 192},
        {"brainpoolp512r1", "brainpoolP512r1", 256},
        {"x25519mlkem768", "X25519MLKEM768", 128},
    };
    std::vector<std::string> weak, unknown;
    bool common = false;
    std::size_t start = 0;
    while (start <= s.groups.size()) {
        std::size_t end = s.groups.find(':', start);
        if (end == std::string::npos) end = s.groups.size();
        const std::string name = lower(std::string_view(s.groups).substr(start, end - start));
        start = end + 1;
        if (name.empty()) continue;
        const Known *k = nullptr;
        for (const auto &candidate : known)
            if (name == candidate.name) k = &candidate;
        if (k == nullptr) {
            unknown.push_back(name);
            continue;
        }
        const std::string_view canonical(k->canonical);
        if (canonical == "X25519" || canonical == "P-256") common = true;
        if (k->bits < 128) weak.push_back(std::string(canonical));
    }
    std::vector<Finding> found;
    const std::string hint = "Set ssl_groups (PostgreSQL 18; ssl_ecdh_curve before) to e.g. 'X25519:prime256v1' and "
                             "reload (https://www.postgresql.org/docs/current/runtime-config-connection.html"
                             "#GUC-SSL-GROUPS).";
    if (!weak.empty())
        found.push_back(make(check, Severity::Warning, s.groups,
                             "groups below 128-bit security are allowed: " + join_limited(weak), hint));
    if (!common)
        found.push_back(make(check, Severity::Warning, s.groups,
                             "neither X25519 nor P-256 is allowed: clients that offer only those (most do) cannot "
                             "complete an ECDHE key exchange",
                             hint));
    if (!unknown.empty())
        found.push_back(make(check, Severity::Warning, s.groups,
                             "group names OpenSSL does not know: " + join_limited(unknown), hint));
    return or_ok(std::move(found), check, "groups " + s.groups + " include X25519 or P-256 and none below 128 bits");
}

// Ciphers

std::vector<CipherWeakness> cipher_weaknesses(const CipherFacts &c) {
    std::vector<CipherWeakness> out;
    const std::string &name = c.name;
    if (c.cipher_nid == NID_undef || contains(name, "NULL-") || name.rfind("NULL", 0) == 0)
        out.push_back({"NULL encryption", Severity::Critical, "eNULL"});
    if (c.auth_nid == NID_auth_null) out.push_back({"no authentication (anonymous)", Severity::Critical, "aNULL"});
    if (contains(name, "EXP")) out.push_back({"EXPORT grade", Severity::Critical, "EXP"});
    if (c.cipher_nid == NID_rc4 || c.cipher_nid == NID_rc4_40 || contains(name, "RC4"))
        out.push_back({"RC4", Severity::Critical, "RC4"});
    if (c.cipher_nid == NID_des_ede3_cbc || contains(name, "DES-CBC3") || contains(name, "3DES"))
        out.push_back({"3DES (64-bit block, Sweet32)", Severity::Warning, "3DES"});
    else if (c.cipher_nid == NID_des_cbc || contains(name, "DES-CBC"))
        out.push_back({"single DES", Severity::Critical, "DES"});
    if (c.digest_nid == NID_md5 || contains(name, "MD5")) out.push_back({"MD5 MAC", Severity::Critical, "MD5"});
    // TLS 1.3's TLS_AES_128_CCM_8_SHA256: an 8-byte tag, 64-bit integrity,
    // below the 128 bits every guide asks for (PostgreSQL 18's
    // ssl_tls13_ciphers can enable it). TLS 1.2's *-CCM8 suites have the same
    // tag but are left to the clean-list advice (HIGH includes them).
    if (name.rfind("TLS_", 0) == 0 && contains(name, "CCM_8"))
        out.push_back({"a 64-bit authentication tag (CCM_8)", Severity::Warning, "CCM8"});
    if (c.kx_nid == NID_kx_rsa)
        out.push_back({"no forward secrecy (RSA key exchange)", Severity::Warning, "kRSA"});
    else if (c.kx_nid == NID_kx_rsa_psk)
        out.push_back({"no forward secrecy (RSA-PSK key exchange)", Severity::Warning, "kRSAPSK"});
    else if (c.kx_nid == NID_kx_psk)
        out.push_back({"no forward secrecy (PSK key exchange)", Severity::Warning, "kPSK"});
    return out;
}

CipherStrength cipher_strength(const CipherFacts &c) {
    CipherStrength s = CipherStrength::Strong;
    for (const auto &w : cipher_weaknesses(c)) {
        if (w.severity == Severity::Critical) return CipherStrength::Insecure;
        s = CipherStrength::Weak;
    }
    return s;
}

const char *cipher_strength_name(CipherStrength s) {
    switch (s) {
        case CipherStrength::Strong: return "strong";
        case CipherStrength::Weak: return "weak";
        case CipherStrength::Insecure: return "insecure";
    }
    return "insecure";
}

CipherFacts describe_cipher(const SSL_CIPHER *cipher) {
    CipherFacts f;
    const char *name = SSL_CIPHER_get_name(cipher);
    const char *standard = SSL_CIPHER_standard_name(cipher);
    const char *version = SSL_CIPHER_get_version(cipher);
    f.name = name != nullptr ? name : "";
    f.standard_name = standard != nullptr ? standard : "";
    f.min_version = version != nullptr ? version : "";
    f.kx_nid = SSL_CIPHER_get_kx_nid(cipher);
    f.auth_nid = SSL_CIPHER_get_auth_nid(cipher);
    f.cipher_nid = SSL_CIPHER_get_cipher_nid(cipher);
    f.digest_nid = SSL_CIPHER_get_digest_nid(cipher);
    f.bits = SSL_CIPHER_get_bits(cipher, nullptr);
    return f;
}

Expected<std::vector<CipherFacts>> enabled_ciphers(std::string_view cipher_list,
                                                   std::string_view min_protocol,
                                                   std::string_view max_protocol,
                                                   std::string_view tls13_ciphers) {
    if (cipher_list.size() > 8192)
        return make_error(sqlstate::kProgramLimit, "cipher list too long", "The limit is 8192 bytes.");
    if (cipher_list.find('\0') != std::string_view::npos)
        return make_error(sqlstate::kInvalidParameter, "cipher list contains a zero byte");
    // Leave OpenSSL's per-thread error queue empty on every path: in a
    // backend, a stale entry would be blamed on the next TLS read or write.
    struct ClearErrors {
        ClearErrors() { ERR_clear_error(); }
        ~ClearErrors() { ERR_clear_error(); }
    } clear_errors;
    // PostgreSQL: SSL_CTX_new(SSLv23_method()) = TLS_method(), then the
    // protocol range, then SSL_CTX_set_cipher_list(ssl_ciphers).
    SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) throw std::bad_alloc();
    auto set_version = [&](std::string_view name, bool is_min) -> std::optional<Error> {
        if (name.empty()) return std::nullopt;
        auto p = parse_protocol(name);
        if (!p)
            return make_error(sqlstate::kInvalidParameter, "unknown protocol version \"" + std::string(name) + "\"",
                              std::string("Valid versions: ") + valid_floor_names() + ".");
        const int v = protocol_to_openssl(*p);
        const int rc = is_min ? SSL_CTX_set_min_proto_version(ctx.get(), v)
                              : SSL_CTX_set_max_proto_version(ctx.get(), v);
        if (rc != 1)
            return make_error(sqlstate::kInvalidParameter,
                              "OpenSSL does not support protocol version " + std::string(name));
        return std::nullopt;
    };
    if (auto e = set_version(min_protocol, true)) return *e;
    if (auto e = set_version(max_protocol, false)) return *e;
    const std::string list(cipher_list);
    if (SSL_CTX_set_cipher_list(ctx.get(), list.c_str()) != 1)
        return make_error(sqlstate::kInvalidParameter,
                          "OpenSSL enables no cipher for \"" + list + "\": " +
                              take_openssl_error("no cipher match"),
                          "PostgreSQL refuses to load such an ssl_ciphers setting.");
    // PostgreSQL 18: SSL_CTX_set_ciphersuites(ssl_tls13_ciphers) when set.
    if (!tls13_ciphers.empty()) {
        const std::string suites(tls13_ciphers);
        if (suites.find('\0') != std::string::npos || SSL_CTX_set_ciphersuites(ctx.get(), suites.c_str()) != 1)
            return make_error(sqlstate::kInvalidParameter,
                              "OpenSSL enables no TLS 1.3 cipher suite for \"" + suites + "\": " +
                                  take_openssl_error("no cipher match"),
                              "PostgreSQL refuses to load such an ssl_tls13_ciphers setting.");
    }
    SslPtr ssl(SSL_new(ctx.get()));
    if (!ssl) throw std::bad_alloc();
    std::vector<CipherFacts> out;
    // Filtered by protocol range and security level, unlike SSL_get_ciphers.
    STACK_OF(SSL_CIPHER) *supported = SSL_get1_supported_ciphers(ssl.get());
    if (supported == nullptr) return out;  // nothing can be negotiated (e.g. an empty protocol range)
    for (int i = 0; i < sk_SSL_CIPHER_num(supported); ++i) {
        try {
            out.push_back(describe_cipher(sk_SSL_CIPHER_value(supported, i)));
        } catch (...) {
            sk_SSL_CIPHER_free(supported);
            throw;
        }
    }
    sk_SSL_CIPHER_free(supported);
    return out;
}

std::vector<Finding> check_weak_ciphers(const std::vector<CipherFacts> &enabled) {
    constexpr std::string_view check = "weak_ciphers";
    struct Group {
        std::string label;
        Severity severity = Severity::Ok;
        std::vector<std::string> ciphers;
    };
    std::vector<std::string> order;  // tokens in order of first appearance
    std::map<std::string, Group> groups;
    for (const auto &c : enabled) {
        for (const auto &w : cipher_weaknesses(c)) {
            auto [it, inserted] = groups.try_emplace(w.token);
            if (inserted) {
                order.push_back(w.token);
                it->second.label = w.label;
            }
            it->second.severity = std::max(it->second.severity, w.severity);
            it->second.ciphers.push_back(c.name);
        }
    }
    std::vector<Finding> found;
    for (const auto &token : order) {
        const Group &g = groups[token];
        // TLS 1.3 suites (IANA names TLS_*) are set by ssl_tls13_ciphers, not ssl_ciphers.
        const bool tls13 = std::all_of(g.ciphers.begin(), g.ciphers.end(),
                                       [](const std::string &n) { return n.rfind("TLS_", 0) == 0; });
        found.push_back(make(check, g.severity, token,
                             std::string(tls13 ? "ssl_tls13_ciphers" : "ssl_ciphers") + " enables " +
                                 plural(static_cast<std::int64_t>(g.ciphers.size()), "cipher suite") + " with " +
                                 g.label + ": " + join_limited(g.ciphers),
                             tls13 ? std::string("Remove them from ssl_tls13_ciphers (e.g. 'TLS_AES_256_GCM_SHA384:"
                                                 "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256') and reload "
                                                 "(https://www.postgresql.org/docs/current/runtime-config-connection.html"
                                                 "#GUC-SSL-TLS13-CIPHERS).")
                                   : "Append :!" + token +
                                         " to ssl_ciphers (a clean list: 'HIGH:!aNULL:!eNULL:!kRSA') and reload "
                                         "(https://www.postgresql.org/docs/current/runtime-config-connection.html"
                                         "#GUC-SSL-CIPHERS)."));
    }
    return or_ok(std::move(found), check,
                 "none of the " + std::to_string(enabled.size()) + " enabled cipher suites is weak");
}

}  // namespace tls_audit
