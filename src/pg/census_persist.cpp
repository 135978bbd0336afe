// The census file: loaded by the postmaster at start, saved at a clean
// shutdown and by the census save worker (bgw_census_save.cpp) every
// tls_audit.census_save_interval, so that a crash loses at most one interval.
// Every save writes a temporary file, fsyncs it, renames it over the census
// file and fsyncs the directory; a failure is a WARNING and stays in
// census_info() (last_save_error) until a save succeeds. A marker file,
// created at start and removed by a successful shutdown save, tells the next
// start that the previous run ended without one (crash, immediate shutdown,
// failed save): census_info().lost_since then says since when the counts were
// lost.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "base/file_reader.hpp"
#include "census_internal.hpp"
#include "census_shmem.hpp"
#include "guard.hpp"
#include "guc_census.hpp"
#include "probe/probe_io.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace census_glue {

namespace {

constexpr const char *kTmpFile = "pg_stat/pg_tls_audit_census.tmp";
// Exists while a server run has not saved the census at its shutdown.
constexpr const char *kRunningFile = "pg_stat/pg_tls_audit_census.running";

void set_status(const std::string &status) { strlcpy(shared->file_status, status.c_str(), sizeof shared->file_status); }


// Read the whole census file; false (and a status) when it cannot be read.
// Runs in the postmaster before it listens: it must never block, so the file
// is opened without blocking (a FIFO would wait for a writer forever) and
// must be a regular file (following a symlink, so a link to /dev/zero is
// "a character device", not an endless read).
bool read_file(std::string &bytes) {
    const std::uint64_t limit = kCensusFileHeaderSize + 4 +
                                std::uint64_t(std::max(4 * census_max, 100000)) * kCensusRecordSize;
    FileReadResult r = read_regular_file(census::kCensusFile, static_cast<std::size_t>(limit));
    switch (r.failure) {
        case FileReadFailure::None:
            bytes = std::move(r.bytes);
            return true;
        case FileReadFailure::Open:
            if (r.error_number == ENOENT) {
                set_status("no census file");
            } else {
                set_status(std::string("could not open census file: ") + strerror(r.error_number));
                ereport(WARNING, (errmsg("pg_tls_audit: could not open census file \"%s\": %s", census::kCensusFile,
                                         strerror(r.error_number)),
                                  errdetail("The census starts empty.")));
            }
            return false;
        case FileReadFailure::NotRegular:
            set_status(std::string("census file ignored: it is ") + file_kind_phrase(r.kind));
            ereport(WARNING, (errmsg("pg_tls_audit: census file \"%s\" ignored: it is %s", census::kCensusFile,
                                     file_kind_phrase(r.kind)),
                              errdetail("The census starts empty."),
                              errhint("Remove it; the census file is written on a clean shutdown.")));
            return false;
        case FileReadFailure::TooLarge:
        case FileReadFailure::Grew:
            set_status("census file ignored: too large");
            ereport(WARNING, (errmsg("pg_tls_audit: census file \"%s\" ignored: too large", census::kCensusFile)));
            return false;
        default:
            set_status(std::string("could not read census file: ") + r.error.message);
            ereport(WARNING, (errmsg("pg_tls_audit: could not read census file: %s", r.error.message.c_str())));
            return false;
    }
}

}  // namespace

// At startup, in the postmaster, when the shared memory is new.
void load_file() {
    try {
        std::string bytes;
        if (!read_file(bytes)) return;
        auto parsed = deserialize_census(bytes, std::uint64_t(std::max(4 * census_max, 100000)));
        if (!parsed.ok()) {
            set_status("census file ignored: " + parsed.error().message);
            ereport(LOG, (errmsg("pg_tls_audit: census file \"%s\" ignored: %s", census::kCensusFile,
                                 parsed.error().message.c_str()),
                          errdetail("The census starts empty.")));
            return;
        }
        CensusSnapshot &s = parsed.value();
        // Keep the newest census_max entries when the file holds more.
        std::int64_t dropped = 0;
        if (s.records.size() > static_cast<std::size_t>(census_max)) {
            std::sort(s.records.begin(), s.records.end(),
                      [](const CensusRecord &a, const CensusRecord &b) { return a.last_seen > b.last_seen; });
            dropped = static_cast<std::int64_t>(s.records.size()) - census_max;
            s.records.resize(census_max);
        }
        const CensusRecord *records = s.records.data();
        const std::size_t count = s.records.size();
        call([&] {
            for (std::size_t i = 0; i < count; ++i)
                add_locked(records[i].key, records[i].connections, records[i].first_seen, records[i].last_seen);
        });
        shared->evicted = s.evicted + dropped;
        if (s.since_reset != 0) shared->since_reset = s.since_reset;
        shared->file_loaded = true;
        shared->loaded_entries = static_cast<int64>(count);
        set_status("loaded " + std::to_string(count) + " entries");
    } catch (...) {
        log_caught("census file not loaded");
    }
}

namespace {

// The last-modification time of `path` as a TimestampTz; 0 when absent.
TimestampTz file_mtime(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    const pg_time_t seconds = static_cast<pg_time_t>(st.st_mtim.tv_sec);
    return time_t_to_timestamptz(seconds) + st.st_mtim.tv_nsec / 1000;
}

}  // namespace

// Create (or touch) the marker of a run that has not saved at its shutdown.
void touch_running_marker() {
    if (auto e = write_file_synced(kRunningFile, "")) {
        const std::string message = e->message;
        ereport(WARNING, (errmsg("pg_tls_audit: %s", message.c_str()),
                          errdetail("A crash of this server run will not be reported by tls_audit.census_info().")));
    }
}

// At start, before loading: did the previous run end without saving? Then
// the counts since its last save (the census file's time), or since it
// started (the marker's time) when that is later, were lost.
void detect_lost_counts() {
    const TimestampTz marker = file_mtime(kRunningFile);
    if (marker == 0) return;
    const TimestampTz saved = file_mtime(census::kCensusFile);
    shared->lost_since = std::max(marker, saved);
    ereport(WARNING, (errmsg("pg_tls_audit: the previous server run ended without saving the connection census"),
                      errdetail("Connections counted since %s were lost (a crash, an immediate shutdown or a failed "
                                "save).",
                                timestamptz_to_str(shared->lost_since)),
                      errhint("Lower tls_audit.census_save_interval to lose less.")));
}

void record_save(TimestampTz now, const std::string &error) {
    SpinLockAcquire(&shared->save_mutex);
    if (error.empty()) {
        shared->last_save_at = now;
        shared->last_save_error[0] = '\0';
    } else {
        shared->last_save_failed_at = now;
        strlcpy(shared->last_save_error, error.c_str(), sizeof shared->last_save_error);
    }
    SpinLockRelease(&shared->save_mutex);
}

namespace {

// The entries, counters and generation to save. Takes the lock unless
// `alone` (the postmaster at shutdown: nobody else is left).
CensusSnapshot copy_for_save(bool alone, std::uint64_t &generation) {
    CensusSnapshot s;
    // Pending tls_rejected events are merged first, which needs the lock exclusively.
    const bool merge = alone || pg_atomic_read_u32(&shared->ring_used) != 0;
    if (!alone) call([&] { LWLockAcquire(shared->lock, merge ? LW_EXCLUSIVE : LW_SHARED); });
    try {
        if (merge) call([] { merge_pending_locked(); });
        drain_hot_keys_locked();
        s.since_reset = shared->since_reset;
        s.evicted = shared->evicted;
        generation = shared->reset_generation;
        s.records.reserve(static_cast<std::size_t>(hash_get_num_entries(table)));
        HASH_SEQ_STATUS seq;
        hash_seq_init(&seq, table);
        Entry *e;
        while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) {
            CensusRecord r;
            if (!entry_key(*e, r.key)) continue;
            SpinLockAcquire(&e->mutex);
            r.connections = e->connections;
            r.first_seen = e->first_seen;
            r.last_seen = e->last_seen;
            SpinLockRelease(&e->mutex);
            s.records.push_back(r);
        }
    } catch (...) {
        if (!alone) release_if_held();
        throw;
    }
    if (!alone) call([] { LWLockRelease(shared->lock); });
    return s;
}

}  // namespace

// One save; "" or the reason it failed. `alone`: see copy_for_save.
std::string save_census(bool alone) {
    std::uint64_t generation = 0;
    const CensusSnapshot s = copy_for_save(alone, generation);
    const std::string bytes = serialize_census(s);
    if (auto e = write_file_synced(kTmpFile, bytes)) return e->message;
    if (!alone) call([] { LWLockAcquire(shared->lock, LW_SHARED); });
    if (shared->reset_generation != generation) {  // census_reset() ran meanwhile: keep its empty census
        if (!alone) call([] { LWLockRelease(shared->lock); });
        unlink(kTmpFile);
        return "";
    }
    std::optional<Error> renamed;
    try {
        renamed = rename_synced(kTmpFile, census::kCensusFile);
    } catch (...) {
        if (!alone) release_if_held();
        throw;
    }
    if (!alone) call([] { LWLockRelease(shared->lock); });
    return renamed ? renamed->message : "";
}

namespace {

// Whether the server shut down cleanly: its control file says so (a shutdown
// checkpoint or restartpoint was written). An immediate shutdown exits with
// code 0 too, but after killing the children with SIGQUIT: one may have died
// holding a census spinlock, and its control file says "in production".
bool shut_down_cleanly() {
    bool crc_ok = false;
    const ControlFileData *control = call([&] { return get_controlfile(DataDir, &crc_ok); });
    return crc_ok && (control->state == DB_SHUTDOWNED || control->state == DB_SHUTDOWNED_IN_RECOVERY);
}

}  // namespace

// on_shmem_exit in the postmaster: write the census on a clean shutdown and
// remove the marker of an unsaved run. No save after a crash or an immediate
// shutdown (the shared memory may be inconsistent): the marker stays, and the
// next start reports the counts since the last save as lost.
void dump_file(int code, Datum) {
    if (code != 0 || shared == nullptr || table == nullptr) return;
    try {
        if (!shut_down_cleanly()) {
            ereport(LOG, (errmsg("pg_tls_audit: the connection census is not saved: the server did not shut down "
                                 "cleanly")));
            return;
        }
        const std::string error = save_census(true);
        if (!error.empty()) {
            ereport(WARNING, (errmsg("pg_tls_audit: the connection census could not be saved at shutdown: %s",
                                     error.c_str()),
                              errdetail("The counts since the last successful save are lost; the next start "
                                        "reports them in tls_audit.census_info().lost_since.")));
            return;
        }
        unlink(kRunningFile);
    } catch (...) {
        log_caught("census file not written");
    }
}

}  // namespace census_glue

namespace census {

using namespace census_glue;

std::string save() {
    require();
    std::string error;
    try {
        error = save_census(false);
    } catch (const PgError &e) {
        error = e.what();
    } catch (const CoreError &e) {
        error = e.error().message;
    }
    record_save(call([] { return GetCurrentTimestamp(); }), error);
    return error;
}

}  // namespace census

}  // namespace tls_audit::pg
