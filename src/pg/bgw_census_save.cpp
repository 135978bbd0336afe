// The census save worker: every tls_audit.census_save_interval it
// saves the connection census (census::save(): a temporary file, fsync,
// rename, fsync of the directory), so that a crash loses at most one
// interval of counts; the clean-shutdown save stays the postmaster's.
//
// Needs shared memory only (no database), so it starts with the postmaster
// and runs on a standby too. A failed save is a WARNING (once per distinct
// error, then one LOG line when a save succeeds again) and shows in
// tls_audit.census_info() (last_save_error) and run_checks()
// (census_save_failed). A crash of the worker restarts it after
// kRestartSeconds. With the interval 0 it only waits for a reload.
#include "bgw_census_save.hpp"

#include <string>

#include "bgw_register.hpp"
#include "guard.hpp"
#include "guc_census.hpp"
#include "census_shmem.hpp"

#include "postgres.hpp"

extern "C" PGDLLEXPORT void tls_audit_census_save_main(Datum arg);

namespace tls_audit::pg {

namespace {

constexpr int kRestartSeconds = 10;

// One save, logged: a WARNING when it fails with a new error, a LOG line
// when it succeeds after failing.
void save_and_log(std::string &last_error) {
    const std::string error = census::save();
    if (!error.empty() && error != last_error) {
        call([&] {
            ereport(WARNING,
                    (errmsg("pg_tls_audit: could not save the connection census: %s", error.c_str()),
                     errdetail("A crash loses the connections counted since the last successful save; "
                               "tls_audit.census_info() shows when that was."),
                     errhint("Make the pg_stat directory of the data directory writable by the server and check "
                             "its free space.")));
        });
    } else if (error.empty() && !last_error.empty()) {
        call([] { ereport(LOG, (errmsg("pg_tls_audit: the connection census is saved again"))); });
    }
    last_error = error;
}

void main_loop() {
    std::string last_error;
    run_every(census_save_interval_seconds, FirstRound::AfterAnInterval, [&] { save_and_log(last_error); });
}

}  // namespace

void register_census_save_worker() {
    register_worker("pg_tls_audit census save", "tls_audit_census_save_main", BGWORKER_SHMEM_ACCESS,
                    BgWorkerStart_PostmasterStart, kRestartSeconds);
}

}  // namespace tls_audit::pg

extern "C" void tls_audit_census_save_main(Datum arg) {
    (void)arg;
    tls_audit::pg::run_worker(tls_audit::pg::main_loop);
}
