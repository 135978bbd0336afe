// tls_audit.reload_history() and tls_audit.auto_reload_status(): what the
// last TLS (re)initialisations did (hook_reload.cpp) and what the automatic
// reload worker is doing (bgw_auto_reload.cpp), read from shared memory.
#include <string>

#include "bgw_auto_reload.hpp"
#include "guard.hpp"
#include "guc_auto_reload.hpp"
#include "hook_reload.hpp"
#include "row.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_reload_history);
PG_FUNCTION_INFO_V1(tls_audit_auto_reload_status);
}

using namespace tls_audit;

namespace {

enum HistoryColumn { kHSeq, kHAt, kHKind, kHOutcome, kHOk, kHError, kHServedSha256, kHistoryColumns };
enum StatusColumn {
    kSMode,
    kSState,
    kSRunning,
    kSFilesWatched,
    kSLastCheckAt,
    kSLastChangeAt,
    kSLastActionAt,
    kSLastAction,
    kSLastError,
    kStatusColumns
};

}  // namespace

extern "C" Datum tls_audit_reload_history(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kHistoryColumns, "tls_audit.reload_history()");
        if (!pg::reload_history_active())
            throw CoreError(make_error("55000", "tls_audit.reload_history needs pg_tls_audit in shared_preload_libraries",
                                       "Add pg_tls_audit to shared_preload_libraries in postgresql.conf and restart "
                                       "the server."));
        for (const pg::ReloadEvent &e : pg::reload_history()) {
            pg::Row row(rsinfo->setDesc);
            row.int8(kHSeq, static_cast<std::int64_t>(e.seq));
            row.datum(kHAt, TimestampTzGetDatum(e.at));
            row.text(kHKind, e.kind);
            row.text(kHOutcome, e.outcome);
            if (e.ok) row.boolean(kHOk, *e.ok);
            row.text_or_null(kHError, e.error);
            row.text_or_null(kHServedSha256, e.served_sha256);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

extern "C" Datum tls_audit_auto_reload_status(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::Row row(pg::result_descriptor(fcinfo));
        pg::check_columns(row.columns(), kStatusColumns, "tls_audit.auto_reload_status()");
        const auto status = pg::auto_reload_status();
        if (!status) {
            row.text(kSMode, auto_reload_mode_name(pg::auto_reload_mode()));
            row.text(kSState, "not preloaded");
            row.boolean(kSRunning, false);
            row.text(kSLastError, "the automatic reload needs pg_tls_audit in shared_preload_libraries");
            return row.as_composite();
        }
        row.text(kSMode, status->mode);
        row.text(kSState, status->state);
        row.boolean(kSRunning, status->running);
        row.int4(kSFilesWatched, status->files_watched);
        if (status->last_check_at != 0) row.datum(kSLastCheckAt, TimestampTzGetDatum(status->last_check_at));
        if (status->last_change_at != 0) row.datum(kSLastChangeAt, TimestampTzGetDatum(status->last_change_at));
        if (status->last_action_at != 0) row.datum(kSLastActionAt, TimestampTzGetDatum(status->last_action_at));
        row.text_or_null(kSLastAction, status->last_action);
        row.text_or_null(kSLastError, status->last_error);
        return row.as_composite();
    });
}
