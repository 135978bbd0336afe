// A protocol floor per role (tls_audit.role_min_protocol).
//
// The setting is a comma-separated list of `name=protocol` items:
//   etl=TLSv1.3, +reporting=TLSv1.3, legacy_app=TLSv1.2, *=TLSv1.2
// `name` is a role, `+name` the members of a role (as pg_hba's +group:
// direct or indirect membership, superusers are not members by default), `*`
// every other role. A name may be double-quoted ("Etl Team", with "" for a
// quote) to keep upper case, spaces, commas or '='. The most specific entry
// wins: the role's own entry, then its groups (the highest floor among the
// listed groups it belongs to), then `*`.
//
// The parsed form is a fixed-size plain struct (no allocation), so the
// PostgreSQL glue can keep it as a GUC's `extra` (one malloc'd block) and the
// connection hook can resolve a role without allocating.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/protocol.hpp"

TLS_AUDIT_AREA(access);

namespace tls_audit {

inline constexpr std::size_t kRoleFloorNameLen = 64;     // NAMEDATALEN, with the NUL
inline constexpr std::size_t kRoleFloorMaxEntries = 64;  // items in one setting

enum class FloorScope : std::uint8_t {
    Role = 0,     // name=...
    Group = 1,    // +name=...
    Default = 2,  // *=...
};

struct RoleFloorEntry {
    char name[kRoleFloorNameLen];  // empty for Default
    FloorScope scope;
    Protocol floor;
};

struct RoleFloorList {
    std::uint32_t count = 0;
    bool has_groups = false;  // some entry is +group: membership must be looked up
    RoleFloorEntry entries[kRoleFloorMaxEntries];
};

// Parse a setting. Empty (or only blanks) is an empty list. Errors (SQLSTATE
// 22023) name the offending item and its position in the message and say
// what is allowed in the hint: missing '=', empty or too long names, unknown
// or too old protocols (valid: TLSv1 .. TLSv1.3), duplicates, unterminated
// quotes, more than kRoleFloorMaxEntries items.
Expected<RoleFloorList> parse_role_floors(std::string_view text);

// The setting written back in canonical form ("etl=TLSv1.3, +reporting=...").
std::string format_role_floors(const RoleFloorList &list);

// Is the role a member of `group`? (the glue answers from the catalogs)
using RoleMemberFn = bool (*)(const char *group, void *context);

// The entry that applies to `role`, or nullptr when none does. Groups are
// asked only when the role has no entry of its own and the list has groups;
// `member` may be null (then no group applies). Never allocates.
const RoleFloorEntry *resolve_role_floor(const RoleFloorList &list, std::string_view role, RoleMemberFn member,
                                         void *context) noexcept;

// What the floor says about one session.
enum class FloorDecision : std::uint8_t {
    NoFloor = 0,     // no entry applies to the role
    Ok = 1,          // TLS at or above the floor
    BelowFloor = 2,  // TLS below the floor (or a protocol that cannot be read)
    NoTls = 3,       // TCP without TLS (plain or GSSAPI-encrypted) and the role has a floor
    UnixSocket = 4,  // unix-domain socket: never affected
};

inline bool floor_violated(FloorDecision d) noexcept {
    return d == FloorDecision::BelowFloor || d == FloorDecision::NoTls;
}

// Whether some entry that may apply to `role` (its own entry; without one,
// every +group entry and `*`) is violated by a session over `transport` with
// `protocol` (as decide_role_floor). false means the session is within its
// floor whichever groups the role belongs to, so the connection hook need
// not look membership up in the catalogs (a dozen fresh pages in a new
// backend). Never allocates.
bool floor_violation_possible(const RoleFloorList &list, std::string_view role, const char *transport,
                              const char *protocol) noexcept;

// Decide for a session. `transport` is a transport_name() ("unix", "tls",
// "tcp", "gss"; empty or null: unknown, decided as NoFloor), `protocol` the
// negotiated protocol name for tls. Never allocates.
FloorDecision decide_role_floor(const RoleFloorEntry *entry, const char *transport, const char *protocol) noexcept;

// Which entry applied, for messages: "role etl", "group reporting", "all roles".
// Writes at most capacity - 1 bytes and a NUL; never allocates.
void describe_floor_entry(const RoleFloorEntry &entry, char *out, std::size_t capacity) noexcept;

// The reason text of a violation: "TLSv1.2 < TLSv1.3 (role etl)",
// "no TLS (group reporting)"; empty for every other decision. Never
// allocates; truncated to capacity - 1 bytes.
void floor_reason(FloorDecision decision, const RoleFloorEntry &entry, const char *protocol, char *out,
                  std::size_t capacity) noexcept;

// Same, as a string (nullopt when not violated): for the SQL functions.
std::optional<std::string> floor_reason(FloorDecision decision, const RoleFloorEntry &entry,
                                        std::string_view protocol);

// Why a session is below the floor that applies to it, or nullopt when it is
// not: `entry` (its role's entry of tls_audit.role_min_protocol) when one
// applies, else `fallback` (tls_audit.min_protocol). What session_floor() and
// the sessions view show. `transport` is a transport_name().
std::optional<std::string> session_floor_reason(const RoleFloorEntry *entry, std::string_view transport,
                                                std::string_view protocol, Protocol fallback);

// An entry (role or +group; never `*`) that names no existing role: matching
// is exact, as PostgreSQL matches role names, so such an entry protects
// nobody, whether it was misspelled, its role dropped or renamed.
struct UnmatchedFloorEntry {
    std::string entry;         // as written back: "ghost=TLSv1.3", "+\"ETL_TEAM\"=TLSv1.3"
    std::string name;          // the role name it asks for
    std::string case_variant;  // an existing role that differs only in (ASCII) case; empty if none
};

// The entries of `list` whose name is none of `roles` (every role's name), in
// the list's order.
std::vector<UnmatchedFloorEntry> unmatched_role_floors(const RoleFloorList &list,
                                                       const std::vector<std::string> &roles);

// One line naming the unmatched entries, for the reload WARNING:
// `ghost=TLSv1.3; "ETL_TEAM"=TLSv1.3 (role etl_team differs only in case)`.
std::string describe_unmatched_role_floors(const std::vector<UnmatchedFloorEntry> &unmatched);

}  // namespace tls_audit
