// Checks of how clients authenticate, from the connection census: clients
// seen recently with a method weaker than scram-sha-256 (weak_auth_in_use),
// and whether the census still holds every authenticated client
// (census_incomplete), without which its readiness answers are too rosy.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "checks/finding.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// One row of tls_audit.auth_readiness('scram-sha-256', <window>).
struct WeakAuthFacts {
    std::string usename, datname, client_addr, application_name, auth_method, reason;
    std::int64_t connections = 0;
    std::int64_t last_seen = 0;  // seconds since the Unix epoch
};

// A warning per client (user, database, address, application) that
// authenticated with something weaker than scram-sha-256 (trust over TCP,
// password, md5) within the last `window_days` days (the glue passes only
// those: tls_audit.expiry_warning_days); 'ok' when there is none.
std::vector<Finding> check_weak_auth_in_use(const std::vector<WeakAuthFacts> &clients, int window_days);

// tls_audit.floor_readiness_summary()'s complete and evicted_since.
struct CensusCompleteness {
    bool complete = true;
    std::string evicted_since;  // the first authenticated eviction since the reset; empty when unknown
};

// A warning when authenticated entries were evicted (the census was full):
// floor_readiness(), role_floor_readiness() and auth_readiness() then miss
// clients, and an empty answer does not mean "everyone is ready"; 'ok'
// otherwise.
std::vector<Finding> check_census_incomplete(const CensusCompleteness &census);

}  // namespace tls_audit
