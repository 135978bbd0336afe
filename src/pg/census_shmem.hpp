// The connection census in shared memory: what the SQL functions and the
// census save worker may ask of it (census_shmem.cpp, census_persist.cpp).
//
// Every function here is for SQL-callable code running inside pg::guarded;
// they throw CoreError / PgError, never longjmp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "census/census_file.hpp"

namespace tls_audit::pg::census {

// Where the census is persisted, relative to the data directory.
inline constexpr const char *kCensusFile = "pg_stat/pg_tls_audit_census";

struct Info {
    std::int64_t entries = 0;
    int max_entries = 0;
    std::int64_t evicted = 0;
    std::int64_t evicted_authenticated = 0;    // authenticated entries evicted since the reset (or start)
    std::int64_t evicted_unauthenticated = 0;  // unauthenticated entries evicted likewise
    std::int64_t dropped_unauthenticated = 0;  // new unauthenticated keys not recorded: no room for them
    std::int64_t first_authenticated_eviction = 0;  // TimestampTz; 0 when none
    std::int64_t last_authenticated_eviction = 0;   // TimestampTz; 0 when none
    std::int64_t rejections_dropped = 0;  // tls_rejected events lost because the pending ring was full
    std::int64_t since_reset = 0;         // TimestampTz
    bool file_loaded = false;
    std::int64_t loaded_entries = 0;
    char file_status[256] = "";  // what happened to the census file at start
    // Saving; TimestampTz values, 0 when none.
    std::int64_t last_save_at = 0;         // last successful save since the start
    std::int64_t last_save_failed_at = 0;  // last failed save
    char last_save_error[256] = "";        // why the last save failed; "" when it did not
    std::int64_t lost_since = 0;  // the previous run ended unsaved: counts since then were lost
    std::int64_t self_probes_skipped = 0;  // this server's own probe connections not counted
};

// Throw the "must be loaded via shared_preload_libraries" error (55000)
// unless the census shared memory is attached.
void require();

// A copy of every entry (palloc'd in the current memory context; released
// with it). Merges pending tls_rejected events first.
struct Snapshot {
    const CensusRecord *records = nullptr;
    std::size_t count = 0;
};
Snapshot snapshot();

Info info();

// Save the census file now (tmp + fsync + rename + fsync of the directory),
// from a process with a PGPROC (the census save worker). Returns "" or the
// reason it failed; either way the outcome is what census_info() shows.
// Never throws for a failed save.
std::string save();

// Which reset the census is in: changes with every census_reset().
std::uint64_t reset_generation();

// Count each of `keys` once at `now` (a TimestampTz), under one exclusive
// lock: the pooler clients one sample found new (bgw_pooler_sample.cpp).
// Nothing is counted, and false returned, when the census was reset since
// `generation` (the sampler then forgets what it counted and samples anew).
bool count_sampled(const std::vector<CensusKey> &keys, std::int64_t now, std::uint64_t generation);

// Empty the census, zero the eviction count, start a new since_reset and
// remove the census file.
void reset();

}  // namespace tls_audit::pg::census
