// tls_audit.role_min_protocol against the roles that exist: the facts of the
// check role_floor_unmatched for run_checks(), and the WARNING the
// auto-reload worker logs when a reload (or the start) leaves entries that
// match no role.
#pragma once

#include "checks/checks.hpp"

namespace tls_audit::pg {

// The setting in effect, tls_audit.enforce_floor and every role's name (read
// from pg_roles, which shows pg_authid's names to every role: no more than a
// caller can already see). Inside run_checks()'s SPI connection.
Input<RoleFloorFacts> gather_role_floor();

// In the auto-reload worker, at its start and after each configuration
// reload: one WARNING naming the tls_audit.role_min_protocol entries that
// match no role (nothing when all match or the list is empty). Runs its own
// transaction; a failure to read the roles is a LOG line, never the worker's end.
void report_unmatched_role_floors();

}  // namespace tls_audit::pg
