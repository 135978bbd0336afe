// The census save worker (bgw_census_save.cpp): saves the connection census
// every tls_audit.census_save_interval.
#pragma once

namespace tls_audit::pg {

// Called from init_census while preloading: registers the worker.
void register_census_save_worker();

}  // namespace tls_audit::pg
