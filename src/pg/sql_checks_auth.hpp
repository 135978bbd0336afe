// The facts of the checks weak_auth_in_use and census_incomplete, for run_checks() (sql_checks.cpp).
#pragma once

#include <vector>

#include "checks/checks.hpp"

namespace tls_audit::pg {

// tls_audit.auth_readiness('scram-sha-256') over the last `window_days`
// days, read through SPI with the caller's privileges (inside run_checks()'s
// SPI connection); 'none' with the reason when it cannot be read (not
// preloaded, the 1.0 schema, ...).
Input<std::vector<WeakAuthFacts>> gather_weak_auth(int window_days);

// complete and evicted_since of tls_audit.floor_readiness_summary() over the
// whole census, read the same way (its privilege gates it).
Input<CensusCompleteness> gather_census_completeness();

}  // namespace tls_audit::pg
