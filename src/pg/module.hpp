// What each area of the glue registers at load time (called from _PG_init).
#pragma once

namespace tls_audit::pg {

// True while _PG_init runs from shared_preload_libraries, and afterwards in
// every backend of a server that preloaded us (hooks and shared memory exist).
bool loaded_at_startup();

// Per-area initialisers called from _PG_init (one per area, defined in that
// area's file).
// @area-declarations (keep this marker: one line per area is added below it)
void init_checks();
void init_server_capture();
void init_census();
void init_sessions();
void init_probe();

}  // namespace tls_audit::pg
