// The census seen through the per-role floors (tls_audit.role_min_protocol):
// which clients would be logged or refused if tls_audit.enforce_floor were
// log or on now (tls_audit.role_floor_readiness()).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "census/census_file.hpp"
#include "access/role_floor.hpp"

TLS_AUDIT_AREA(census);

namespace tls_audit {

struct RoleReadinessRow {
    std::string usename, datname, client_addr, application_name, protocol, role_floor, reason;
    std::int64_t connections = 0;
    std::int64_t last_seen = 0;  // the latest last_seen of the entries added up
};

// The entry of the floor list that applies to a role name, or nullptr; the
// glue resolves +group membership from the catalogs (and may throw).
using RoleFloorLookup = const RoleFloorEntry *(*)(const char *usename, void *context);

// Rows for the authenticated and policy_violation entries of `records` (the
// entries the caller may see, already limited in time) whose role has a floor
// and that are below it (TLS older than the floor, or TCP/GSS without TLS),
// added up per (usename, datname, client_addr, application_name, protocol,
// reason), most connections first. Unix sockets, unauthenticated outcomes and
// roles without an entry give no row (floor_readiness() covers a global floor).
std::vector<RoleReadinessRow> role_floor_readiness(const std::vector<const CensusRecord *> &records,
                                                   RoleFloorLookup lookup, void *context);

}  // namespace tls_audit
