// The history of the server's TLS (re)initialisations, captured in the
// postmaster by emit_log_hook (see hook_reload.cpp), and the status of the
// automatic-reload worker (bgw_auto_reload.cpp), both in shared memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "postgres.hpp"

namespace tls_audit::pg {

struct ReloadEvent {
    std::uint64_t seq = 0;
    TimestampTz at = 0;
    std::string kind;           // start | reload
    std::string outcome;        // loaded | kept previous configuration | in progress
    std::optional<bool> ok;     // nullopt while in progress
    std::string error;          // the server's reason (its log line before "SSL configuration was not reloaded")
    std::string served_sha256;  // the leaf served afterwards (first TLS connection after it); empty until seen
};

// True when the history's shared memory exists (the library was preloaded).
bool reload_history_active();

// Oldest first, at most kReloadHistorySize entries.
std::vector<ReloadEvent> reload_history();

// From the served-certificate capture: the leaf's DER served by backends
// forked after the reload of `reload_time`.
void reload_history_note_served(TimestampTz reload_time, const unsigned char *leaf_der, std::size_t len);

// The parts the hook dispatcher calls (module.cpp).
std::size_t reload_history_shmem_size();
void reload_history_shmem_startup();   // under AddinShmemInitLock
void reload_history_emit_log(ErrorData *edata);

}  // namespace tls_audit::pg
