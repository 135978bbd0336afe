// Module entry point: GUCs, hooks and shared-memory requests of every area.
#include "module.hpp"
#include "guc_start_settings.hpp"

#include "version.hpp"

#include "postgres.hpp"

extern "C" {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
TLS_AUDIT_MODULE_MAGIC;
#pragma GCC diagnostic pop
void _PG_init(void);
}

namespace tls_audit::pg {

namespace {
bool preloaded = false;
}

bool loaded_at_startup() { return preloaded; }

}  // namespace tls_audit::pg

extern "C" void _PG_init(void) {
    tls_audit::pg::preloaded = process_shared_preload_libraries_in_progress;
    // tls_audit.* values read from the files before we were loaded; the
    // areas' definitions below may refuse them (see guc_start_settings.hpp).
    tls_audit::pg::snapshot_start_settings();
    // Each area registers its GUCs, hooks and shared memory in its own file;
    // one call per area, in this order.
    // @areas (keep this marker: one line per area is added below it)
    tls_audit::pg::init_checks();
    tls_audit::pg::init_server_capture();
    tls_audit::pg::init_census();
    tls_audit::pg::init_sessions();
    tls_audit::pg::init_probe();

    // After every area: the values the definitions refused, one WARNING each.
    tls_audit::pg::report_start_settings();
    MarkGUCPrefixReserved("tls_audit");
}
