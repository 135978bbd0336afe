// When an authenticated connection is counted, and under which outcome, when
// that is not known in ClientAuthentication_hook:
//  * startup_failed: the hook runs before InitPostgres checks that the role
//    and the database exist (and the connection limits), so a connection
//    counted as authenticated may still be refused with a FATAL. The backend
//    remembers its authenticated key (a plain copy, no allocation) and, at
//    exit, if it never reached normal processing (PostgresMain sets
//    NormalProcessing only after InitPostgres succeeded, for walsenders too),
//    moves that one count to the same key with outcome startup_failed and the
//    FATAL's message as reason (captured by hook_census.cpp's emit_log).
//  * Deferred count: a session that authenticated without a name in its
//    startup packet owes its count (census/census_attribution.hpp decides);
//    it is made at the end of its first real transaction or at exit, under the
//    application_name the session set. Backend-local only: nothing shared is
//    touched until it is made.
#include <cstring>

#include "base/hot_path.hpp"
#include "census_internal.hpp"
#include "guard.hpp"

#include "postgres.hpp"

namespace tls_audit::pg::census_glue {

// Zero-initialized (TLS_AUDIT_HOT_DATA): see census_internal.hpp.
TLS_AUDIT_HOT_DATA StartupState startup;

namespace {
void count_deferred(const char *context_what);
}  // namespace

TLS_AUDIT_HOT void startup_exit(int, Datum) {
    if (startup.deferral.pending()) {
        // Before ShutdownPostgres (InitPostgres registered it before the
        // authentication, and these callbacks run in reverse order): a
        // transaction left open is not rolled back yet, its SET counts.
        if (startup.deferral.exit() && shared != nullptr && table != nullptr) count_deferred("session not counted in the census at exit");
        return;
    }
    if (!startup.pending || shared == nullptr || table == nullptr) return;
    startup.pending = false;
    if (IsNormalProcessingMode()) return;
    static CensusKey failed;
    memcpy(&failed, &startup.key, sizeof failed);
    failed.outcome = static_cast<std::uint8_t>(Outcome::StartupFailed);
    // Like every unauthenticated key: no application name (the client
    // chooses it freely), so failed startups share their eviction budget.
    memset(failed.application_name, 0, sizeof failed.application_name);
    copy_census_field(failed.reason, sizeof failed.reason, startup.reason);
    const TimestampTz now = GetCurrentTimestamp();
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        merge_pending_locked();
        move_one_locked(startup.key, failed, now);
        LWLockRelease(shared->lock);
    }
    PG_CATCH();
    {
        release_if_held();
        log_caught_error(context, "failed startup not counted in the census");
    }
    PG_END_TRY();
}

namespace {

// Make the owed count: under the session's application_name now, or as
// startup_failed when the session never started (the FATAL's reason).
void count_deferred(const char *what) {
    static CensusKey key;
    memcpy(&key, &startup.key, sizeof key);
    if (!IsNormalProcessingMode()) {
        key.outcome = static_cast<std::uint8_t>(Outcome::StartupFailed);
        copy_census_field(key.reason, sizeof key.reason, startup.reason);
    } else {
        copy_census_field(key.application_name, sizeof key.application_name, application_name);
    }
    const TimestampTz now = GetCurrentTimestamp();
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        count_connection(key, now);
    }
    PG_CATCH();
    {
        release_if_held();
        log_caught_error(context, what);
    }
    PG_END_TRY();
}

}  // namespace

// Every transaction event of every backend (module.cpp's XactCallback):
// returns at once unless this session's count is owed. InitPostgres's own
// transactions end before normal processing and are not the client's.
TLS_AUDIT_HOT void xact_event(XactEvent event) {
    if (!startup.deferral.pending() || shared == nullptr || table == nullptr || !IsNormalProcessingMode()) return;
    bool committed;
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PREPARE:
            committed = true;
            break;
        case XACT_EVENT_ABORT:
            committed = false;
            break;
        default:
            return;
    }
    // A transaction that ran anything but SET, SHOW or transaction control
    // took a snapshot; FirstSnapshotSet stays true until after the
    // callbacks (AtEOXact_Snapshot).
    if (startup.deferral.transaction_end(committed, FirstSnapshotSet, census_name_set(application_name)))
        count_deferred("session not counted in the census");
}

}  // namespace tls_audit::pg::census_glue
