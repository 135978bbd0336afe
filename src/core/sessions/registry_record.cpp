#include "sessions/registry_record.hpp"
#include "base/hot_path.hpp"

#include <cstddef>
#include <cstring>

namespace tls_audit {

namespace {

// The long texts of a record, in the order of the struct: copy_record()
// copies each up to its NUL and everything between and around them whole,
// so a field added anywhere else is copied without being listed here.
struct TextSpan {
    std::size_t offset;
    std::size_t size;
};
#define TLS_AUDIT_TEXT_SPAN(field) TextSpan{offsetof(RegistryRecord, field), sizeof(RegistryRecord::field)}
constexpr TextSpan kLongTexts[] = {
    TLS_AUDIT_TEXT_SPAN(sni),    TLS_AUDIT_TEXT_SPAN(subject),  TLS_AUDIT_TEXT_SPAN(issuer),
    TLS_AUDIT_TEXT_SPAN(serial), TLS_AUDIT_TEXT_SPAN(hba_file),
};
#undef TLS_AUDIT_TEXT_SPAN

constexpr bool in_struct_order() {
    std::size_t end = 0;
    for (const TextSpan &t : kLongTexts) {
        if (t.offset < end) return false;
        end = t.offset + t.size;
    }
    return end <= sizeof(RegistryRecord);
}
static_assert(in_struct_order(), "kLongTexts must follow the order of RegistryRecord's fields");

// Largest prefix length <= limit of `value` that does not end inside a UTF-8
// sequence (continuation bytes are 10xxxxxx).
TLS_AUDIT_HOT std::size_t utf8_prefix(std::string_view value, std::size_t limit) noexcept {
    if (limit >= value.size()) return value.size();
    std::size_t len = limit;
    // value[len] is the first byte left out: back up while it continues a character.
    while (len > 0 && (static_cast<unsigned char>(value[len]) & 0xC0) == 0x80) --len;
    return len;
}

}  // namespace

TLS_AUDIT_HOT bool copy_field(char *field, std::size_t capacity, std::string_view value) noexcept {
    if (capacity == 0) return value.empty();
    if (value.size() < capacity) {
        // An empty view may have a null data(): memcpy must not see it, even for 0 bytes.
        if (!value.empty()) std::memcpy(field, value.data(), value.size());
        field[value.size()] = '\0';
        return true;
    }
    const std::size_t marker = std::strlen(kTruncationMarker);
    if (capacity <= marker) {
        field[0] = '\0';
        return false;
    }
    const std::size_t keep = utf8_prefix(value, capacity - 1 - marker);
    std::memcpy(field, value.data(), keep);
    std::memcpy(field + keep, kTruncationMarker, marker);
    field[keep + marker] = '\0';
    return false;
}

TLS_AUDIT_HOT void fill_record(RegistryRecord &record, const SessionTlsView &tls, const CertInfo *client) noexcept {
    std::memset(&record, 0, sizeof record);
    bool whole = true;
    whole &= copy_field(record.protocol, tls.protocol);
    whole &= copy_field(record.cipher, tls.cipher);
    whole &= copy_field(record.sni, tls.sni);
    whole &= copy_field(record.key_exchange_group, tls.key_exchange_group);
    whole &= copy_field(record.alpn, tls.alpn);
    record.bits = tls.bits;
    if (client != nullptr) {
        record.has_client = true;
        whole &= copy_field(record.subject, client->subject);
        whole &= copy_field(record.issuer, client->issuer);
        whole &= copy_field(record.serial, client->serial);
        whole &= copy_field(record.key_type, client->key_type);
        whole &= copy_field(record.signature_algorithm, client->signature_algorithm);
        record.not_before = client->not_before;
        record.not_after = client->not_after;
        record.key_bits = client->key_bits;
    }
    record.truncated = !whole;
    record.tls = true;
}

TLS_AUDIT_HOT void set_record_auth(RegistryRecord &record, const SessionAuth &auth) noexcept {
    record.has_auth = true;
    record.auth_method = static_cast<std::uint8_t>(auth.method);
    record.hba_line = auth.hba_line;
    record.client_cert_verified = auth.client_cert_verified;
    record.extended_master_secret = auth.tls && auth.extended_master_secret;
    if (auth.hba_file != nullptr && !copy_field(record.hba_file, auth.hba_file)) record.truncated = true;
}

void copy_record(RegistryRecord &to, const RegistryRecord &from) noexcept {
    auto *out = reinterpret_cast<unsigned char *>(&to);
    const auto *in = reinterpret_cast<const unsigned char *>(&from);
    std::size_t at = 0;
    for (const TextSpan &t : kLongTexts) {
        std::memcpy(out + at, in + at, t.offset - at);
        const std::size_t len = strnlen(reinterpret_cast<const char *>(in + t.offset), t.size);
        std::memcpy(out + t.offset, in + t.offset, len);
        if (len < t.size) out[t.offset + len] = 0;
        at = t.offset + t.size;
    }
    std::memcpy(out + at, in + at, sizeof(RegistryRecord) - at);
}

bool show_session_row(RegistryLookup lookup, bool backend_alive) noexcept {
    switch (lookup) {
        case RegistryLookup::Found:
            return true;
        case RegistryLookup::Exiting:
        case RegistryLookup::Changing:
            return false;
        case RegistryLookup::Missing:
            return backend_alive;
    }
    return false;
}

}  // namespace tls_audit
