// GUCs of tls_audit.run_checks() and tls_audit.record_checks().
#include "guc_checks.hpp"

#include "module.hpp"
#include "postgres.hpp"

namespace tls_audit::pg {

namespace {
int warning_days = 30;
int critical_days = 7;
int retention_days = 90;
constexpr int kMaxDays = 36500;

// tls_audit.notify_channel / notify_payload, read by record_checks() (SQL).
char *notify_channel = nullptr;
int notify_payload = 1;
const struct config_enum_entry notify_payload_options[] = {
    {"none", 0, false}, {"severity", 1, false}, {"summary", 2, false}, {nullptr, 0, false}};

// A channel name as LISTEN takes it: shorter than NAMEDATALEN, printable.
bool check_notify_channel(char **newval, void **extra, GucSource source) {
    (void)extra;
    (void)source;
    const char *v = *newval != nullptr ? *newval : "";
    if (strlen(v) >= NAMEDATALEN) {
        GUC_check_errdetail("A channel name has at most %d bytes.", NAMEDATALEN - 1);
        return false;
    }
    for (const char *c = v; *c != '\0'; ++c) {
        if (static_cast<unsigned char>(*c) < 0x20 || *c == 0x7f) {
            GUC_check_errdetail("A channel name must not contain control characters.");
            return false;
        }
    }
    return true;
}
}  // namespace

int expiry_warning_days() { return warning_days; }
int expiry_critical_days() { return critical_days; }
int history_retention_days() { return retention_days; }

void init_checks() {
    // PGC_SUSET: set in postgresql.conf or ALTER SYSTEM (reload applies), or
    // by a superuser for one session; never by ordinary roles.
    DefineCustomIntVariable("tls_audit.expiry_warning_days",
                            "Certificates and CRLs expiring within this many days are reported as warning.",
                            "Used by tls_audit.run_checks() for server, CA and client certificates and CRLs.",
                            &warning_days, 30, 0, kMaxDays, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("tls_audit.expiry_critical_days",
                            "Certificates and CRLs expiring within this many days are reported as critical.",
                            "Expired and not-yet-valid certificates are always critical.", &critical_days, 7, 0,
                            kMaxDays, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("tls_audit.history_retention_days",
                            "tls_audit.record_checks() deletes check_history rows older than this many days.",
                            "0 keeps the history forever.", &retention_days, 90, 0, kMaxDays, PGC_SUSET, 0,
                            nullptr, nullptr, nullptr);
    DefineCustomStringVariable("tls_audit.notify_channel",
                               "Channel on which tls_audit.record_checks() sends a NOTIFY after each run.",
                               "Empty (the default) sends none. NOTIFY payloads can be received by every role "
                               "that can connect to the database and LISTEN: see tls_audit.notify_payload.",
                               &notify_channel, "", PGC_SUSET, 0, check_notify_channel, nullptr, nullptr);
    DefineCustomEnumVariable("tls_audit.notify_payload",
                             "What the NOTIFY of tls_audit.record_checks() carries.",
                             "none: an empty payload; severity: run_at, database and the worst severity; "
                             "summary: also cluster_name, counts per severity and the failing check names.",
                             &notify_payload, 1, notify_payload_options, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace tls_audit::pg
