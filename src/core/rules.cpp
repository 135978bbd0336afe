#include "rules.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <tuple>

#include <openssl/err.h>
#include <openssl/objects.h>

namespace tls_audit {

namespace {

constexpr std::int64_t kDay = 86400;

Finding make(std::string_view check, Severity severity, std::string object, std::string message,
             std::string hint = {}) {
    return Finding{std::string(check), severity, std::move(object), std::move(message), std::move(hint)};
}

std::vector<Finding> ok(std::string_view check, std::string message) {
    return {make(check, Severity::Ok, {}, std::move(message))};
}

// `found` when it has rows, else one 'ok' row.
std::vector<Finding> or_ok(std::vector<Finding> found, std::string_view check, std::string ok_message) {
    if (found.empty()) return ok(check, std::move(ok_message));
    return found;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

std::string plural(std::int64_t n, const char *unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

// Join at most `limit` items, then "and N more".
std::string join_limited(const std::vector<std::string> &items, std::size_t limit = 10) {
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < limit; ++i) {
        if (i > 0) out += ", ";
        out += items[i];
    }
    if (items.size() > limit) out += " and " + std::to_string(items.size() - limit) + " more";
    return out;
}

// Expiry of something valid from not_before (0 = unknown) until not_after.
struct ExpiryVerdict {
    Severity severity;
    std::string text;
};

std::optional<ExpiryVerdict> expiry_verdict(std::int64_t not_before, std::int64_t not_after,
                                            const Thresholds &t, std::int64_t now) {
    const std::int64_t left = not_after - now;
    if (left <= 0) {
        const std::int64_t ago = (now - not_after) / kDay;
        return ExpiryVerdict{Severity::Critical,
                             "expired " + (ago < 1 ? std::string("less than a day ago") : plural(ago, "day") + " ago") +
                                 " (" + format_utc(not_after) + ")"};
    }
    if (not_before != 0 && not_before > now)
        return ExpiryVerdict{Severity::Critical, "is not valid before " + format_utc(not_before)};
    const std::string when = "expires in " + plural(days_left(not_after, now), "day") + " (" +
                             format_utc(not_after) + ")";
    if (left < static_cast<std::int64_t>(t.critical_days) * kDay) return ExpiryVerdict{Severity::Critical, when};
    if (left < static_cast<std::int64_t>(t.warning_days) * kDay) return ExpiryVerdict{Severity::Warning, when};
    return std::nullopt;
}

std::string window_text(const Thresholds &t) {
    return "within " + plural(std::max(t.warning_days, t.critical_days), "day");
}

bool is_tcp_rule(const HbaRule &r) {
    return r.type == "host" || r.type == "hostssl" || r.type == "hostnossl" || r.type == "hostgssenc" ||
           r.type == "hostnogssenc";
}

std::string hba_object(const HbaRule &r) { return "pg_hba.conf line " + std::to_string(r.line_number); }

std::string hba_line_text(const HbaRule &r) {
    std::string text = r.type + " " + r.database + " " + r.user_name;
    if (!r.address.empty()) text += " " + r.address;
    if (!r.netmask.empty()) text += " " + r.netmask;
    return text + " " + r.auth_method;
}

std::string cert_where(const SeenCertificate &c) {
    std::string where = c.position == 0 ? "leaf" : "chain position " + std::to_string(c.position);
    if (c.served && c.in_file) return where + ", served and in ssl_cert_file";
    if (c.served) return where + ", served (no longer in ssl_cert_file)";
    return where + ", in ssl_cert_file (not served yet)";
}

}  // namespace

// ---------------------------------------------------------------------------

const char *severity_name(Severity s) {
    switch (s) {
    case Severity::Ok: return "ok";
    case Severity::Info: return "info";
    case Severity::Warning: return "warning";
    case Severity::Critical: return "critical";
    }
    return "unknown";
}

std::optional<Severity> parse_severity(std::string_view name) {
    for (Severity s : {Severity::Ok, Severity::Info, Severity::Warning, Severity::Critical})
        if (name == severity_name(s)) return s;
    return std::nullopt;
}

const std::vector<std::string> &check_names() {
    static const std::vector<std::string> names = {
        "ssl_enabled",          "min_protocol",          "max_protocol",
        "weak_ciphers",         "key_exchange_groups",   "server_cert_expiry",    "server_cert_key_strength",
        "server_cert_signature", "server_cert_self_signed", "server_cert_chain",
        "server_key_permissions", "server_cert_reload_pending", "server_tls_reload_would_fail",
        "ca_file_expiry",       "crl_expiry",            "crl_coverage",          "hba_hostnossl",         "hba_host_without_ssl",
        "hba_weak_auth",        "password_encryption",   "md5_passwords",
        "sessions_below_floor", "client_cert_expiry",   "settings_not_applied",
    };
    return names;
}

Severity worst_severity(const std::vector<Finding> &findings) {
    Severity worst = Severity::Ok;
    for (const auto &f : findings) worst = std::max(worst, f.severity);
    return worst;
}

Finding not_available(std::string_view check, std::string_view why) {
    return make(check, Severity::Info, {}, "not available: " + std::string(why));
}

std::string format_utc(std::int64_t epoch_seconds) {
    const std::time_t t = static_cast<std::time_t>(epoch_seconds);
    struct tm tm {};
    if (gmtime_r(&t, &tm) == nullptr) return std::to_string(epoch_seconds);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

// ---------------------------------------------------------------------------
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

std::vector<Finding> check_password_encryption(const ServerSettings &s) {
    constexpr std::string_view check = "password_encryption";
    if (lower(s.password_encryption) == "scram-sha-256") return ok(check, "password_encryption is scram-sha-256");
    return {make(check, Severity::Warning, "password_encryption",
                 "password_encryption = '" + s.password_encryption +
                     "': new and changed passwords are stored as MD5 hashes" +
                     (s.md5_deprecated ? " (MD5 passwords are deprecated since PostgreSQL 18)" : ""),
                 "Set password_encryption = 'scram-sha-256' and reload "
                 "(https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-PASSWORD-ENCRYPTION); "
                 "then have each md5 role set its password again.")};
}

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
// Server certificates

void add_seen_certificate(std::vector<SeenCertificate> &chain, const CertInfo &cert, int position, bool served) {
    for (auto &seen : chain) {
        if (!cert.sha256.empty() && seen.cert.sha256 == cert.sha256) {
            (served ? seen.served : seen.in_file) = true;
            return;
        }
    }
    SeenCertificate s;
    s.cert = cert;
    s.position = position;
    s.served = served;
    s.in_file = !served;
    chain.push_back(std::move(s));
}

std::vector<Finding> check_server_cert_expiry(const ServerCertFacts &f, const Thresholds &t, std::int64_t now) {
    constexpr std::string_view check = "server_cert_expiry";
    if (f.chain.empty()) return {not_available(check, "no server certificate could be read")};
    std::vector<Finding> found;
    for (const auto &c : f.chain) {
        // A self-signed root in the chain file is not validated by clients against its own dates
        // in the same way, but an expired one still breaks many clients: report it too.
        auto verdict = expiry_verdict(c.cert.not_before, c.cert.not_after, t, now);
        if (!verdict) continue;
        found.push_back(make(check, verdict->severity, c.cert.subject,
                             "server certificate " + verdict->text + " (" + cert_where(c) + ")",
                             c.served && !c.in_file
                                 ? "A renewed certificate is on disk: run SELECT pg_reload_conf()."
                                 : "Renew the certificate, install it as ssl_cert_file (" + f.cert_file +
                                       ") and run SELECT pg_reload_conf() "
                                       "(https://www.postgresql.org/docs/current/ssl-tcp.html#SSL-SERVER-FILES)."));
    }
    return or_ok(std::move(found), check,
                 "no server certificate expires " + window_text(t) + " (" + plural(static_cast<std::int64_t>(f.chain.size()), "certificate") + " checked)");
}

std::optional<std::string> weak_key_reason(const CertInfo &cert) {
    const std::string &type = cert.key_type;
    if (type == "RSA" || type == "RSA-PSS" || type == "DSA" || type == "DH") {
        if (cert.key_bits > 0 && cert.key_bits < 2048)
            return type + " key of " + std::to_string(cert.key_bits) + " bits (minimum 2048)";
    } else if (type == "EC") {
        if (cert.key_bits > 0 && cert.key_bits < 256)
            return "EC key of " + std::to_string(cert.key_bits) + " bits (minimum 256)";
    }
    return std::nullopt;
}

std::vector<Finding> check_server_cert_key_strength(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_cert_key_strength";
    if (f.chain.empty()) return {not_available(check, "no server certificate could be read")};
    std::vector<Finding> found;
    for (const auto &c : f.chain) {
        auto reason = weak_key_reason(c.cert);
        if (!reason) continue;
        found.push_back(make(check, Severity::Critical, c.cert.subject,
                             "server certificate has a weak " + *reason + " (" + cert_where(c) + ")",
                             "Issue a new certificate with an RSA key of at least 2048 bits or an EC key of at "
                             "least 256 bits (P-256, P-384) or Ed25519."));
    }
    return or_ok(std::move(found), check, "every server certificate key is strong enough");
}

std::optional<CipherWeakness> weak_signature(const CertInfo &cert) {
    const std::string alg = lower(cert.signature_algorithm);
    if (contains(alg, "md5") || contains(alg, "md4") || contains(alg, "md2"))
        return CipherWeakness{cert.signature_algorithm, Severity::Critical, {}};
    if (contains(alg, "sha1") || alg == "dsawithsha1" || contains(alg, "sha-1") || contains(alg, "shawithrsa"))
        return CipherWeakness{cert.signature_algorithm, Severity::Warning, {}};
    return std::nullopt;
}

std::vector<Finding> check_server_cert_signature(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_cert_signature";
    if (f.chain.empty()) return {not_available(check, "no server certificate could be read")};
    std::vector<Finding> found;
    for (const auto &c : f.chain) {
        // The signature on a trust anchor (a self-signed CA) is never checked by clients.
        if (c.position > 0 && c.cert.self_signed) continue;
        auto weak = weak_signature(c.cert);
        if (!weak) continue;
        found.push_back(make(check, weak->severity, c.cert.subject,
                             "server certificate is signed with " + weak->label + " (" + cert_where(c) + ")",
                             "Have the certificate re-issued with a SHA-256 (or stronger) signature."));
    }
    return or_ok(std::move(found), check, "every server certificate has a strong signature");
}

std::vector<Finding> check_server_cert_self_signed(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_cert_self_signed";
    if (f.chain.empty()) return {not_available(check, "no server certificate could be read")};
    std::vector<Finding> found;
    for (const auto &c : f.chain) {
        if (c.position != 0 || !c.cert.self_signed) continue;
        found.push_back(make(check, Severity::Warning, c.cert.subject,
                             "the server certificate is self-signed (" + cert_where(c) +
                                 "): clients using sslmode=verify-ca or verify-full must trust this very "
                                 "certificate",
                             "Use a certificate issued by a CA your clients trust (sslrootcert) "
                             "(https://www.postgresql.org/docs/current/libpq-ssl.html)."));
    }
    return or_ok(std::move(found), check, "the server certificate is issued by a CA");
}

std::vector<Finding> check_server_cert_chain(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_cert_chain";
    if (!f.chain_complete && !f.key_matches_cert)
        return {not_available(check, "chain and key facts could not be read")};
    std::vector<Finding> found;
    if (f.key_matches_cert && !*f.key_matches_cert)
        found.push_back(make(check, Severity::Critical, f.key_file,
                             "ssl_key_file does not belong to the certificate in ssl_cert_file: the next reload "
                             "or restart will fail to load them",
                             "Install the private key that was issued with " + f.cert_file +
                                 " (a renewed certificate usually comes with a new key)."));
    if (f.chain_complete && !*f.chain_complete)
        found.push_back(make(check, Severity::Warning, f.cert_file,
                             "the certificate chain in ssl_cert_file is incomplete" +
                                 (f.chain_error.empty() ? std::string() : ": " + f.chain_error),
                             "Append the intermediate CA certificate(s) to ssl_cert_file (leaf first), so that "
                             "clients that only trust the root can verify the server."));
    return or_ok(std::move(found), check, "the certificate chain is complete and the key matches the certificate");
}

std::vector<Finding> check_server_key_permissions(const ServerCertFacts &f) {
    constexpr std::string_view check = "server_key_permissions";
    if (!f.key_permissions_ok) return {not_available(check, "the key file's permissions could not be read")};
    if (*f.key_permissions_ok)
        return ok(check, "ssl_key_file permissions " + f.key_file_mode + " (owner " + f.key_file_owner + ") are safe");
    return {make(check, Severity::Critical, f.key_file,
                 "ssl_key_file has mode " + f.key_file_mode + " (owner " + f.key_file_owner +
                     "): the private key is readable by others, and PostgreSQL will refuse to load it at the "
                     "next reload",
                 "chmod 0600 the key file and make the server's OS user its owner (or mode 0640 owned by root) "
                 "(https://www.postgresql.org/docs/current/ssl-tcp.html#SSL-SERVER-FILES).")};
}

std::vector<Finding> check_server_cert_reload_pending(const ServerCertFacts &f,
                                                      const std::vector<PreflightStage> *preflight) {
    constexpr std::string_view check = "server_cert_reload_pending";
    const bool would_fail = preflight != nullptr && !preflight_would_succeed(*preflight);
    const std::string outcome =
        preflight == nullptr ? std::string()
        : would_fail         ? "; a reload would NOT fix it, it would fail: " + preflight_failure(*preflight)
                             : "; a reload would load it (the reload pre-flight passes)";
    if (!f.reload_pending) {
        if (would_fail)
            return {make(check, Severity::Info, f.cert_file, "the served certificate is not known" + outcome,
                         "See server_tls_reload_would_fail and SELECT * FROM tls_audit.reload_preflight().")};
        return {not_available(check, "the served certificate is not known")};
    }
    if (!*f.reload_pending) return ok(check, "the served certificate is the one in ssl_cert_file");
    return {make(check, Severity::Warning, f.cert_file,
                 "ssl_cert_file on disk (sha256 " + f.file_sha256.substr(0, 16) +
                     "...) differs from the certificate the server presents (sha256 " +
                     f.served_sha256.substr(0, 16) + "...): it has not been reloaded" + outcome,
                 would_fail ? "Fix what SELECT * FROM tls_audit.reload_preflight() reports, then run SELECT "
                              "pg_reload_conf()."
                            : "Run SELECT pg_reload_conf() (or pg_ctl reload) so that new connections get the new "
                              "certificate.")};
}

std::vector<Finding> check_server_tls_reload_would_fail(const std::vector<PreflightStage> &stages) {
    constexpr std::string_view check = "server_tls_reload_would_fail";
    std::vector<Finding> found;
    for (const auto &s : stages) {
        if (!s.ok || *s.ok) continue;
        found.push_back(make(check, Severity::Critical, s.file.empty() ? s.stage : s.file,
                             "the TLS configuration on disk does not load (stage " + s.stage + "): " + s.error +
                                 "; a reload keeps the previous configuration and the next restart fails",
                             "Fix the file or setting named, check with SELECT * FROM tls_audit.reload_preflight(), "
                             "then run SELECT pg_reload_conf() "
                             "(https://www.postgresql.org/docs/current/ssl-tcp.html#SSL-SERVER-FILES)."));
    }
    std::string undecided;
    for (const auto &s : stages)
        if (!s.ok) undecided += (undecided.empty() ? "" : ", ") + s.stage;
    return or_ok(std::move(found), check,
                 "the TLS files and settings a reload would apply load (" +
                     plural(static_cast<std::int64_t>(stages.size()), "stage") + " checked" +
                     (undecided.empty() ? "" : "; not decided: " + undecided) + ")");
}

std::vector<Finding> check_ca_file_expiry(std::string_view ca_file, const std::vector<CertInfo> &ca,
                                          const Thresholds &t, std::int64_t now) {
    constexpr std::string_view check = "ca_file_expiry";
    if (ca_file.empty()) return ok(check, "ssl_ca_file is not set: client certificates are not verified");
    std::vector<Finding> found;
    for (const auto &c : ca) {
        auto verdict = expiry_verdict(c.not_before, c.not_after, t, now);
        if (!verdict) continue;
        found.push_back(make(check, verdict->severity, c.subject,
                             "CA certificate in ssl_ca_file " + verdict->text,
                             "Replace it in " + std::string(ca_file) +
                                 " with the CA's renewed certificate and run SELECT pg_reload_conf(); client "
                                 "certificates issued by it stop verifying when it expires."));
    }
    return or_ok(std::move(found), check,
                 "no certificate in ssl_ca_file expires " + window_text(t) + " (" +
                     plural(static_cast<std::int64_t>(ca.size()), "certificate") + " checked)");
}

std::vector<Finding> check_crl_expiry(std::string_view crl_source, const std::vector<CrlFacts> &crls,
                                      const Thresholds &t, std::int64_t now) {
    constexpr std::string_view check = "crl_expiry";
    if (crl_source.empty()) return ok(check, "neither ssl_crl_file nor ssl_crl_dir is set");
    std::vector<Finding> found;
    for (const auto &crl : crls) {
        if (!crl.next_update) continue;
        auto verdict = expiry_verdict(0, *crl.next_update, t, now);
        if (!verdict) continue;
        std::string text = verdict->text;
        // "expired ... ago" / "expires in ..." of a CRL means its next update.
        found.push_back(make(check, verdict->severity, crl.source.empty() ? std::string(crl_source) : crl.source,
                             "CRL of " + crl.issuer + ": next update " + text +
                                 (verdict->severity == Severity::Critical && *crl.next_update <= now
                                      ? "; client certificates issued by this CA fail verification"
                                      : ""),
                             "Fetch a fresh CRL from the CA, install it as ssl_crl_file (or in ssl_crl_dir under "
                             "its issuer-hash name: openssl rehash) and run SELECT pg_reload_conf() "
                             "(https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SSL-CRL-FILE)."));
    }
    return or_ok(std::move(found), check,
                 "no CRL is due for an update " + window_text(t) + " (" +
                     plural(static_cast<std::int64_t>(crls.size()), "CRL") + " checked)");
}

std::vector<Finding> check_crl_coverage(std::string_view crl_source, const std::vector<CaCrlCoverage> &cas) {
    constexpr std::string_view check = "crl_coverage";
    if (crl_source.empty()) return ok(check, "neither ssl_crl_file nor ssl_crl_dir is set");
    std::vector<Finding> found;
    for (const auto &ca : cas) {
        if (ca.crl_present) continue;
        found.push_back(make(check, Severity::Critical, ca.subject,
                             "CA certificate in ssl_ca_file has no CRL in " + std::string(crl_source) +
                                 ": with a CRL configured the server checks revocation for every certificate "
                                 "of a client's chain, so client certificates below this CA fail with \"unable "
                                 "to get certificate CRL\"",
                             "Add a current CRL issued by this CA to ssl_crl_file (or to ssl_crl_dir under its "
                             "issuer-hash name: openssl rehash), or remove the CA from ssl_ca_file, and run "
                             "SELECT pg_reload_conf() "
                             "(https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SSL-CRL-FILE)."));
    }
    return or_ok(std::move(found), check,
                 "every CA of ssl_ca_file has a CRL (" +
                     plural(static_cast<std::int64_t>(cas.size()), "CA") + " checked)");
}

// ---------------------------------------------------------------------------
// pg_hba.conf

bool is_loopback_rule(const HbaRule &r) {
    if (r.address == "localhost") return true;
    if (r.address == "::1") return r.netmask.empty() || r.netmask == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    if (r.address.rfind("127.", 0) == 0) return r.netmask.rfind("255.", 0) == 0;
    return false;
}

std::vector<Finding> check_hba_hostnossl(const std::vector<HbaRule> &rules) {
    constexpr std::string_view check = "hba_hostnossl";
    std::vector<Finding> found;
    for (const auto &r : rules) {
        if (r.type != "hostnossl" || r.auth_method == "reject") continue;
        const bool loopback = is_loopback_rule(r);
        found.push_back(make(check, loopback ? Severity::Info : Severity::Warning, hba_object(r),
                             "\"" + hba_line_text(r) + "\" accepts only unencrypted TCP connections" +
                                 (loopback ? " (loopback only)" : ""),
                             "Change the line to hostssl, or make it \"hostnossl ... reject\" to refuse "
                             "unencrypted connections (https://www.postgresql.org/docs/current/auth-pg-hba-conf.html)."));
    }
    return or_ok(std::move(found), check, "no hostnossl line accepts connections");
}

std::vector<Finding> check_hba_host_without_ssl(const std::vector<HbaRule> &rules, bool ssl) {
    constexpr std::string_view check = "hba_host_without_ssl";
    std::vector<Finding> found;
    for (const auto &r : rules) {
        if ((r.type != "host" && r.type != "hostnogssenc") || r.auth_method == "reject") continue;
        const bool loopback = is_loopback_rule(r);
        found.push_back(make(check, loopback ? Severity::Info : Severity::Warning, hba_object(r),
                             "\"" + hba_line_text(r) + "\" accepts TCP connections with or without TLS" +
                                 (ssl ? "" : " (and ssl is off)") + (loopback ? " (loopback only)" : ""),
                             "Use hostssl instead of host so that only TLS connections match "
                             "(https://www.postgresql.org/docs/current/auth-pg-hba-conf.html)."));
    }
    return or_ok(std::move(found), check, "no host line accepts TCP connections without TLS");
}

std::vector<Finding> check_hba_weak_auth(const std::vector<HbaRule> &rules) {
    constexpr std::string_view check = "hba_weak_auth";
    std::vector<Finding> found;
    for (const auto &r : rules) {
        if (!is_tcp_rule(r)) continue;
        // Only these line types guarantee an encrypted connection.
        const bool encrypted = r.type == "hostssl" || r.type == "hostgssenc";
        Severity severity;
        std::string why;
        if (r.auth_method == "trust") {
            severity = Severity::Critical;
            why = "trust lets anyone who can reach the port connect as any matching role without a password";
        } else if (r.auth_method == "password") {
            severity = encrypted ? Severity::Warning : Severity::Critical;
            why = encrypted ? "password sends the password in clear text inside the encrypted connection"
                            : "password sends the password in clear text, possibly without encryption";
        } else if (r.auth_method == "md5") {
            severity = Severity::Warning;
            why = "md5 is a weak challenge-response (the stored hash is enough to log in)";
        } else {
            continue;
        }
        found.push_back(make(check, severity, hba_object(r), "\"" + hba_line_text(r) + "\": " + why,
                             "Use scram-sha-256 (or cert) on TCP lines "
                             "(https://www.postgresql.org/docs/current/auth-password.html)."));
    }
    return or_ok(std::move(found), check, "no TCP line uses trust, password or md5");
}

std::vector<Finding> check_md5_passwords(const std::vector<std::string> &md5_roles) {
    constexpr std::string_view check = "md5_passwords";
    if (md5_roles.empty()) return ok(check, "no role has an MD5 password hash");
    return {make(check, Severity::Warning, "pg_authid",
                 plural(static_cast<std::int64_t>(md5_roles.size()), "role") +
                     " with an MD5 password hash: " + join_limited(md5_roles),
                 "With password_encryption = 'scram-sha-256', have each role set its password again "
                 "(\\password in psql), then use scram-sha-256 in pg_hba.conf.")};
}

// ---------------------------------------------------------------------------
// Sessions

std::vector<Finding> check_sessions_below_floor(const std::vector<SessionFacts> &sessions) {
    constexpr std::string_view check = "sessions_below_floor";
    // Grouped by who connects from where for which reason, so that a pool of
    // connections gives one row.
    std::map<std::tuple<std::string, std::string, std::string, std::string>, std::vector<std::string>> groups;
    for (const auto &s : sessions) {
        if (!s.below_floor) continue;
        groups[{s.usename, s.datname, s.client_addr, s.floor_reason}].push_back(std::to_string(s.pid));
    }
    std::vector<Finding> found;
    for (const auto &[key, pids] : groups) {
        const auto &[user, db, addr, reason] = key;
        const std::string object = (user.empty() ? "?" : user) + "@" + (db.empty() ? "?" : db) +
                                   (addr.empty() ? "" : " from " + addr);
        found.push_back(make(check, Severity::Warning, object,
                             plural(static_cast<std::int64_t>(pids.size()), "session") + " below the floor (" +
                                 (reason.empty() ? "below floor" : reason) + "): pid " + join_limited(pids),
                             reason == "no TLS"
                                 ? "Connect with sslmode=require (or verify-full) and use hostssl lines."
                                 : "Upgrade the client's TLS library, or raise its ssl_min_protocol_version."));
    }
    return or_ok(std::move(found), check,
                 "no session below the floor (" + plural(static_cast<std::int64_t>(sessions.size()), "session") +
                     " visible)");
}

std::vector<Finding> check_client_cert_expiry(const std::vector<SessionFacts> &sessions, const Thresholds &t,
                                              std::int64_t now) {
    constexpr std::string_view check = "client_cert_expiry";
    struct Group {
        std::int64_t not_after = 0;
        std::vector<std::string> pids;
    };
    std::map<std::string, Group> groups;  // by subject
    for (const auto &s : sessions) {
        if (!s.client_not_after) continue;
        auto &g = groups[s.client_subject];
        g.not_after = *s.client_not_after;
        g.pids.push_back(std::to_string(s.pid));
    }
    std::vector<Finding> found;
    for (const auto &[subject, g] : groups) {
        auto verdict = expiry_verdict(0, g.not_after, t, now);
        if (!verdict) continue;
        found.push_back(make(check, verdict->severity, subject.empty() ? "(unknown subject)" : subject,
                             "client certificate " + verdict->text + ", in use by pid " + join_limited(g.pids),
                             "Issue the client a renewed certificate (sslcert/sslkey) before it expires."));
    }
    return or_ok(std::move(found), check,
                 "no connected client certificate expires " + window_text(t) + " (" +
                     plural(static_cast<std::int64_t>(groups.size()), "certificate") + " seen)");
}

// ---------------------------------------------------------------------------
// The extension's own settings

bool is_security_setting(std::string_view name) {
    std::string n(name);
    for (char &c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n == "tls_audit.probe_allowed_hosts" || n == "tls_audit.min_protocol" ||
           n == "tls_audit.notify_channel";
}

std::vector<Finding> check_settings_not_applied(const std::vector<FileSetting> &rows) {
    constexpr std::string_view check = "settings_not_applied";
    std::vector<Finding> found;
    for (const auto &r : rows) {
        const bool security = is_security_setting(r.name);
        const std::string where = r.file.empty() ? std::string("the configuration files")
                                                 : r.file + " line " + std::to_string(r.line);
        std::string hint = "Correct the value and reload the configuration (SELECT pg_reload_conf()); the server "
                           "log says why it was refused.";
        std::string consequence;
        std::string lower_name = r.name;
        for (char &c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower_name == "tls_audit.probe_allowed_hosts")
            consequence = "; if it was refused at server start, no host may be probed until it is fixed";
        else
            consequence = "; the previous or default value applies";
        found.push_back(make(check, security ? Severity::Critical : Severity::Warning, r.name,
                             r.name + " = '" + r.setting + "' (" + where + ") is not in effect: " +
                                 (r.error.empty() ? "setting could not be applied" : r.error) + consequence,
                             hint));
    }
    return or_ok(std::move(found), check, "every tls_audit.* value in the configuration files is applied");
}

// ---------------------------------------------------------------------------
// All checks

std::vector<Finding> evaluate(const AuditFacts &f) {
    std::vector<Finding> out;
    auto add = [&](std::vector<Finding> found) {
        for (auto &x : found) out.push_back(std::move(x));
    };
    const bool ssl = f.settings.ssl;
    // Checks of the server's own TLS configuration mean nothing with ssl off.
    auto tls_check = [&](std::string_view check, auto &&run) {
        if (!ssl) {
            out.push_back(make(check, Severity::Info, {}, "not applicable: ssl is off"));
            return;
        }
        add(run());
    };
    auto missing = [&](std::string_view check, const std::string &why) { out.push_back(not_available(check, why)); };

    add(check_ssl_enabled(f.settings));
    tls_check("min_protocol", [&] { return check_min_protocol(f.settings, f.floor); });
    tls_check("max_protocol", [&] { return check_max_protocol(f.settings); });
    tls_check("weak_ciphers", [&] {
        if (!f.ciphers.value) return std::vector<Finding>{not_available("weak_ciphers", f.ciphers.missing)};
        return check_weak_ciphers(*f.ciphers.value);
    });
    tls_check("key_exchange_groups", [&] { return check_key_exchange_groups(f.settings); });

    using ServerRule = std::vector<Finding> (*)(const ServerCertFacts &);
    auto server_check = [&](std::string_view check, auto &&run) {
        tls_check(check, [&] {
            if (!f.server.value) return std::vector<Finding>{not_available(check, f.server.missing)};
            return run(*f.server.value);
        });
    };
    server_check("server_cert_expiry",
                 [&](const ServerCertFacts &s) { return check_server_cert_expiry(s, f.thresholds, f.now); });
    for (auto [check, rule] : {std::pair<std::string_view, ServerRule>{"server_cert_key_strength",
                                                                        check_server_cert_key_strength},
                               {"server_cert_signature", check_server_cert_signature},
                               {"server_cert_self_signed", check_server_cert_self_signed},
                               {"server_cert_chain", check_server_cert_chain},
                               {"server_key_permissions", check_server_key_permissions}})
        server_check(check, rule);
    server_check("server_cert_reload_pending", [&](const ServerCertFacts &s) {
        return check_server_cert_reload_pending(s, f.preflight.value ? &*f.preflight.value : nullptr);
    });
    tls_check("server_tls_reload_would_fail", [&] {
        if (!f.preflight.value)
            return std::vector<Finding>{not_available("server_tls_reload_would_fail", f.preflight.missing)};
        return check_server_tls_reload_would_fail(*f.preflight.value);
    });
    tls_check("ca_file_expiry", [&] {
        if (f.ca_file.empty()) return check_ca_file_expiry("", {}, f.thresholds, f.now);
        if (!f.ca_certificates.value)
            return std::vector<Finding>{not_available("ca_file_expiry", f.ca_certificates.missing)};
        return check_ca_file_expiry(f.ca_file, *f.ca_certificates.value, f.thresholds, f.now);
    });
    tls_check("crl_expiry", [&] {
        if (f.crl_source.empty()) return check_crl_expiry("", {}, f.thresholds, f.now);
        if (!f.crls.value) return std::vector<Finding>{not_available("crl_expiry", f.crls.missing)};
        return check_crl_expiry(f.crl_source, *f.crls.value, f.thresholds, f.now);
    });
    tls_check("crl_coverage", [&] {
        if (f.crl_source.empty()) return check_crl_coverage("", {});
        if (f.ca_file.empty())
            return std::vector<Finding>{make("crl_coverage", Severity::Ok, {},
                                             "ssl_ca_file is not set: client certificates are not verified")};
        if (!f.ca_crl_coverage.value)
            return std::vector<Finding>{not_available("crl_coverage", f.ca_crl_coverage.missing)};
        return check_crl_coverage(f.crl_source, *f.ca_crl_coverage.value);
    });

    if (f.hba.value) {
        add(check_hba_hostnossl(*f.hba.value));
        add(check_hba_host_without_ssl(*f.hba.value, ssl));
        add(check_hba_weak_auth(*f.hba.value));
    } else {
        for (const char *check : {"hba_hostnossl", "hba_host_without_ssl", "hba_weak_auth"})
            missing(check, f.hba.missing);
    }
    add(check_password_encryption(f.settings));
    if (f.md5_roles.value)
        add(check_md5_passwords(*f.md5_roles.value));
    else
        missing("md5_passwords", f.md5_roles.missing);
    if (f.sessions.value) {
        add(check_sessions_below_floor(*f.sessions.value));
        add(check_client_cert_expiry(*f.sessions.value, f.thresholds, f.now));
    } else {
        missing("sessions_below_floor", f.sessions.missing);
        missing("client_cert_expiry", f.sessions.missing);
    }
    if (f.file_settings.value)
        add(check_settings_not_applied(*f.file_settings.value));
    else
        missing("settings_not_applied", f.file_settings.missing);
    return out;
}

}  // namespace tls_audit
