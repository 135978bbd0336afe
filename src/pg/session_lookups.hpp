// What the rows of tls_audit.sessions share, looked up once per query: per
// role whether the caller sees its sessions, its name and its protocol
// floor (tls_audit.role_min_protocol); per database its name. The view
// used to join pg_authid and pg_database and call session_floor() on every
// row; a handful of roles and databases serve hundreds of sessions.
#pragma once

#include <optional>
#include <unordered_map>

#include "access/role_floor.hpp"
#include "visibility.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

struct RoleFacts {
    bool seen = false;                     // the caller may see the details of its sessions
    std::optional<Datum> name;             // rolname (type name); none for a role that no longer exists
    const RoleFloorEntry *floor = nullptr; // its entry of tls_audit.role_min_protocol, if any applies
    std::optional<Datum> floor_text;       // that entry's protocol (text)
};

class SessionLookups {
  public:
    // `names_and_floors`: look up names and floors too (the view), or only
    // the visibility (session_rows()).
    SessionLookups(const Visibility &visibility, bool names_and_floors)
        : visibility_(visibility), names_and_floors_(names_and_floors) {}

    // The facts of `role` (InvalidOid: an unknown role, seen only with
    // pg_read_all_stats). The values live in the memory context current at
    // the first lookup of the role; the reference as long as this object.
    const RoleFacts &role(Oid role);

    // The name of `database` (type name), or none for InvalidOid (a physical
    // walsender) and a database that no longer exists.
    std::optional<Datum> database_name(Oid database);

  private:
    const Visibility &visibility_;
    bool names_and_floors_;
    std::unordered_map<Oid, RoleFacts> roles_;
    std::unordered_map<Oid, std::optional<Datum>> databases_;
};

}  // namespace tls_audit::pg
