// Module entry point: GUCs, hooks and shared-memory requests of every area.
#include "module.hpp"
#include "fault_stages.hpp"
#include "hook_auth.hpp"
#include "guc_start_settings.hpp"

#include "base/hot_path.hpp"
#include "base/version.hpp"

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

// The areas' hooks, filled while _PG_init runs in the postmaster and only
// read afterwards (children inherit the array with the address space).
constexpr int kMaxAreas = 8;
AreaHooks areas[kMaxAreas];
int area_count = 0;

shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;
ClientAuthentication_hook_type prev_client_auth_hook = nullptr;
emit_log_hook_type prev_emit_log_hook = nullptr;

void dispatch_request_shmem() {
    if (prev_shmem_request_hook != nullptr) prev_shmem_request_hook();
    for (int i = 0; i < area_count; ++i)
        if (areas[i].request_shmem != nullptr) areas[i].request_shmem();
}

void dispatch_startup_shmem() {
    if (prev_shmem_startup_hook != nullptr) prev_shmem_startup_hook();
    for (int i = 0; i < area_count; ++i)
        if (areas[i].startup_shmem != nullptr) areas[i].startup_shmem();
}

TLS_AUDIT_HOT void dispatch_client_auth(Port *port, int status) {
    if (prev_client_auth_hook != nullptr) prev_client_auth_hook(port, status);
    TLS_AUDIT_FAULT_MARK("start");
    // What the areas read of the connection, computed once for all of them
    // (on this stack: plain data, no allocation).
    ConnectionFacts facts(port, status);
    for (int i = 0; i < area_count; ++i)
        if (areas[i].client_auth != nullptr) {
            areas[i].client_auth(port, status, facts);
            TLS_AUDIT_FAULT_MARK(areas[i].area);
        }
#ifdef TLS_AUDIT_FAULT_STAGES
    fault_stages::report();
#endif
}

void dispatch_emit_log(ErrorData *edata) {
    if (prev_emit_log_hook != nullptr) prev_emit_log_hook(edata);
    for (int i = 0; i < area_count; ++i)
        if (areas[i].emit_log != nullptr) areas[i].emit_log(edata);
}

// Hot: every backend runs it at the end of each transaction, including
// InitPostgres's own.
TLS_AUDIT_HOT void dispatch_xact_event(XactEvent event, void *) {
    for (int i = 0; i < area_count; ++i)
        if (areas[i].xact_event != nullptr) areas[i].xact_event(event);
}

// Each hook is installed once, and only when some area uses it.
void install_hooks() {
    bool request = false, startup = false, auth = false, log = false, xact = false;
    for (int i = 0; i < area_count; ++i) {
        request |= areas[i].request_shmem != nullptr;
        startup |= areas[i].startup_shmem != nullptr;
        auth |= areas[i].client_auth != nullptr;
        log |= areas[i].emit_log != nullptr;
        xact |= areas[i].xact_event != nullptr;
    }
    if (request) {
        prev_shmem_request_hook = shmem_request_hook;
        shmem_request_hook = dispatch_request_shmem;
    }
    if (startup) {
        prev_shmem_startup_hook = shmem_startup_hook;
        shmem_startup_hook = dispatch_startup_shmem;
    }
    if (auth) {
        prev_client_auth_hook = ClientAuthentication_hook;
        ClientAuthentication_hook = dispatch_client_auth;
    }
    if (log) {
        prev_emit_log_hook = emit_log_hook;
        emit_log_hook = dispatch_emit_log;
    }
    // A callback list rather than a hook variable: nobody to chain. Made in
    // the postmaster's TopMemoryContext, inherited by every child (and made
    // again by each child under EXEC_BACKEND, which runs _PG_init anew).
    if (xact) RegisterXactCallback(dispatch_xact_event, nullptr);
}
}  // namespace

#ifdef TLS_AUDIT_FAULT_STAGES
void fault_stages::report() {
    char line[512];
    int used = 0;
    for (int i = 1; i < mark_count && used < static_cast<int>(sizeof line); ++i)
        used += snprintf(line + used, sizeof line - used, "%s%s +%ld", i > 1 ? ", " : "", marks[i].stage,
                         marks[i].minflt - marks[i - 1].minflt);
    elog(LOG, "pg_tls_audit fault stages: %s (total +%ld)", line,
         mark_count > 1 ? marks[mark_count - 1].minflt - marks[0].minflt : 0L);
    mark_count = 0;
}
#endif

bool loaded_at_startup() { return preloaded; }

void register_hooks(const AreaHooks &hooks) {
    if (!process_shared_preload_libraries_in_progress || area_count >= kMaxAreas)
        elog(ERROR, "pg_tls_audit: hooks of area \"%s\" registered outside shared_preload_libraries or beyond %d areas",
             hooks.area != nullptr ? hooks.area : "?", kMaxAreas);
    areas[area_count++] = hooks;
}

}  // namespace tls_audit::pg

extern "C" void _PG_init(void) {
    tls_audit::pg::preloaded = process_shared_preload_libraries_in_progress;
    // tls_audit.* values read from the files before we were loaded; the
    // areas' definitions below may refuse them (see guc_start_settings.hpp).
    tls_audit::pg::snapshot_start_settings();
    // Each area registers its GUCs, hooks and shared memory in its own file;
    // one call per area, in this order.
    tls_audit::pg::init_checks();
    tls_audit::pg::init_server_capture();
    tls_audit::pg::init_census();
    tls_audit::pg::init_sessions();
    tls_audit::pg::init_probe();
    tls_audit::pg::init_reload();
    tls_audit::pg::init_outbound();
    tls_audit::pg::init_pooler();
    // After the census and the session registry: its hook may refuse the connection.
    tls_audit::pg::init_role_floor();

    // Every area has registered its hooks (only while preloading): install
    // each hook once, in front of whoever held it before.
    tls_audit::pg::install_hooks();

    // After every area: the values the definitions refused, one WARNING each.
    tls_audit::pg::report_start_settings();
    MarkGUCPrefixReserved("tls_audit");
}
