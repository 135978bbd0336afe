// The connection census key and floor-readiness classification.
//
// A census entry is keyed by who connected, from where, over what, and how
// it ended. The key is a fixed-size, zero-padded plain struct so that the
// PostgreSQL glue can use it directly as a dynahash HASH_BLOBS key in shared
// memory and the census file can store it byte for byte: two keys are equal
// exactly when their bytes are equal, which make_census_key() guarantees by
// truncating every field (on a UTF-8 character boundary) and zeroing the rest.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "access/auth_method.hpp"
#include "base/protocol.hpp"

TLS_AUDIT_AREA(census);

namespace tls_audit {

// How a connection attempt ended.
enum class Outcome : std::uint8_t {
    Authenticated = 1,  // ClientAuthentication_hook with STATUS_OK
    AuthFailed = 2,     // ClientAuthentication_hook with a failing status
    TlsRejected = 3,    // the server refused the TLS handshake (before authentication)
    StartupFailed = 4,  // authenticated, then refused before the session started
                        // (role or database does not exist, too many connections, ...)
    PolicyViolation = 5,  // authenticated below the role's protocol floor (tls_audit.role_min_protocol)
                          // with tls_audit.enforce_floor = log (admitted) or on (refused)
};

const char *outcome_name(Outcome o);

// True for Outcome::Authenticated and Outcome::PolicyViolation (the role did
// authenticate; the floor is checked afterwards). Every other outcome
// (auth_failed, tls_rejected, startup_failed) is an unauthenticated attempt: its key
// carries no application_name (make_census_key() drops it, the client
// chooses it freely) and the census gives such entries only a bounded share
// and never lets them evict authenticated ones.
constexpr bool census_outcome_authenticated(Outcome o) noexcept {
    return o == Outcome::Authenticated || o == Outcome::PolicyViolation;
}
constexpr bool census_outcome_authenticated(std::uint8_t raw) noexcept {
    return raw == static_cast<std::uint8_t>(Outcome::Authenticated) ||
           raw == static_cast<std::uint8_t>(Outcome::PolicyViolation);
}

// The rejection_reason of a policy_violation entry whose login the role floor
// refused (tls_audit.enforce_floor = on); one admitted under `log` has none.
// It keeps refused and admitted violations apart in the census, so that what
// only counts logins that went on into a session (weak_auth_in_use,
// auth_readiness()) can tell them apart.
inline constexpr char kFloorRefusedReason[] = "refused by the role floor (tls_audit.enforce_floor = on)";

// Did the login go on into a session? authenticated, or policy_violation
// admitted under tls_audit.enforce_floor = log (no kFloorRefusedReason).
struct CensusKey;
bool census_login_admitted(const CensusKey &key) noexcept;

// The most unauthenticated entries a census of `max_entries` keeps:
// max(1, max_entries / 4).
constexpr long census_unauthenticated_share(long max_entries) noexcept {
    return max_entries / 4 > 1 ? max_entries / 4 : 1;
}
std::optional<Outcome> parse_outcome(std::string_view name);
bool valid_outcome(std::uint8_t raw);

// Field capacities in bytes, including the terminating NUL. Longer values are
// cut at a UTF-8 character boundary to capacity - 1 bytes.
inline constexpr std::size_t kCensusNameLen = 64;       // NAMEDATALEN: role, database
inline constexpr std::size_t kCensusAddrLen = 48;       // INET6_ADDRSTRLEN + room
inline constexpr std::size_t kCensusAppLen = 64;        // application_name (NAMEDATALEN)
inline constexpr std::size_t kCensusTransportLen = 8;   // "unix", "tcp", "tls", "gss"
inline constexpr std::size_t kCensusProtocolLen = 16;   // "TLSv1.3"
inline constexpr std::size_t kCensusCipherLen = 64;     // OpenSSL cipher name
inline constexpr std::size_t kCensusSubjectLen = 512;   // client certificate subject (RFC 2253)
inline constexpr std::size_t kCensusReasonLen = 128;    // OpenSSL's reason for a rejected handshake
inline constexpr std::size_t kCensusSourceLen = 64;     // a pooler's name in tls_audit.poolers (at most 63)
// The key's size in the census files of 1.0 and 1.1 (format version 1):
// everything up to and including key_exchange_group.
inline constexpr std::size_t kCensusKeyV1Size = 976;

struct CensusKey {
    char usename[kCensusNameLen];
    char datname[kCensusNameLen];
    char client_addr[kCensusAddrLen];
    char application_name[kCensusAppLen];
    char transport[kCensusTransportLen];
    char protocol[kCensusProtocolLen];
    char cipher[kCensusCipherLen];
    char client_subject[kCensusSubjectLen];
    char reason[kCensusReasonLen];
    std::uint8_t outcome;
    std::uint8_t alpn;        // CensusAlpn (1.1: was padding, so 1.0 files read as None)
    // 1.1: the next six bytes were padding (zero in 1.0 files), so zero
    // means "unknown" in each of them.
    std::uint8_t auth_method;             // AuthMethod (auth_method.hpp)
    std::uint8_t client_cert_verified;    // CensusFlag
    std::uint16_t hba_line;               // pg_hba.conf line number (the file is not kept); 65535 = 65535 or more
    std::uint8_t extended_master_secret;  // CensusFlag (TLS only)
    // CensusGroup (1.2: was the last padding byte, zero in 1.0 and 1.1
    // files, so those entries read as unknown).
    std::uint8_t key_exchange_group;
    // 1.2: where the connection was seen. Empty for the server's own
    // connections (every hook); a pooler's name (tls_audit.poolers) for a
    // client of that pooler sampled from its SHOW CLIENTS (pooler_census.hpp).
    // After the 1.0 layout, so a version 1 file's record is the key up to
    // here and reads with no source (census_file.cpp).
    char source[kCensusSourceLen];
};
static_assert(std::is_trivially_copyable_v<CensusKey>, "CensusKey is copied as bytes");
static_assert(std::is_standard_layout_v<CensusKey>, "CensusKey is stored as bytes");
static_assert(sizeof(CensusKey) % 8 == 0, "CensusKey has no trailing padding");
static_assert(offsetof(CensusKey, source) == kCensusKeyV1Size, "the 1.0 layout is the key's prefix (the census file)");
static_assert(sizeof(CensusKey) == kCensusKeyV1Size + kCensusSourceLen, "no padding after source");
static_assert(offsetof(CensusKey, hba_line) % alignof(std::uint16_t) == 0, "no hidden padding before hba_line");
static_assert(offsetof(CensusKey, key_exchange_group) == kCensusKeyV1Size - 1, "the group ends the 1.0 layout");

// A yes/no fact of a key that may be unknown (entries of 1.0 files, rejected
// handshakes, no TLS): zero is unknown.
enum class CensusFlag : std::uint8_t { Unknown = 0, No = 1, Yes = 2 };
constexpr CensusFlag census_flag(bool value) noexcept { return value ? CensusFlag::Yes : CensusFlag::No; }

// The ALPN protocol of a TLS connection, as one byte of the key.
enum class CensusAlpn : std::uint8_t {
    None = 0,        // no ALPN (clients before libpq 17, servers before 17, no TLS)
    Postgresql = 1,  // "postgresql"
    Other = 2,       // any other protocol id
};
CensusAlpn census_alpn(std::string_view selected) noexcept;
// "postgresql", "other", or nullptr for None.
const char *census_alpn_name(std::uint8_t raw) noexcept;

// The key-exchange group of a TLS connection, as one byte of the key: the
// groups clients negotiate with PostgreSQL, each hybrid post-quantum group
// by itself (pq_readiness() tells them apart), the rest as "other".
enum class CensusGroup : std::uint8_t {
    Unknown = 0,  // no TLS, entries of 1.0/1.1 files, a group this OpenSSL cannot name
    OtherClassic = 1,
    X25519 = 2,
    Secp256r1 = 3,
    Secp384r1 = 4,
    Secp521r1 = 5,
    X448 = 6,
    Ffdhe2048 = 7,
    Ffdhe3072 = 8,
    Ffdhe4096 = 9,
    Ffdhe6144 = 10,
    Ffdhe8192 = 11,
    X25519MLKEM768 = 16,
    SecP256r1MLKEM768 = 17,
    SecP384r1MLKEM1024 = 18,
    OtherHybrid = 19,
};
// From the name a session shows (OpenSSL's, SSL_group_to_name()), case-insensitive.
CensusGroup census_group(std::string_view name) noexcept;
// OpenSSL's name ("x25519", "secp256r1", "X25519MLKEM768"), "other" /
// "other hybrid", or nullptr for Unknown (and invalid values).
const char *census_group_name(std::uint8_t raw) noexcept;
// A hybrid post-quantum group (ML-KEM with a classic one).
constexpr bool census_group_hybrid(std::uint8_t raw) noexcept {
    return raw >= static_cast<std::uint8_t>(CensusGroup::X25519MLKEM768) &&
           raw <= static_cast<std::uint8_t>(CensusGroup::OtherHybrid);
}

// "true", "false", or nullptr for Unknown (and invalid values).
const char *census_flag_name(std::uint8_t raw) noexcept;

// The fields of a key as C strings; nullptr and "" both mean "unknown".
struct CensusKeyFields {
    const char *usename = nullptr;
    const char *datname = nullptr;
    const char *client_addr = nullptr;
    const char *application_name = nullptr;
    const char *transport = nullptr;
    const char *protocol = nullptr;
    const char *cipher = nullptr;
    const char *client_subject = nullptr;
    const char *reason = nullptr;
    Outcome outcome = Outcome::Authenticated;
    CensusAlpn alpn = CensusAlpn::None;
    AuthMethod auth_method = AuthMethod::Unknown;
    int hba_line = 0;  // <= 0: unknown; above 65535 stored as 65535
    CensusFlag client_cert_verified = CensusFlag::Unknown;
    CensusFlag extended_master_secret = CensusFlag::Unknown;
    CensusGroup key_exchange_group = CensusGroup::Unknown;
    const char *source = nullptr;  // nullptr or "": the server's own connection
};

// Fill `key` (every byte written) from `fields`. Never allocates or throws,
// so the connection hooks can call it. Unauthenticated keys (outcome other
// than Authenticated) carry no application_name.
void make_census_key(CensusKey &key, const CensusKeyFields &fields) noexcept;

// Copy `value` into a zero-padded field of `capacity` bytes, truncating at a
// UTF-8 boundary. Returns true when the value had to be truncated.
bool copy_census_field(char *field, std::size_t capacity, const char *value) noexcept;

// The client certificate subject as the census keeps it: PostgreSQL's
// peer_dn (RFC 2253, each non-ASCII byte escaped as \\HH) with the escapes of
// UTF-8 text turned back into UTF-8, as tls_audit.sessions and pg_stat_ssl
// show it; a subject that does not decode to UTF-8 keeps its escapes. A
// subject longer than the field is cut on a character boundary and ends with
// "..." (kTruncationMarker). Never allocates.
void census_subject(char *field, std::size_t capacity, const char *dn) noexcept;

// True when every string field of `key` is NUL-terminated and zero-padded,
// the outcome is valid and the padding is zero: the form make_census_key()
// produces. Used to validate entries read from the census file.
bool census_key_canonical(const CensusKey &key) noexcept;

// Why clients with this key would be refused at `floor`, or nullopt when
// they are ready (or the entry does not matter for the floor):
//   authenticated (or policy_violation) over tls below the floor -> "TLSv1.2 < TLSv1.3"
//   authenticated over tcp/gss without TLS  -> "no TLS"
//   tls_rejected                            -> "TLS handshake rejected: <reason>"
//   unix-socket connections, auth_failed,
//   startup_failed                          -> nullopt
std::optional<std::string> readiness_reason(const CensusKey &key, Protocol floor);

// The reason text PostgreSQL put after "could not accept SSL connection: "
// in a (possibly translated) log message: the part after the last ": ", or
// the whole message when there is none. Result is at most `capacity` - 1
// bytes, written into `out` zero-padded.
void rejection_reason_from_message(const char *message, char *out, std::size_t capacity) noexcept;

}  // namespace tls_audit
