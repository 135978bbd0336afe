#include "bgw_register.hpp"

#include <cstring>

namespace tls_audit::pg {

void register_worker(const char *name, const char *function, int flags, BgWorkerStartTime start_time,
                     int restart_seconds) {
    if (!process_shared_preload_libraries_in_progress) return;
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    strlcpy(worker.bgw_name, name, BGW_MAXLEN);
    strlcpy(worker.bgw_type, name, BGW_MAXLEN);
    strlcpy(worker.bgw_library_name, "pg_tls_audit", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, function, BGW_MAXLEN);
    worker.bgw_flags = flags;
    worker.bgw_start_time = start_time;
    worker.bgw_restart_time = restart_seconds;
    RegisterBackgroundWorker(&worker);
}

}  // namespace tls_audit::pg
