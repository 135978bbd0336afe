// See guc_start_settings.hpp. Plain C-style code: the snapshot lives in
// TopMemoryContext, and the one PG_TRY below has no C++ object in its scope.
// The scan of every GUC (compat::guc_variables) and the reading of a
// placeholder as a config_string rely on guc_tables.h internals: see
// "FRAGILE INTERNALS" in compat.hpp.
#include "guc_start_settings.hpp"

#include "bgw_register.hpp"
#include "checks/checks_settings.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

constexpr int kMaxStartValues = 64;

struct StartValue {
    char *name;   // as the placeholder spelled it (TopMemoryContext)
    char *value;  // the placeholder's reset value: the file's value
    char *file;   // may be null (command line)
    int line;
    GucSource source;  // PGC_S_FILE or PGC_S_ARGV
};

StartValue start_values[kMaxStartValues];
int start_count = 0;

bool is_ours(const char *name) { return pg_strncasecmp(name, "tls_audit.", 10) == 0; }

struct config_generic *find_guc(const char *name) {
    int count = 0;
    struct config_generic **vars = compat::guc_variables(&count);
    for (int i = 0; i < count; ++i)
        if (vars[i] != nullptr && pg_strcasecmp(vars[i]->name, name) == 0) return vars[i];
    return nullptr;
}

const StartValue *find_start_value(const char *name) {
    for (int i = 0; i < start_count; ++i)
        if (pg_strcasecmp(start_values[i].name, name) == 0) return &start_values[i];
    return nullptr;
}

bool rejected(const StartValue &v) {
    struct config_generic *real = find_guc(v.name);
    if (real == nullptr || (real->flags & GUC_CUSTOM_PLACEHOLDER) != 0) return false;  // not defined here
    // A value that was applied made itself the reset value, with its source.
    return real->reset_source < v.source;
}

// Why `value` is not valid for `name`: what set_config_option() says when
// asked to check it without applying it. Empty when it is valid now.
void reason_for(const char *name, const char *value, char *message, size_t message_size, char *detail,
                size_t detail_size) {
    message[0] = '\0';
    detail[0] = '\0';
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        (void)set_config_option(name, value, PGC_POSTMASTER, PGC_S_FILE, GUC_ACTION_SET, false, ERROR, false);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        if (edata->message != nullptr) strlcpy(message, edata->message, message_size);
        if (edata->detail != nullptr) strlcpy(detail, edata->detail, detail_size);
        FreeErrorData(edata);
    }
    PG_END_TRY();
}

// What applies instead of a refused value.
const char *consequence(const char *name, char *buffer, size_t size) {
    if (pg_strcasecmp(name, "tls_audit.probe_allowed_hosts") == 0)
        return "No host may be probed until the value is fixed (tls_audit.probe() and "
               "tls_audit.probe_certificates() refuse every target)";
    if (pg_strcasecmp(name, "tls_audit.role_min_protocol") == 0)  // fail closed (hook_role_floor.cpp)
        return "The protocol floors are unknown until the value is fixed: with tls_audit.enforce_floor = on every "
               "TCP session is refused, with log every TCP session is logged and counted as policy_violation "
               "(unix-socket sessions are never affected)";
    if (pg_strcasecmp(name, "tls_audit.poolers") == 0)
        return "No pooler is audited until the value is fixed (tls_audit.pooler_clients(), pooler_servers(), "
               "pooler_settings() and the pooler checks of run_checks() refuse to run)";
    if (pg_strcasecmp(name, "tls_audit.enforce_floor") == 0)
        return "The floors of tls_audit.role_min_protocol are enforced (as with on) until the value is fixed "
               "(unix-socket sessions are never affected)";
    const char *now = GetConfigOption(name, true, false);
    snprintf(buffer, size, "The default \"%s\" is in effect", now != nullptr ? now : "");
    return buffer;
}

}  // namespace

void snapshot_start_settings() {
    start_count = 0;
    int count = 0;
    struct config_generic **vars = compat::guc_variables(&count);
    for (int i = 0; i < count && start_count < kMaxStartValues; ++i) {
        struct config_generic *g = vars[i];
        if (g == nullptr || (g->flags & GUC_CUSTOM_PLACEHOLDER) == 0 || !is_ours(g->name)) continue;
        if (g->reset_source != PGC_S_FILE && g->reset_source != PGC_S_ARGV) continue;
        const struct config_string *holder = reinterpret_cast<const struct config_string *>(g);
        if (holder->reset_val == nullptr) continue;
        StartValue &v = start_values[start_count++];
        v.name = MemoryContextStrdup(TopMemoryContext, g->name);
        v.value = MemoryContextStrdup(TopMemoryContext, holder->reset_val);
        v.file = g->sourcefile != nullptr && g->reset_source == g->source
                     ? MemoryContextStrdup(TopMemoryContext, g->sourcefile)
                     : nullptr;
        v.line = g->sourceline;
        v.source = g->reset_source;
    }
}

bool start_value_rejected(const char *name) {
    const StartValue *v = find_start_value(name);
    return v != nullptr && rejected(*v);
}

namespace {
void report_refused_values() {
    for (int i = 0; i < start_count; ++i) {
        const StartValue &v = start_values[i];
        if (!rejected(v)) continue;
        char message[512], detail[512], where[1100], instead[600];
        // A connection string may hold a password (tls_audit.poolers).
        const bool secret = is_secret_setting(v.name);
        reason_for(v.name, v.value, message, sizeof message, detail, sizeof detail);
        // guc.c's message quotes the value: keep only the check hook's detail.
        if (secret) strlcpy(message, "invalid value", sizeof message);
        if (v.file != nullptr)
            snprintf(where, sizeof where, "%s line %d", v.file, v.line);
        else
            strlcpy(where, v.source == PGC_S_ARGV ? "the command line" : "the configuration", sizeof where);
        const char *applies = consequence(v.name, instead, sizeof instead);
        const struct config_generic *real = find_guc(v.name);
        const bool restart = real != nullptr && real->context == PGC_POSTMASTER;
        ereport(WARNING,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("%s = %s%s%s from %s was not applied: %s", v.name, secret ? "" : "'",
                        secret ? "(not shown)" : v.value, secret ? "" : "'", where,
                        message[0] != '\0' ? message : "the value was refused when the library was loaded"),
                 detail[0] != '\0' ? errdetail("%s. %s.", detail, applies) : errdetail("%s.", applies),
                 errhint("Correct %s, then reload the configuration%s; tls_audit.run_checks() reports the "
                         "value as settings_not_applied until then.",
                         v.name, restart ? " and restart the server" : "")));
    }
}

bool any_refused() {
    for (int i = 0; i < start_count; ++i)
        if (rejected(start_values[i])) return true;
    return false;
}
}  // namespace

void report_start_settings() {
    report_refused_values();
    // Loading from shared_preload_libraries happens before the logging
    // collector starts: with logging_collector = on, the lines above only
    // reach the postmaster's stderr (often /dev/null). A one-shot background
    // worker, started once the collector runs, says it again in the log.
    if (!process_shared_preload_libraries_in_progress || !Logging_collector || !any_refused()) return;
    register_worker("pg_tls_audit settings report", "tls_audit_settings_report_main", BGWORKER_SHMEM_ACCESS,
                    BgWorkerStart_PostmasterStart, BGW_NEVER_RESTART);
}

}  // namespace tls_audit::pg

// The worker: the snapshot and the variables are this process's copy of the
// postmaster's; report and exit (code 0: never started again).
extern "C" PGDLLEXPORT void tls_audit_settings_report_main(Datum arg);
extern "C" void tls_audit_settings_report_main(Datum arg) {
    (void)arg;
    tls_audit::pg::report_refused_values();
}
