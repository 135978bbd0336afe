// What the census glue files share (census_shmem.cpp, census_persist.cpp,
// census_self_probe.cpp, hook_census.cpp, hook_census_attribution.cpp); not for
// any other file: the rest of the extension uses census_shmem.hpp.
//
// The census is a bounded dynahash in shared memory counting connection
// attempts per (user, database, address, application, transport, protocol,
// cipher, client subject, outcome), persisted across clean restarts; modelled
// on contrib/pg_stat_statements, which also keeps its hash key small: the
// hash holds a hashed StoredKey and the counters, the full key lives as a
// compact text in a separate shared text area (census_text_area.hpp; the
// design and its memory in doc/census.md). Who writes it, and under which lock:
//  * ClientAuthentication_hook (hook_census.cpp; every connection, after the
//    TLS handshake and the client certificate checks): no lock when the key
//    is one of the hot keys (census_hot_keys.hpp, in Shared); otherwise the
//    shared LWLock + per-entry spinlock to bump an existing entry, the
//    exclusive LWLock to insert (and evict), and the key becomes hot.
//    Readers move the hot keys' counts into their entries first
//    (drain_hot_keys_locked).
//  * emit_log_hook (hook_census.cpp), for PostgreSQL's "could not accept SSL
//    connection" COMMERROR: the backend has no PGPROC yet, so it must not
//    wait on an LWLock. It records into a small spinlock-protected pending
//    ring that the next exclusive-lock holder (a connection, a reader, the
//    shutdown dump) merges into the hash.
//  * A connection without application_name in its startup packet is counted
//    later, at the end of a transaction or at exit, under the name the
//    session set (hook_census_attribution.cpp).
// Every hook is fail-open: nothing here can refuse or break a connection.
#pragma once

#include <cstdint>
#include <string>

#include "census/census_attribution.hpp"
#include "census/census_hot_keys.hpp"
#include "census/census_file.hpp"
#include "census/census_key.hpp"
#include "census/census_key_text.hpp"
#include "census/census_text_area.hpp"
#include "probe/self_probe.hpp"

#include "hot_window.hpp"

#include "postgres.hpp"

namespace tls_audit::pg::census_glue {

constexpr const char *kTranche = "pg_tls_audit_census";
constexpr int kRingSize = 64;
constexpr int kEvictPercent = 5;

// The hash key: the seeded hash of the key text and where the text is (the
// text area, census_text_area.hpp). Two entries are the same key exactly
// when their texts are equal: the hash table's match function compares the
// full text after the hash (match_key in census_shmem.cpp), so a hash
// collision costs a comparison, never a wrong count.
struct StoredKey {
    std::uint64_t hash;
    std::uint32_t text_offset;
    std::uint16_t text_length;
    std::uint8_t outcome;  // Outcome, copied from the text for eviction
    std::uint8_t unused;
};
static_assert(sizeof(StoredKey) == 16, "the hash key stays small");

// What a hash lookup passes: the stored key's fields and the text to compare.
// Only its first sizeof(StoredKey) bytes are copied into a new entry.
struct Probe {
    StoredKey key;
    const char *text;
};

// A key encoded and hashed before the lock is taken.
struct KeyText {
    std::uint64_t hash;
    std::uint16_t length;
    std::uint8_t outcome;
    char text[kCensusKeyTextMax];
};

struct Entry {
    StoredKey key;  // hash key: must be first
    slock_t mutex;  // protects the counters below
    int64 connections;
    TimestampTz first_seen;
    TimestampTz last_seen;
};

struct PendingRejection {
    char client_addr[kCensusAddrLen];
    char reason[kCensusReasonLen];
    int64 count;
    TimestampTz first_seen;
    TimestampTz last_seen;
};

struct Shared {
    LWLock *lock;
    std::uint64_t hash_seed;  // random, per server start (census_key_text_hash)
    HotKeysState hot_keys;    // see census_hot_keys.hpp
    // The key texts; changed under the exclusive lock.
    CensusTextAreaState texts;
    // Changed under the exclusive lock (or by the postmaster alone).
    int64 evicted;  // every entry removed to make room (or lost for lack of memory)
    // Who was evicted, and unauthenticated attempts turned away.
    // Not in the census file: they restart at zero with the server.
    int64 evicted_authenticated;
    int64 evicted_unauthenticated;
    int64 dropped_unauthenticated;
    TimestampTz first_authenticated_eviction;  // 0: none since the reset
    TimestampTz last_authenticated_eviction;
    long unauthenticated_entries;  // entries in the table whose outcome is not authenticated
    TimestampTz since_reset;
    bool file_loaded;
    int64 loaded_entries;
    char file_status[256];
    // Saving: reset_generation changes under the exclusive lock
    // (census_reset); a save renames its file only under the shared lock and
    // if the generation it copied is still current, so a reset is never
    // undone by a save that copied the entries before it.
    std::uint64_t reset_generation;
    TimestampTz lost_since;  // 0: the previous run saved at its shutdown (or there was none)
    slock_t save_mutex;      // protects the three below
    TimestampTz last_save_at;  // last successful save (0: none since the start)
    TimestampTz last_save_failed_at;
    char last_save_error[256];  // "" when the last save succeeded
    // The server's own probe connections (census_self_probe.cpp): atomics only.
    SelfProbeTable self_probes;
    // Pending tls_rejected events, under ring_mutex.
    slock_t ring_mutex;
    pg_atomic_uint32 ring_used;  // also read without the spinlock, as a hint
    int64 rejections_dropped;
    PendingRejection ring[kRingSize];
};
// Shared lives in the hot window (hot_window.hpp): everything a connection
// with a hot key touches (the seed, the self-probe table, the hot keys) is
// in the 64 kB that one page fault maps into a new backend.
static_assert(sizeof(Shared) <= kHotPartCapacity[static_cast<int>(HotPart::Census)], "the census header fits the hot window");

extern Shared *shared;  // null until the shared memory is attached
extern HTAB *table;
extern char *text_bytes;  // the text area's bytes (shared memory)

inline CensusTextArea text_area() { return CensusTextArea(shared->texts, text_bytes); }

// census_shmem.cpp: the hash (callers hold the LWLock as stated, or are the
// postmaster alone) and the shared memory.
Size shmem_size();
long evict_locked(bool unauthenticated_only);
// Encode and hash `key` (no lock, no allocation).
void prepare_key(const CensusKey &key, KeyText &out) noexcept;
// The entry of `key`, or null. Shared or exclusive lock held.
Entry *find_locked(const KeyText &key);
// The full key of an entry (lock held). False when its text does not decode
// (it always does, unless the shared memory was overwritten).
bool entry_key(const Entry &e, CensusKey &out) noexcept;
// Returns the key's entry, or null when the count was dropped.
Entry *add_locked(const KeyText &key, int64 count, TimestampTz first, TimestampTz last);
void add_locked(const CensusKey &key, int64 count, TimestampTz first, TimestampTz last);
void merge_pending_locked();
// Move the hot keys' counts into their entries. Shared or exclusive lock
// held (or the postmaster alone), before reading or changing entries' counts.
void drain_hot_keys_locked();
// Give `e`, just counted, the hot slot of its key if it is free. Lock held.
void make_hot_locked(const KeyText &key, Entry *e, TimestampTz now);
void move_one_locked(const CensusKey &from, const CensusKey &to, TimestampTz now);
void log_caught(const char *what) noexcept;
void release_if_held();
void request_shmem();
void startup_shmem();

// census_persist.cpp: the census file and the marker of an unsaved run.
void load_file();
void touch_running_marker();
void detect_lost_counts();
void record_save(TimestampTz now, const std::string &error);
std::string save_census(bool alone);
void dump_file(int code, Datum);

// census_self_probe.cpp: this server's own probe connections.
void mark_self_probe(int fd, const sockaddr *peer, socklen_t) noexcept;
bool own_probe(const Port *port);

// hook_census.cpp: counting one connection.
void count_connection(const CensusKey &key, TimestampTz now);

// hook_census_attribution.cpp: the count an authenticated startup still owes
// or may have to move to startup_failed, and the hooks' share of it.
// Every connection writes this, so it is one object that never straddles
// two pages (alignas): each page of this library's data that a new backend
// writes costs it a fault (doc/benchmarks.md).
struct alignas(2048) StartupState {
    CensusKey key;                   // the key counted as authenticated (or owed, see deferral)
    bool pending = false;            // key is set and not yet moved
    CensusDeferral deferral;         // the session's count is owed (no name in its startup packet)
    bool exit_registered = false;
    char reason[kCensusReasonLen];   // the FATAL that ended the startup
};
static_assert(sizeof(StartupState) <= 2048, "one page");
extern StartupState startup;
void startup_exit(int, Datum);
void xact_event(XactEvent event);

}  // namespace tls_audit::pg::census_glue
