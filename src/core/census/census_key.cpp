#include "census/census_key.hpp"
#include "sessions/registry_record.hpp"
#include "base/hot_path.hpp"

#include <algorithm>
#include <cstring>

namespace tls_audit {

namespace {
struct OutcomeRow {
    Outcome outcome;
    const char *name;
};
constexpr OutcomeRow kOutcomes[] = {
    {Outcome::Authenticated, "authenticated"},
    {Outcome::AuthFailed, "auth_failed"},
    {Outcome::TlsRejected, "tls_rejected"},
    {Outcome::StartupFailed, "startup_failed"},
    {Outcome::PolicyViolation, "policy_violation"},
};

// Length of the longest prefix of s[0..len) that does not end inside a
// UTF-8 multi-byte sequence.
TLS_AUDIT_HOT std::size_t utf8_boundary(const char *s, std::size_t len) noexcept {
    std::size_t cut = len;
    // Step back over continuation bytes (10xxxxxx) to the lead byte.
    std::size_t i = cut;
    while (i > 0 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i;
    if (i == 0) return cut;  // not UTF-8 at all: cut bytewise
    const unsigned char lead = static_cast<unsigned char>(s[i - 1]);
    std::size_t need = 1;
    if ((lead & 0xE0) == 0xC0)
        need = 2;
    else if ((lead & 0xF0) == 0xE0)
        need = 3;
    else if ((lead & 0xF8) == 0xF0)
        need = 4;
    if (lead < 0x80) return cut;  // ASCII lead: the continuation bytes were stray
    const std::size_t have = cut - (i - 1);
    return have >= need ? cut : i - 1;
}

bool field_canonical(const char *field, std::size_t capacity) noexcept {
    const void *nul = std::memchr(field, '\0', capacity);
    if (nul == nullptr) return false;
    for (const char *p = static_cast<const char *>(nul); p < field + capacity; ++p)
        if (*p != '\0') return false;
    return true;
}
}  // namespace

const char *outcome_name(Outcome o) {
    for (const auto &row : kOutcomes)
        if (row.outcome == o) return row.name;
    return "unknown";
}

std::optional<Outcome> parse_outcome(std::string_view name) {
    for (const auto &row : kOutcomes)
        if (name == row.name) return row.outcome;
    return std::nullopt;
}

bool valid_outcome(std::uint8_t raw) {
    for (const auto &row : kOutcomes)
        if (static_cast<std::uint8_t>(row.outcome) == raw) return true;
    return false;
}

TLS_AUDIT_HOT bool copy_census_field(char *field, std::size_t capacity, const char *value) noexcept {
    std::memset(field, 0, capacity);
    if (value == nullptr || capacity == 0) return false;
    const std::size_t len = std::strlen(value);
    std::size_t n = len;
    bool truncated = false;
    if (n > capacity - 1) {
        n = utf8_boundary(value, capacity - 1);
        truncated = true;
    }
    std::memcpy(field, value, n);
    return truncated;
}

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// True when s[0..len) is well-formed UTF-8, allowing an incomplete sequence
// at the very end when `cut` (the text continues beyond len).
bool valid_utf8(const unsigned char *s, std::size_t len, bool cut) noexcept {
    std::size_t i = 0;
    while (i < len) {
        const unsigned char c = s[i];
        std::size_t need;
        if (c < 0x80) need = 0;
        else if ((c & 0xE0) == 0xC0 && c >= 0xC2) need = 1;
        else if ((c & 0xF0) == 0xE0) need = 2;
        else if ((c & 0xF8) == 0xF0 && c <= 0xF4) need = 3;
        else return false;
        for (std::size_t k = 1; k <= need; ++k) {
            if (i + k >= len) return cut;
            if ((s[i + k] & 0xC0) != 0x80) return false;
        }
        i += need + 1;
    }
    return true;
}

}  // namespace

TLS_AUDIT_HOT void census_subject(char *field, std::size_t capacity, const char *dn) noexcept {
    std::memset(field, 0, capacity);
    if (dn == nullptr || capacity == 0) return;
    // Decode into a stack buffer a little larger than the field, so that
    // truncation can be seen; each \HH escape of a byte >= 0x80 (OpenSSL's
    // RFC 2253 form of a non-ASCII byte) becomes that byte again.
    unsigned char decoded[kCensusSubjectLen + 8];
    std::size_t n = 0;
    const char *p = dn;
    while (*p != '\0' && n < sizeof decoded) {
        if (p[0] == '\\' && p[1] != '\0' && p[2] != '\0') {
            const int hi = hex_value(p[1]), lo = hex_value(p[2]);
            if (hi >= 0 && lo >= 0 && hi >= 8) {
                decoded[n++] = static_cast<unsigned char>(hi * 16 + lo);
                p += 3;
                continue;
            }
        }
        decoded[n++] = static_cast<unsigned char>(*p++);
    }
    const bool more = *p != '\0';
    // Bytes that are not UTF-8 (a Latin-1 or BMPString subject) keep the
    // escaped form: the key must stay valid text.
    const char *text = valid_utf8(decoded, n, more) ? reinterpret_cast<const char *>(decoded) : dn;
    const std::size_t len = text == dn ? std::strlen(dn) : n;
    const bool cut = text == dn ? len > capacity - 1 : (more || len > capacity - 1);
    if (!cut) {
        std::memcpy(field, text, len);
        return;
    }
    // Cut on a character boundary and mark it, as the session registry does.
    const std::size_t marker = std::strlen(kTruncationMarker);
    if (capacity <= marker + 1) return;
    const std::size_t keep = utf8_boundary(text, std::min(len, capacity - 1 - marker));
    std::memcpy(field, text, keep);
    // The marker and its NUL (the field was zeroed; written for clarity).
    std::memcpy(field + keep, kTruncationMarker, marker + 1);
}

TLS_AUDIT_HOT void make_census_key(CensusKey &key, const CensusKeyFields &f) noexcept {
    std::memset(&key, 0, sizeof key);
    copy_census_field(key.usename, sizeof key.usename, f.usename);
    copy_census_field(key.datname, sizeof key.datname, f.datname);
    copy_census_field(key.client_addr, sizeof key.client_addr, f.client_addr);
    // The client chooses its application_name freely before authenticating:
    // keys of unauthenticated attempts carry none, so that failed logins
    // with ever new names cannot multiply census entries.
    if (census_outcome_authenticated(f.outcome))
        copy_census_field(key.application_name, sizeof key.application_name, f.application_name);
    copy_census_field(key.transport, sizeof key.transport, f.transport);
    copy_census_field(key.protocol, sizeof key.protocol, f.protocol);
    copy_census_field(key.cipher, sizeof key.cipher, f.cipher);
    census_subject(key.client_subject, sizeof key.client_subject, f.client_subject);
    copy_census_field(key.reason, sizeof key.reason, f.reason);
    key.outcome = static_cast<std::uint8_t>(f.outcome);
    key.alpn = static_cast<std::uint8_t>(f.alpn);
    key.auth_method = static_cast<std::uint8_t>(f.auth_method);
    key.hba_line = static_cast<std::uint16_t>(f.hba_line <= 0 ? 0 : f.hba_line > 65535 ? 65535 : f.hba_line);
    key.client_cert_verified = static_cast<std::uint8_t>(f.client_cert_verified);
    key.extended_master_secret = static_cast<std::uint8_t>(f.extended_master_secret);
    key.key_exchange_group = static_cast<std::uint8_t>(f.key_exchange_group);
    copy_census_field(key.source, sizeof key.source, f.source);
}

namespace {

struct GroupName {
    CensusGroup group;
    char name[20];
};
// OpenSSL's TLS names (SSL_group_to_name()), as sessions show them. Every
// TLS connection reads them (census_group): the names are held in the table
// itself, kept with the connection path's code (TLS_AUDIT_HOT_RODATA), not
// in a page of string constants that each new backend would fault in.
TLS_AUDIT_HOT_RODATA const GroupName kGroupNames[] = {
    {CensusGroup::X25519, "x25519"},
    {CensusGroup::Secp256r1, "secp256r1"},
    {CensusGroup::Secp384r1, "secp384r1"},
    {CensusGroup::Secp521r1, "secp521r1"},
    {CensusGroup::X448, "x448"},
    {CensusGroup::Ffdhe2048, "ffdhe2048"},
    {CensusGroup::Ffdhe3072, "ffdhe3072"},
    {CensusGroup::Ffdhe4096, "ffdhe4096"},
    {CensusGroup::Ffdhe6144, "ffdhe6144"},
    {CensusGroup::Ffdhe8192, "ffdhe8192"},
    {CensusGroup::X25519MLKEM768, "X25519MLKEM768"},
    {CensusGroup::SecP256r1MLKEM768, "SecP256r1MLKEM768"},
    {CensusGroup::SecP384r1MLKEM1024, "SecP384r1MLKEM1024"},
    {CensusGroup::OtherClassic, "other"},
    {CensusGroup::OtherHybrid, "other hybrid"},
};

TLS_AUDIT_HOT bool equal_nocase(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

TLS_AUDIT_HOT bool contains_nocase(std::string_view s, std::string_view needle) noexcept {
    for (std::size_t i = 0; i + needle.size() <= s.size(); ++i)
        if (equal_nocase(s.substr(i, needle.size()), needle)) return true;
    return false;
}

}  // namespace

TLS_AUDIT_HOT CensusGroup census_group(std::string_view name) noexcept {
    if (name.empty()) return CensusGroup::Unknown;
    if (equal_nocase(name, "prime256v1")) return CensusGroup::Secp256r1;  // the NID's short name
    for (const auto &g : kGroupNames)
        if (g.group != CensusGroup::OtherClassic && g.group != CensusGroup::OtherHybrid && equal_nocase(name, g.name))
            return g.group;
    // "0x11ec": a group OpenSSL could not name; anything with ML-KEM in it is hybrid.
    if (name.size() > 2 && name[0] == '0' && name[1] == 'x') return CensusGroup::Unknown;
    return contains_nocase(name, "mlkem") ? CensusGroup::OtherHybrid : CensusGroup::OtherClassic;
}

const char *census_group_name(std::uint8_t raw) noexcept {
    for (const auto &g : kGroupNames)
        if (static_cast<std::uint8_t>(g.group) == raw) return g.name;
    return nullptr;
}

const char *census_flag_name(std::uint8_t raw) noexcept {
    switch (static_cast<CensusFlag>(raw)) {
    case CensusFlag::Yes:
        return "true";
    case CensusFlag::No:
        return "false";
    case CensusFlag::Unknown:
        break;
    }
    return nullptr;
}

TLS_AUDIT_HOT CensusAlpn census_alpn(std::string_view selected) noexcept {
    if (selected.empty()) return CensusAlpn::None;
    return selected == "postgresql" ? CensusAlpn::Postgresql : CensusAlpn::Other;
}

const char *census_alpn_name(std::uint8_t raw) noexcept {
    switch (static_cast<CensusAlpn>(raw)) {
    case CensusAlpn::Postgresql:
        return "postgresql";
    case CensusAlpn::Other:
        return "other";
    case CensusAlpn::None:
        break;
    }
    return nullptr;
}

bool census_key_canonical(const CensusKey &k) noexcept {
    if (!valid_outcome(k.outcome)) return false;
    if (k.alpn > static_cast<std::uint8_t>(CensusAlpn::Other)) return false;
    if (!valid_auth_method(k.auth_method)) return false;
    if (k.client_cert_verified > static_cast<std::uint8_t>(CensusFlag::Yes)) return false;
    if (k.extended_master_secret > static_cast<std::uint8_t>(CensusFlag::Yes)) return false;
    if (k.key_exchange_group != 0 && census_group_name(k.key_exchange_group) == nullptr) return false;
    return field_canonical(k.usename, sizeof k.usename) && field_canonical(k.datname, sizeof k.datname) &&
           field_canonical(k.client_addr, sizeof k.client_addr) &&
           field_canonical(k.application_name, sizeof k.application_name) &&
           field_canonical(k.transport, sizeof k.transport) && field_canonical(k.protocol, sizeof k.protocol) &&
           field_canonical(k.cipher, sizeof k.cipher) &&
           field_canonical(k.client_subject, sizeof k.client_subject) &&
           field_canonical(k.reason, sizeof k.reason) && field_canonical(k.source, sizeof k.source);
}

bool census_login_admitted(const CensusKey &key) noexcept {
    if (key.outcome == static_cast<std::uint8_t>(Outcome::Authenticated)) return true;
    return key.outcome == static_cast<std::uint8_t>(Outcome::PolicyViolation) &&
           std::strcmp(key.reason, kFloorRefusedReason) != 0;
}

std::optional<std::string> readiness_reason(const CensusKey &key, Protocol floor) {
    switch (static_cast<Outcome>(key.outcome)) {
    case Outcome::TlsRejected:
        return std::string("TLS handshake rejected: ") + (key.reason[0] ? key.reason : "unknown reason");
    case Outcome::Authenticated:
    case Outcome::PolicyViolation:  // authenticated, below its role's floor
        if (key.transport[0] == '\0') return std::nullopt;  // background or unknown: no transport
        return below_floor_reason(key.transport, key.protocol, floor);
    case Outcome::AuthFailed:
    case Outcome::StartupFailed:  // refused for its role/database, not for TLS
        break;
    }
    return std::nullopt;
}

void rejection_reason_from_message(const char *message, char *out, std::size_t capacity) noexcept {
    if (capacity == 0) return;
    if (message == nullptr) {
        std::memset(out, 0, capacity);
        return;
    }
    const char *start = message;
    for (const char *p = message; *p; ++p)
        if (p[0] == ':' && p[1] == ' ') start = p + 2;
    copy_census_field(out, capacity, start);
}

}  // namespace tls_audit
