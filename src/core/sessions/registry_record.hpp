// One backend's TLS details as a fixed-size, trivially copyable record: what
// the session registry keeps in shared memory for each backend slot (written
// once by the backend itself after authentication, copied by readers).
//
// Texts are NUL-terminated in fixed arrays. They are sized so that real
// values fit whole (DNs up to 1023 bytes, far beyond pg_stat_ssl's 63); a
// longer value is cut at a UTF-8 character boundary and ends with
// kTruncationMarker, so a reader can tell it is not the whole value.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "access/auth_method.hpp"
#include "sessions/session.hpp"

TLS_AUDIT_AREA(sessions);

namespace tls_audit {

inline constexpr const char *kTruncationMarker = "...";

struct RegistryRecord {
    char protocol[16];
    char cipher[64];
    char sni[256];  // a DNS name is at most 253 bytes
    char key_exchange_group[32];
    char alpn[16];  // "postgresql" (an ALPN id may be 255 bytes; longer ones are cut)
    char subject[1024];  // RFC 2253
    char issuer[1024];   // RFC 2253
    char serial[128];    // upper-case hex (RFC 5280 allows 20 octets: 40 digits)
    char key_type[32];
    char signature_algorithm[64];
    std::int64_t not_before;  // seconds since the Unix epoch
    std::int64_t not_after;
    std::int32_t bits;
    std::int32_t key_bits;
    bool has_client;  // the client sent a certificate: the client fields are set
    bool truncated;   // at least one text was cut (it ends with kTruncationMarker)
    // How the session authenticated (set_record_auth()); every session has
    // them, with or without TLS.
    bool has_auth;                 // the fields below are set
    bool tls;                      // a TLS session: the TLS fields above and extended_master_secret are set
    bool client_cert_verified;
    bool extended_master_secret;
    std::uint8_t auth_method;      // AuthMethod
    std::int32_t hba_line;         // 0 when unknown
    char hba_file[256];            // empty when the version has no include files (15)
};
static_assert(std::is_trivially_copyable_v<RegistryRecord>, "records are copied with memcpy");
static_assert(std::is_standard_layout_v<RegistryRecord>, "records live in shared memory");

// Copy `value` into a field of `capacity` bytes (including the NUL). Returns
// false when it had to be cut: then the field holds the longest prefix that
// ends on a UTF-8 character boundary and leaves room for kTruncationMarker,
// followed by the marker. `capacity` must be larger than the marker.
bool copy_field(char *field, std::size_t capacity, std::string_view value) noexcept;

template <std::size_t N> bool copy_field(char (&field)[N], std::string_view value) noexcept {
    static_assert(N > 4, "field too small for the truncation marker");
    return copy_field(field, N, value);
}

// The text of a field (up to its NUL, never past its end).
template <std::size_t N> std::string_view field_text(const char (&field)[N]) noexcept {
    std::size_t len = 0;
    while (len < N && field[len] != '\0') ++len;
    return std::string_view(field, len);
}

// Fill a record from a session's connection-level facts and, when the client
// sent one, its certificate (nullptr: none). The record is zeroed first.
// Never throws or allocates, so the hook can write straight into its slot.
void fill_record(RegistryRecord &record, const SessionTlsView &tls, const CertInfo *client) noexcept;

// Copy `from` into `to` as a reader needs it: every field, but the long
// texts (SNI, subject, issuer, serial, pg_hba.conf file name: 2.7 kB of the
// record, mostly empty or short) only up to and including their NUL; the
// bytes after it in `to` are left as they were, and field_text() never reads
// them. A reader copying a slot per session reads a fraction of its 4 kB.
// Never throws or allocates.
void copy_record(RegistryRecord &to, const RegistryRecord &from) noexcept;

// What a reader found in the registry for one backend: its
// record (copied consistently), its slot marked by the owner as exiting,
// a slot the owner kept changing during every bounded retry of the copy,
// or nothing for that pid and start time.
enum class RegistryLookup { Found, Exiting, Changing, Missing };

// Whether tls_audit.sessions shows a row for a TLS backend whose registry
// lookup gave `lookup`: a row is complete or absent. Found: shown. Exiting or
// Changing: absent (the backend is going away, or its slot could not be read
// whole). Missing: shown (with NULL registry columns) only while the backend
// process still exists, i.e. it was never recorded; a backend that has
// already exited since the status snapshot was taken is absent.
bool show_session_row(RegistryLookup lookup, bool backend_alive) noexcept;

// Add how the session authenticated to a record (filled by fill_record(), or
// zeroed for a session without TLS). Never throws or allocates.
void set_record_auth(RegistryRecord &record, const SessionAuth &auth) noexcept;

}  // namespace tls_audit
