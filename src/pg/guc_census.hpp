// The census GUCs (guc_census.cpp): tls_audit.census_max, the size of the
// census hash, and tls_audit.census_save_interval, how often the census save
// worker (bgw_census_save.cpp) writes the census file.
#pragma once

namespace tls_audit::pg {

// Defines the GUCs; called while preloading (the census exists only then).
void init_census_gucs();

// tls_audit.census_max: the most entries the census hash holds
// (PGC_POSTMASTER: fixed once the shared memory is sized).
extern int census_max;

// Seconds between two periodic saves; 0: only at a clean shutdown.
int census_save_interval_seconds();

}  // namespace tls_audit::pg
