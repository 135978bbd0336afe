// Registering one of the extension's background workers from
// shared_preload_libraries: every worker lives in this library, is named and
// typed alike (so ps and pg_stat_activity show the same words), and is
// registered only while the library is being preloaded.
#pragma once

#include "postgres.hpp"

namespace tls_audit::pg {

// `name` is both bgw_name and bgw_type; `function` the extern "C" entry
// point; `flags` BGWORKER_*; `restart_seconds` or BGW_NEVER_RESTART. Does
// nothing outside shared_preload_libraries.
void register_worker(const char *name, const char *function, int flags, BgWorkerStartTime start_time,
                     int restart_seconds);

}  // namespace tls_audit::pg
