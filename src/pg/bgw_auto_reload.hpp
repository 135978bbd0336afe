// The automatic-reload background worker (bgw_auto_reload.cpp) and its
// status in shared memory.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "postgres.hpp"

namespace tls_audit::pg {

struct AutoReloadStatus {
    bool running = false;        // a worker process is attached
    std::string mode;            // off | on | force (the worker's view of tls_audit.auto_reload)
    std::string state;           // see bgw_auto_reload.cpp
    int files_watched = 0;
    TimestampTz last_check_at = 0;
    TimestampTz last_change_at = 0;   // 0: none seen
    TimestampTz last_action_at = 0;   // 0: none
    std::string last_action;
    std::string last_error;
};

// nullopt when not preloaded (no shared memory).
std::optional<AutoReloadStatus> auto_reload_status();

// Called from _PG_init when preloaded.
void register_auto_reload_worker();

// The parts the hook dispatcher calls (module.cpp).
std::size_t auto_reload_shmem_size();
void auto_reload_shmem_startup();  // under AddinShmemInitLock

}  // namespace tls_audit::pg
