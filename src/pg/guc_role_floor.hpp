// GUCs of the per-role protocol floor:
// tls_audit.role_min_protocol and tls_audit.enforce_floor.
#pragma once

#include "access/role_floor.hpp"

namespace tls_audit::pg {

enum class EnforceFloor { Off = 0, Log = 1, On = 2 };

// tls_audit.enforce_floor as it applies. Fail closed: while the value the
// configuration files gave it at start was refused (and no valid value from
// the files replaced it), On.
EnforceFloor enforce_floor();

// The parsed tls_audit.role_min_protocol (never null; count 0 when empty).
const RoleFloorList &role_floor_list();

// True while the value the files gave tls_audit.role_min_protocol at start
// was refused and no valid value from the files replaced it: the floors are
// unknown, and the hook treats every TCP session as below its floor.
bool role_floor_list_refused();

// Called from init_role_floor() (hook_role_floor.cpp).
void define_role_floor_gucs();

}  // namespace tls_audit::pg
