// What each area of the glue registers at load time (called from _PG_init),
// and the one hook dispatcher they register with.
#pragma once

#include "postgres.hpp"

namespace tls_audit::pg {

class ConnectionFacts;  // hook_auth.hpp

// What one area does in PostgreSQL's hooks; any member may be null. module.cpp
// installs each hook once, calls the previous holder of the hook first, then
// every registered area in registration order (the order of _PG_init). Each
// function is fail-open: it must not raise (see log_caught_error()).
struct AreaHooks {
    const char *area = nullptr;              // for messages
    void (*request_shmem)() = nullptr;       // shmem_request_hook: RequestAddinShmemSpace & co
    void (*startup_shmem)() = nullptr;       // shmem_startup_hook: attach (postmaster and EXEC_BACKEND children)
    // ClientAuthentication_hook; `facts` computes the connection's
    // transport and authentication facts once for every area that asks.
    void (*client_auth)(Port *port, int status, ConnectionFacts &facts) = nullptr;
    // emit_log_hook: runs for every message of every process, including the
    // postmaster and backends without a PGPROC (no LWLock, no allocation).
    void (*emit_log)(ErrorData *edata) = nullptr;
    // RegisterXactCallback (registered once, in every process that loads
    // us): every transaction event of every backend, so the function returns
    // at once when its area has nothing to do in this backend.
    void (*xact_event)(XactEvent event) = nullptr;
};

// Called from an area's init_*() while preloading (shared_preload_libraries);
// outside preloading no hook is installed and this is refused with an ERROR.
void register_hooks(const AreaHooks &hooks);

// True while _PG_init runs from shared_preload_libraries, and afterwards in
// every backend of a server that preloaded us (hooks and shared memory exist).
bool loaded_at_startup();

// Per-area initialisers called from _PG_init (one per area, defined in that
// area's file).
void init_checks();
void init_server_capture();
void init_census();
void init_sessions();
void init_probe();
void init_reload();
void init_outbound();
void init_role_floor();
void init_pooler();

}  // namespace tls_audit::pg
