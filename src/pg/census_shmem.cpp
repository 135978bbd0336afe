// The census's shared memory: the hash and its eviction, the pending ring of
// refused TLS handshakes, and what the rest of the extension may ask of them
// (census_shmem.hpp: require, snapshot, info, reset). Who writes, under which
// lock: census_internal.hpp.
#include "census_shmem.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/hot_path.hpp"
#include "census_internal.hpp"
#include "guard.hpp"
#include "guc_census.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace census_glue {

Shared *shared = nullptr;
HTAB *table = nullptr;
char *text_bytes = nullptr;

Size shmem_size() {
    // Shared itself is in the hot window (request_hot_window).
    Size size = hash_estimate_size(census_max, sizeof(Entry));
    return add_size(size, MAXALIGN(census_text_area_bytes(census_max)));
}

namespace {

// The hash table's functions: the bucket comes from the stored 64-bit hash,
// a match is an equal hash, length and text. The second argument is always
// the Probe passed to hash_search (dynahash calls match(element, key)).
TLS_AUDIT_HOT uint32 hash_key(const void *key, Size) {
    const auto *k = static_cast<const StoredKey *>(key);
    return static_cast<uint32>(k->hash ^ (k->hash >> 32));
}

TLS_AUDIT_HOT int match_key(const void *element, const void *key, Size) {
    const auto *stored = static_cast<const StoredKey *>(element);
    const auto *probe = static_cast<const Probe *>(key);
    if (stored->hash != probe->key.hash || stored->text_length != probe->key.text_length) return 1;
    return memcmp(text_area().text(stored->text_offset), probe->text, stored->text_length) == 0 ? 0 : 1;
}

TLS_AUDIT_HOT Probe probe_of(const KeyText &k, uint32 text_offset) {
    Probe p;
    p.key.hash = k.hash;
    p.key.text_offset = text_offset;
    p.key.text_length = k.length;
    p.key.outcome = k.outcome;
    p.key.unused = 0;
    p.text = k.text;
    return p;
}

std::uint64_t handle(Entry *e) { return static_cast<std::uint64_t>(reinterpret_cast<uintptr_t>(e)); }

// Connections counted in a hot slot reach the slot's entry. The slot's
// owner is alive: its entry is removed only after release().
TLS_AUDIT_HOT void settle(std::uint64_t owner, std::uint32_t count, std::int64_t last_seen) noexcept {
    auto *e = reinterpret_cast<Entry *>(static_cast<uintptr_t>(owner));
    SpinLockAcquire(&e->mutex);
    e->connections += count;
    if (last_seen > e->last_seen) e->last_seen = last_seen;
    SpinLockRelease(&e->mutex);
}

// Remove an entry and free its text. Exclusive lock held.
void remove_locked(Entry *e) {
    HotKeys(shared->hot_keys).release(e->key.hash, handle(e), settle);
    CensusTextArea area = text_area();
    Probe p;
    p.key = e->key;
    p.text = area.text(e->key.text_offset);
    hash_search(table, &p, HASH_REMOVE, nullptr);
    area.release(p.key.text_offset);
}

void compact_locked() {
    text_area().compact([](std::uint64_t owner, std::uint32_t offset) {
        reinterpret_cast<Entry *>(static_cast<uintptr_t>(owner))->key.text_offset = offset;
    });
}

// Room for a new text of `length` bytes: compact the area, and when the live
// texts fill it, evict as for a full table (at most three rounds). False when
// there is none. Exclusive lock held.
bool make_text_room_locked(std::size_t length, bool authenticated) {
    CensusTextArea area = text_area();
    for (int round = 0; !area.fits(length); ++round) {
        if (area.fits_after_compaction(length)) {
            compact_locked();
            break;
        }
        if (round == 3 || evict_locked(!authenticated) == 0) return false;
    }
    return area.fits(length);
}
struct Victim {
    bool authenticated;
    TimestampTz last_seen;
    Entry *entry;
};

}  // namespace

// Remove the least recently seen kEvictPercent of census_max entries (at
// least one), unauthenticated entries first: they are ordered before every
// authenticated one. With `unauthenticated_only`, only unauthenticated
// entries are candidates. Returns the number removed. Exclusive lock held.
long evict_locked(bool unauthenticated_only) {
    const long n = hash_get_num_entries(table);
    if (n <= 0) return 0;
    drain_hot_keys_locked();  // the hot keys' last_seen decides too
    auto *victims = static_cast<Victim *>(palloc(sizeof(Victim) * n));
    long count = 0;
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, table);
    Entry *e;
    while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) {
        const bool auth = census_outcome_authenticated(e->key.outcome);
        if (count < n && !(unauthenticated_only && auth)) victims[count++] = Victim{auth, e->last_seen, e};
    }
    if (count == 0) {
        pfree(victims);
        return 0;
    }
    const long drop = std::min<long>(count, std::max<long>(1, static_cast<long>(census_max) * kEvictPercent / 100));
    std::nth_element(victims, victims + (drop - 1), victims + count, [](const Victim &a, const Victim &b) {
        if (a.authenticated != b.authenticated) return !a.authenticated;
        return a.last_seen < b.last_seen;
    });
    const TimestampTz now = GetCurrentTimestamp();
    for (long i = 0; i < drop; ++i) {
        if (victims[i].authenticated) {
            shared->evicted_authenticated++;
            if (shared->first_authenticated_eviction == 0) shared->first_authenticated_eviction = now;
            shared->last_authenticated_eviction = now;
        } else {
            shared->evicted_unauthenticated++;
            shared->unauthenticated_entries--;
        }
        remove_locked(victims[i].entry);
    }
    shared->evicted += drop;
    pfree(victims);
    return drop;
}

// Add `count` connections seen between `first` and `last` to `key`'s entry,
// creating it when there is room. Exclusive lock held.
//
// Unauthenticated attempts (every outcome but authenticated: the client
// needs no password to cause them) must not push out the clients the census
// is for: they hold at most census_unauthenticated_share(census_max)
// entries and, to make room, evict only each other (least recently seen
// first); when the table is full of authenticated entries a new
// unauthenticated key is dropped (counted in dropped_unauthenticated). An
// authenticated newcomer in a full table evicts the unauthenticated entries
// first, then the least recently seen authenticated ones.
//
// The new key's text must also find room in the text area (make_text_room_locked).
Entry *add_locked(const KeyText &key, int64 count, TimestampTz first, TimestampTz last) {
    Entry *e = find_locked(key);
    if (e == nullptr) {
        const bool auth = census_outcome_authenticated(key.outcome);
        if (auth) {
            if (hash_get_num_entries(table) >= census_max) evict_locked(false);
        } else {
            if (shared->unauthenticated_entries >= census_unauthenticated_share(census_max) ||
                hash_get_num_entries(table) >= census_max)
                evict_locked(true);
            if (hash_get_num_entries(table) >= census_max ||
                shared->unauthenticated_entries >= census_unauthenticated_share(census_max)) {
                shared->dropped_unauthenticated++;
                return nullptr;
            }
        }
        if (!make_text_room_locked(key.length, auth)) {  // texts too long for the area: lost
            if (auth)
                shared->evicted++;
            else
                shared->dropped_unauthenticated++;
            return nullptr;
        }
        CensusTextArea area = text_area();
        bool found = false;
        const Probe p = probe_of(key, 0);
        e = static_cast<Entry *>(hash_search(table, &p, HASH_ENTER_NULL, &found));
        if (e == nullptr) {  // out of shared memory: the event is lost, say so in evicted
            shared->evicted++;
            return nullptr;
        }
        if (!found) {
            // Nothing looks the entry up before its text is in place (exclusive lock).
            e->key.text_offset = area.append(key.text, key.length, static_cast<std::uint64_t>(reinterpret_cast<uintptr_t>(e)));
            SpinLockInit(&e->mutex);
            e->connections = 0;
            e->first_seen = first;
            e->last_seen = last;
            if (!auth) shared->unauthenticated_entries++;
        }
    }
    SpinLockAcquire(&e->mutex);
    e->connections += count;
    if (first < e->first_seen) e->first_seen = first;
    if (last > e->last_seen) e->last_seen = last;
    SpinLockRelease(&e->mutex);
    return e;
}

void drain_hot_keys_locked() { HotKeys(shared->hot_keys).drain(settle); }

TLS_AUDIT_HOT void make_hot_locked(const KeyText &key, Entry *e, TimestampTz now) {
    if (e != nullptr) HotKeys(shared->hot_keys).claim(key.hash, key.text, key.length, handle(e), now, settle);
}

void add_locked(const CensusKey &key, int64 count, TimestampTz first, TimestampTz last) {
    static KeyText text;  // off the hot path (see count_connection): 1 kB not on the stack
    prepare_key(key, text);
    add_locked(text, count, first, last);
}

TLS_AUDIT_HOT void prepare_key(const CensusKey &key, KeyText &out) noexcept {
    out.length = static_cast<std::uint16_t>(encode_census_key(key, out.text));
    out.hash = census_key_text_hash(out.text, out.length, shared->hash_seed);
    out.outcome = key.outcome;
}

TLS_AUDIT_HOT Entry *find_locked(const KeyText &key) {
    const Probe p = probe_of(key, 0);
    return static_cast<Entry *>(hash_search(table, &p, HASH_FIND, nullptr));
}

bool entry_key(const Entry &e, CensusKey &out) noexcept {
    const CensusTextArea area = text_area();
    return decode_census_key(area.text(e.key.text_offset), e.key.text_length, out);
}

// Move the pending tls_rejected events into the hash. Exclusive lock held.
void merge_pending_locked() {
    if (pg_atomic_read_u32(&shared->ring_used) == 0) return;
    static PendingRejection local[kRingSize];
    SpinLockAcquire(&shared->ring_mutex);
    const uint32 n = std::min<uint32>(pg_atomic_read_u32(&shared->ring_used), kRingSize);
    memcpy(local, shared->ring, sizeof(PendingRejection) * n);
    pg_atomic_write_u32(&shared->ring_used, 0);
    SpinLockRelease(&shared->ring_mutex);
    static CensusKey key;
    for (uint32 i = 0; i < n; ++i) {
        CensusKeyFields f;
        f.client_addr = local[i].client_addr;
        f.transport = "tls";
        f.reason = local[i].reason;
        f.outcome = Outcome::TlsRejected;
        make_census_key(key, f);
        add_locked(key, local[i].count, local[i].first_seen, local[i].last_seen);
    }
}

// Log a PostgreSQL error caught by fail-open code at LOG and forget it.
void log_caught(const char *what) noexcept {
    try {
        throw;
    } catch (const PgError &e) {
        ereport(LOG, (errmsg("pg_tls_audit: %s: %s", what, e.what())));
    } catch (...) {
        const Error error = describe_current_exception();
        ereport(LOG, (errmsg("pg_tls_audit: %s: %s", what, error.message.c_str())));
    }
}

void release_if_held() {
    if (shared != nullptr && LWLockHeldByMe(shared->lock)) LWLockRelease(shared->lock);
}

// Move one count from `from` to `to` (a startup that failed after it was
// counted as authenticated). Exclusive lock held.
void move_one_locked(const CensusKey &from, const CensusKey &to, TimestampTz now) {
    static KeyText text;
    prepare_key(from, text);
    Entry *e = find_locked(text);
    if (e != nullptr) {
        drain_hot_keys_locked();  // the count to move may still be in a hot slot
        bool remove = false;
        SpinLockAcquire(&e->mutex);
        if (e->connections > 1)
            e->connections--;
        else
            remove = true;
        SpinLockRelease(&e->mutex);
        if (remove) {
            if (!census_outcome_authenticated(e->key.outcome)) shared->unauthenticated_entries--;
            remove_locked(e);
        }
    }
    add_locked(to, 1, now, now);
}

void request_shmem() {
    request_hot_window();
    RequestAddinShmemSpace(shmem_size());
    RequestNamedLWLockTranche(kTranche, 1);
}

void startup_shmem() {
    shared = nullptr;
    table = nullptr;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool first = false;
    auto *s = static_cast<Shared *>(hot_window_part(HotPart::Census, sizeof(Shared), first));
    if (first) {
        memset(static_cast<void *>(s), 0, sizeof *s);
        s->lock = &(GetNamedLWLockTranche(kTranche))->lock;
        s->since_reset = GetCurrentTimestamp();
        SpinLockInit(&s->ring_mutex);
        SpinLockInit(&s->save_mutex);
        s->self_probes.init();
        HotKeys::init(s->hot_keys);
        pg_atomic_init_u32(&s->ring_used, 0);
        if (!pg_strong_random(&s->hash_seed, sizeof s->hash_seed))
            s->hash_seed = static_cast<std::uint64_t>(GetCurrentTimestamp()) ^ static_cast<std::uint64_t>(MyProcPid);
        CensusTextArea::init(s->texts, census_text_area_bytes(census_max));
    }
    bool texts_found = false;
    char *texts = static_cast<char *>(
        ShmemInitStruct("pg_tls_audit census texts", census_text_area_bytes(census_max), &texts_found));
    HASHCTL info;
    memset(&info, 0, sizeof info);
    info.keysize = sizeof(StoredKey);
    info.entrysize = sizeof(Entry);
    info.hash = hash_key;
    info.match = match_key;
    HTAB *h = ShmemInitHash("pg_tls_audit census hash", census_max, census_max, &info,
                            HASH_ELEM | HASH_FUNCTION | HASH_COMPARE);
    LWLockRelease(AddinShmemInitLock);
    shared = s;
    table = h;
    text_bytes = texts;
    if (!IsUnderPostmaster) on_shmem_exit(dump_file, 0);
    if (first) {
        detect_lost_counts();
        load_file();
        touch_running_marker();
    }
}

}  // namespace census_glue

namespace census {

using namespace census_glue;

void require() {
    if (shared == nullptr || table == nullptr)
        throw CoreError(make_error("55000", "pg_tls_audit must be loaded via shared_preload_libraries",
                                   "Add pg_tls_audit to shared_preload_libraries in postgresql.conf and restart "
                                   "the server."));
}

Snapshot snapshot() {
    require();
    return call([] {
        if (pg_atomic_read_u32(&shared->ring_used) != 0) {
            LWLockAcquire(shared->lock, LW_EXCLUSIVE);
            merge_pending_locked();
            LWLockRelease(shared->lock);
        }
        LWLockAcquire(shared->lock, LW_SHARED);
        drain_hot_keys_locked();
        const long n = hash_get_num_entries(table);
        auto *out = static_cast<CensusRecord *>(palloc(sizeof(CensusRecord) * std::max<long>(n, 1)));
        std::size_t count = 0;
        HASH_SEQ_STATUS seq;
        hash_seq_init(&seq, table);
        Entry *e;
        while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) {
            if (count >= static_cast<std::size_t>(n)) {
                hash_seq_term(&seq);
                break;
            }
            CensusRecord &r = out[count];
            if (!entry_key(*e, r.key)) continue;
            count++;
            SpinLockAcquire(&e->mutex);
            r.connections = e->connections;
            r.first_seen = e->first_seen;
            r.last_seen = e->last_seen;
            SpinLockRelease(&e->mutex);
        }
        LWLockRelease(shared->lock);
        Snapshot s;
        s.records = out;
        s.count = count;
        return s;
    });
}

Info info() {
    require();
    return call([] {
        Info i;
        LWLockAcquire(shared->lock, LW_SHARED);
        i.entries = hash_get_num_entries(table);
        i.max_entries = census_max;
        i.evicted = shared->evicted;
        i.evicted_authenticated = shared->evicted_authenticated;
        i.evicted_unauthenticated = shared->evicted_unauthenticated;
        i.dropped_unauthenticated = shared->dropped_unauthenticated;
        i.first_authenticated_eviction = shared->first_authenticated_eviction;
        i.last_authenticated_eviction = shared->last_authenticated_eviction;
        i.since_reset = shared->since_reset;
        i.file_loaded = shared->file_loaded;
        i.loaded_entries = shared->loaded_entries;
        strlcpy(i.file_status, shared->file_status, sizeof i.file_status);
        i.lost_since = shared->lost_since;
        i.self_probes_skipped = static_cast<std::int64_t>(shared->self_probes.skipped());
        LWLockRelease(shared->lock);
        SpinLockAcquire(&shared->save_mutex);
        i.last_save_at = shared->last_save_at;
        i.last_save_failed_at = shared->last_save_failed_at;
        strlcpy(i.last_save_error, shared->last_save_error, sizeof i.last_save_error);
        SpinLockRelease(&shared->save_mutex);
        SpinLockAcquire(&shared->ring_mutex);
        i.rejections_dropped = shared->rejections_dropped;
        // Pending events are not entries yet; count them as such already.
        i.entries += pg_atomic_read_u32(&shared->ring_used);
        SpinLockRelease(&shared->ring_mutex);
        return i;
    });
}

std::uint64_t reset_generation() {
    require();
    return call([] {
        LWLockAcquire(shared->lock, LW_SHARED);
        const std::uint64_t g = shared->reset_generation;
        LWLockRelease(shared->lock);
        return g;
    });
}

bool count_sampled(const std::vector<CensusKey> &keys, std::int64_t now, std::uint64_t generation) {
    require();
    return call([&] {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        const bool current = shared->reset_generation == generation;
        if (current) {
            merge_pending_locked();
            for (const CensusKey &k : keys) add_locked(k, 1, now, now);
        }
        LWLockRelease(shared->lock);
        return current;
    });
}

void reset() {
    require();
    call([] {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        HASH_SEQ_STATUS seq;
        hash_seq_init(&seq, table);
        Entry *e;
        while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) remove_locked(e);
        text_area().clear();
        SpinLockAcquire(&shared->ring_mutex);
        pg_atomic_write_u32(&shared->ring_used, 0);
        shared->rejections_dropped = 0;
        SpinLockRelease(&shared->ring_mutex);
        shared->evicted = 0;
        shared->evicted_authenticated = 0;
        shared->evicted_unauthenticated = 0;
        shared->dropped_unauthenticated = 0;
        shared->first_authenticated_eviction = 0;
        shared->last_authenticated_eviction = 0;
        shared->unauthenticated_entries = 0;
        shared->since_reset = GetCurrentTimestamp();
        shared->reset_generation++;
        shared->self_probes.reset_counters();
        shared->lost_since = 0;
        // Under the lock: a save renames its file only under the shared lock.
        const int rc = unlink(census::kCensusFile);
        const int saved_errno = errno;
        LWLockRelease(shared->lock);
        touch_running_marker();  // counts lost by a later crash are those since now at most
        errno = saved_errno;
        if (rc != 0 && saved_errno != ENOENT)
            ereport(WARNING, (errcode_for_file_access(),
                              errmsg("could not remove census file \"%s\": %m", census::kCensusFile)));
    });
}

}  // namespace census

}  // namespace tls_audit::pg
