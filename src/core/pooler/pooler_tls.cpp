#include "pooler/pooler_tls.hpp"

#include <cctype>
#include <vector>

namespace tls_audit {

namespace {

// The value as an error message may show it: printable ASCII, at most 64
// characters (the column comes from another program).
std::string shown(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 64)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    if (s.size() > 64) out += "...";
    return out;
}

Error bad(std::string_view column, const std::string &why) {
    return make_error(sqlstate::kDataCorrupted, "unrecognised pgbouncer tls column \"" + shown(column) + "\": " + why,
                      "pg_tls_audit reads the format of pgbouncer 1.18 to 1.25 "
                      "(PROTOCOL/CIPHER[/ECDH=CURVE|/DH=BITS][/OCSP=RESULT]).");
}

bool plain_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
    return true;
}

bool digits(std::string_view s) {
    if (s.empty() || s.size() > 6) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

}  // namespace

std::string group_from_curve_name(std::string_view curve) {
    // OBJ_nid2sn() names (pgbouncer) -> SSL_group_to_name() names (sessions).
    static const std::pair<std::string_view, std::string_view> names[] = {
        {"X25519", "x25519"},         {"X448", "x448"},           {"prime256v1", "secp256r1"},
        {"prime192v1", "secp192r1"},  {"brainpoolP256r1", "brainpoolP256r1"},
    };
    for (const auto &[from, to] : names)
        if (curve == from) return std::string(to);
    return std::string(curve);
}

Expected<std::optional<PoolerTls>> parse_pooler_tls(std::string_view column) {
    if (column.empty()) return std::optional<PoolerTls>{};
    if (column.size() > 256) return bad(column, "longer than pgbouncer writes (96 bytes)");
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        const std::size_t slash = column.find('/', start);
        parts.push_back(column.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    if (parts.size() < 2) return bad(column, "no PROTOCOL/CIPHER");
    PoolerTls tls;
    const bool unfinished = parts[0] == "-" && parts[1] == "-";
    if (!unfinished) {
        if (!plain_token(parts[0]) || (parts[0].rfind("TLS", 0) != 0 && parts[0].rfind("SSL", 0) != 0))
            return bad(column, "the protocol is not a TLS version");
        if (!plain_token(parts[1])) return bad(column, "the cipher is not a cipher name");
        tls.protocol = std::string(parts[0]);
        tls.cipher = std::string(parts[1]);
    }
    bool exchange_seen = false;
    for (std::size_t i = 2; i < parts.size(); ++i) {
        const std::string_view p = parts[i];
        if (p.rfind("OCSP=", 0) == 0) {
            // The OCSP result is last and may itself contain slashes.
            std::string_view rest = column.substr(static_cast<std::size_t>(p.data() - column.data()) + 5);
            tls.ocsp = shown(rest);
            break;
        }
        if (exchange_seen) return bad(column, "more than one key exchange");
        exchange_seen = true;
        if (p.rfind("ECDH=", 0) == 0 && plain_token(p.substr(5))) {
            tls.key_exchange_group = group_from_curve_name(p.substr(5));
        } else if (p == "DH=?") {
            tls.key_exchange_group = "DH";
        } else if (p.rfind("DH=", 0) == 0 && digits(p.substr(3))) {
            tls.key_exchange_group = "DH-" + std::string(p.substr(3));
        } else {
            return bad(column, "unknown field \"" + shown(p) + "\"");
        }
    }
    return std::optional<PoolerTls>{std::move(tls)};
}

}  // namespace tls_audit
