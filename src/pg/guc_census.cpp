// The census GUCs.
//  * tls_audit.census_max: postmaster, the number of distinct connection keys
//    the census hash holds (it sizes the shared memory).
//  * tls_audit.census_save_interval: sighup, in seconds (units accepted:
//    '5min', '30s'...). A value that cannot be applied keeps the previous one
//    (at start: the default, 5 minutes), so a typo never turns the periodic
//    save off.
#include "guc_census.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

int census_max = 5000;

namespace {
int interval_s = 300;
constexpr int kMaxInterval = 24 * 3600;
}  // namespace

int census_save_interval_seconds() { return interval_s; }

void init_census_gucs() {
    DefineCustomIntVariable("tls_audit.census_max",
                            "Maximum number of distinct connection keys kept by the connection census.",
                            "When full, the least recently seen entries are evicted (5% at a time), "
                            "unauthenticated attempts first; those hold at most a quarter of the entries.",
                            &census_max, 5000, 10, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("tls_audit.census_save_interval",
                            "How often the connection census is saved to its file, so that a crash loses at most "
                            "this much of it.",
                            "0 saves only at a clean shutdown. Each save writes a temporary file, fsyncs it and "
                            "renames it over pg_stat/pg_tls_audit_census.",
                            &interval_s, 300, 0, kMaxInterval, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
}

}  // namespace tls_audit::pg
