// GUCs of tls_audit.run_checks() and tls_audit.record_checks().
#include "checks.hpp"

#include "module.hpp"
#include "postgres.hpp"

namespace tls_audit::pg {

namespace {
int warning_days = 30;
int critical_days = 7;
int retention_days = 90;
constexpr int kMaxDays = 36500;
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
}

}  // namespace tls_audit::pg
