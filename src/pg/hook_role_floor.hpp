// The per-role protocol floor at authentication: the
// decision for this backend's connection, shared with the census (which
// counts a violation as outcome policy_violation), and the floor of any role
// for tls_audit.sessions.
#pragma once

#include "postgres.hpp"
#include "access/role_floor.hpp"

namespace tls_audit::pg {

class ConnectionFacts;  // hook_auth.hpp

// For the census hook (which runs before this area's hook): true when this
// connection is below its role's floor and tls_audit.enforce_floor is log or
// on. Decided once per backend, on the first call; with enforce_floor = off
// it returns false without any other work. The transport is `facts`' (the
// census's hook and this area's share it). Fail-open: never raises.
bool role_floor_violation(Port *port, int status, ConnectionFacts &facts);

// True when the connection is a violation and enforce_floor = on: this
// area's hook will refuse it with a FATAL (the census then does not wait
// for the session to start).
bool role_floor_refuses(Port *port, int status, ConnectionFacts &facts);

// The entry of tls_audit.role_min_protocol that applies to role `roleid`
// (named `rolname`), or nullptr: membership of +group entries as pg_hba's
// +group (is_member_of_role_nosuper). For SQL functions: may raise.
const RoleFloorEntry *role_floor_entry(Oid roleid, const char *rolname);

}  // namespace tls_audit::pg
