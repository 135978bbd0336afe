#include "sessions/registry_record.hpp"
#include "base/hot_path.hpp"

#include <cstring>

namespace tls_audit {

namespace {

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
