// tls_audit.census_save_interval (guc_census_save.cpp): how often the census
// save worker (bgw_census_save.cpp) writes the census file.
#pragma once

namespace tls_audit::pg {

// Defines the GUC; called while preloading (the census exists only then).
void init_census_save_gucs();

// Seconds between two periodic saves; 0: only at a clean shutdown.
int census_save_interval_seconds();

}  // namespace tls_audit::pg
