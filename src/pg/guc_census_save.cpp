// tls_audit.census_save_interval: sighup, in seconds (units accepted: '5min',
// '30s'...). A value that cannot be applied keeps the previous one (at start:
// the default, 5 minutes), so a typo never turns the periodic save off.
#include "guc_census_save.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {
int interval_s = 300;
constexpr int kMaxInterval = 24 * 3600;
}  // namespace

int census_save_interval_seconds() { return interval_s; }

void init_census_save_gucs() {
    DefineCustomIntVariable("tls_audit.census_save_interval",
                            "How often the connection census is saved to its file, so that a crash loses at most "
                            "this much of it.",
                            "0 saves only at a clean shutdown. Each save writes a temporary file, fsyncs it and "
                            "renames it over pg_stat/pg_tls_audit_census.",
                            &interval_s, 300, 0, kMaxInterval, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
}

}  // namespace tls_audit::pg
