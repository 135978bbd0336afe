// The connection census: a bounded dynahash in shared memory counting
// connection attempts per (user, database, address, application, transport,
// protocol, cipher, client subject, outcome), persisted across clean
// restarts. Modelled on contrib/pg_stat_statements.
//
// Writers:
//  * ClientAuthentication_hook (every connection, after the TLS handshake
//    and the client certificate checks): shared LWLock + per-entry spinlock
//    to bump an existing entry; exclusive LWLock to insert (and evict).
//  * emit_log_hook, for PostgreSQL's "could not accept SSL connection"
//    COMMERROR: the backend has no PGPROC yet, so it must not wait on an
//    LWLock. It records into a small spinlock-protected pending ring that
//    the next exclusive-lock holder (a connection, a reader, the shutdown
//    dump) merges into the hash.
//  * A connection without application_name in its startup packet is
//    counted later, at the end of a transaction or at exit, under the name
//    the session set (census_attribution.hpp, "deferred count" below).
// Both hooks are fail-open: nothing here can refuse or break a connection.
//
// Persistence (issue #22): the postmaster loads the census file at start and
// saves it at a clean shutdown; the census save worker (bgw_census_save.cpp)
// saves it every tls_audit.census_save_interval, so that a crash loses at
// most one interval. Every save writes a temporary file, fsyncs it, renames
// it over the census file and fsyncs the directory; a failure is a WARNING
// and stays in census_info() (last_save_error) until a save succeeds. A
// marker file, created at start and removed by a successful shutdown save,
// tells the next start that the previous run ended without one (crash,
// immediate shutdown, failed save): census_info().lost_since then says since
// when the counts were lost.
#include "hook_census.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bgw_census_save.hpp"
#include "census/census_attribution.hpp"
#include "census/census_key.hpp"
#include "probe/probe_io.hpp"
#include "probe/self_probe.hpp"
#include "guc_census_save.hpp"
#include "sessions/session.hpp"
#include "guard.hpp"
#include "hook_auth.hpp"
#include "hook_role_floor.hpp"
#include "base/hot_path.hpp"
#include "module.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

constexpr const char *kTranche = "pg_tls_audit_census";
constexpr const char *kTmpFile = "pg_stat/pg_tls_audit_census.tmp";
// Exists while a server run has not saved the census at its shutdown.
constexpr const char *kRunningFile = "pg_stat/pg_tls_audit_census.running";
// The untranslated format strings of be-secure-openssl.c all start so.
constexpr char kRejectPrefix[] = "could not accept SSL connection";
constexpr int kRingSize = 64;
constexpr int kEvictPercent = 5;

struct Entry {
    CensusKey key;  // hash key: must be first
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
    // Changed under the exclusive lock (or by the postmaster alone).
    int64 evicted;  // every entry removed to make room (or lost for lack of memory)
    // Issue #22: who was evicted, and unauthenticated attempts turned away.
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
    // Saving (issue #22). reset_generation changes under the exclusive lock
    // (census_reset); a save renames its file only under the shared lock and
    // if the generation it copied is still current, so a reset is never
    // undone by a save that copied the entries before it.
    std::uint64_t reset_generation;
    TimestampTz lost_since;  // 0: the previous run saved at its shutdown (or there was none)
    slock_t save_mutex;      // protects the three below
    TimestampTz last_save_at;  // last successful save (0: none since the start)
    TimestampTz last_save_failed_at;
    char last_save_error[256];  // "" when the last save succeeded
    // The server's own probe connections (issue #22 item 7): atomics only.
    SelfProbeTable self_probes;
    // Pending tls_rejected events, under ring_mutex.
    slock_t ring_mutex;
    pg_atomic_uint32 ring_used;  // also read without the spinlock, as a hint
    int64 rejections_dropped;
    PendingRejection ring[kRingSize];
};

Shared *shared = nullptr;
HTAB *table = nullptr;
int census_max = 5000;


Size shmem_size() {
    return add_size(MAXALIGN(sizeof(Shared)), hash_estimate_size(census_max, sizeof(Entry)));
}

// The client's address as text, numeric (never a DNS lookup); "" when unknown.
TLS_AUDIT_HOT void client_address(const Port *port, char *out, std::size_t size) {
    out[0] = '\0';
    if (port == nullptr || port->raddr.addr.ss_family == AF_UNIX) return;
    // The backend already formatted it numerically, unless log_hostname made
    // it a host name (getnameinfo costs ~10 us even for numeric output).
    if (!log_hostname && port->remote_host != nullptr) {
        strlcpy(out, port->remote_host, size);
        return;
    }
    if (pg_getnameinfo_all(&port->raddr.addr, port->raddr.salen, out, static_cast<int>(size), nullptr, 0,
                           NI_NUMERICHOST) != 0)
        out[0] = '\0';
}

// ---------------------------------------------------------------------------
// The hash (callers hold the LWLock as stated, or are the postmaster alone)
// ---------------------------------------------------------------------------

struct Victim {
    bool authenticated;
    TimestampTz last_seen;
    Entry *entry;
};

// Remove the least recently seen kEvictPercent of census_max entries (at
// least one), unauthenticated entries first: they are ordered before every
// authenticated one. With `unauthenticated_only`, only unauthenticated
// entries are candidates. Returns the number removed. Exclusive lock held.
long evict_locked(bool unauthenticated_only) {
    const long n = hash_get_num_entries(table);
    if (n <= 0) return 0;
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
        hash_search(table, &victims[i].entry->key, HASH_REMOVE, nullptr);
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
void add_locked(const CensusKey &key, int64 count, TimestampTz first, TimestampTz last) {
    auto *e = static_cast<Entry *>(hash_search(table, &key, HASH_FIND, nullptr));
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
                return;
            }
        }
        bool found = false;
        e = static_cast<Entry *>(hash_search(table, &key, HASH_ENTER_NULL, &found));
        if (e == nullptr) {  // out of shared memory: the event is lost, say so in evicted
            shared->evicted++;
            return;
        }
        if (!found) {
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

// ---------------------------------------------------------------------------
// Hooks
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Self-probes (issue #22 item 7): a backend probing this server registers
// each probe connection to the server's port (connect hook, any thread); the
// census skips a connection from this host whose (client port, server port)
// was registered, and counts it in census_info().self_probes_skipped.
// ---------------------------------------------------------------------------

std::uint32_t now_seconds() { return static_cast<std::uint32_t>(time(nullptr)); }

// The port of an IPv4/IPv6 address; -1 for anything else.
int inet_port(const sockaddr *a) {
    if (a->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in *>(a)->sin_port);
    if (a->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6 *>(a)->sin6_port);
    return -1;
}

// Same family and IP address (ports aside).
bool same_ip(const sockaddr *a, const sockaddr *b) {
    if (a->sa_family != b->sa_family) return false;
    if (a->sa_family == AF_INET)
        return memcmp(&reinterpret_cast<const sockaddr_in *>(a)->sin_addr,
                      &reinterpret_cast<const sockaddr_in *>(b)->sin_addr, sizeof(in_addr)) == 0;
    if (a->sa_family == AF_INET6)
        return memcmp(&reinterpret_cast<const sockaddr_in6 *>(a)->sin6_addr,
                      &reinterpret_cast<const sockaddr_in6 *>(b)->sin6_addr, sizeof(in6_addr)) == 0;
    return false;
}

// probe_io's connect hook (any thread of a probing backend; no PostgreSQL
// call). Only connections to this server's port from an address of this
// host to itself can be this server's: the others are not registered.
void mark_self_probe(int fd, const sockaddr *peer, socklen_t) noexcept {
    if (shared == nullptr || peer == nullptr) return;
    const int server_port = inet_port(peer);
    if (server_port != PostPortNumber) return;
    sockaddr_storage local;
    socklen_t len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &len) != 0) return;
    const sockaddr *l = reinterpret_cast<const sockaddr *>(&local);
    if (!same_ip(l, peer)) return;
    const int client_port = inet_port(l);
    if (client_port <= 0) return;
    shared->self_probes.add(static_cast<std::uint16_t>(client_port), static_cast<std::uint16_t>(server_port),
                            now_seconds());
}

// Whether `port` is one of this server's own probe connections (consumed:
// true once per connection).
TLS_AUDIT_HOT bool own_probe(const Port *port) {
    if (port == nullptr) return false;
    const sockaddr *remote = reinterpret_cast<const sockaddr *>(&port->raddr.addr);
    const sockaddr *local = reinterpret_cast<const sockaddr *>(&port->laddr.addr);
    if (!same_ip(remote, local)) return false;
    const int client_port = inet_port(remote), server_port = inet_port(local);
    if (client_port <= 0 || server_port <= 0) return false;
    return shared->self_probes.consume(static_cast<std::uint16_t>(client_port),
                                       static_cast<std::uint16_t>(server_port), now_seconds());
}

TLS_AUDIT_HOT void fill_key(Port *port, int status, CensusKey &key) {
    char addr[kCensusAddrLen];
    client_address(port, addr, sizeof addr);
    CensusKeyFields f;
    f.usename = port->user_name;
    f.datname = port->database_name;
    f.application_name = port->application_name;
    f.client_addr = addr;
    f.outcome = status != STATUS_OK            ? Outcome::AuthFailed
                : role_floor_violation(port, status) ? Outcome::PolicyViolation  // #17: below its role's floor
                                                   : Outcome::Authenticated;
    const int family = port->raddr.addr.ss_family;
    TransportFacts t;
    t.unix_socket = family == AF_UNIX;
    t.inet = family == AF_INET || family == AF_INET6;
    t.tls = port->ssl_in_use && port->ssl != nullptr;
    t.gss_encrypted = compat::gss_encrypted(port);
    f.transport = transport_name(t);
    if (!t.unix_socket && t.tls) {
        SSL *ssl = static_cast<SSL *>(port->ssl);
        f.protocol = SSL_get_version(ssl);
        f.cipher = SSL_get_cipher_name(ssl);
        f.client_subject = port->peer_dn;
        f.alpn = census_alpn(alpn_selected(ssl));
    }
    const SessionAuth auth = session_auth(port, status);
    f.auth_method = auth.method;
    f.hba_line = auth.hba_line;
    f.client_cert_verified = census_flag(auth.client_cert_verified);
    if (auth.tls) f.extended_master_secret = census_flag(auth.extended_master_secret);
    make_census_key(key, f);
}

TLS_AUDIT_HOT void count_connection(const CensusKey &key, TimestampTz now) {
    LWLockAcquire(shared->lock, LW_SHARED);
    bool done = false;
    if (pg_atomic_read_u32(&shared->ring_used) == 0) {
        auto *e = static_cast<Entry *>(hash_search(table, &key, HASH_FIND, nullptr));
        if (e != nullptr) {
            SpinLockAcquire(&e->mutex);
            e->connections++;
            if (now > e->last_seen) e->last_seen = now;
            SpinLockRelease(&e->mutex);
            done = true;
        }
    }
    LWLockRelease(shared->lock);
    if (done) return;
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    merge_pending_locked();
    add_locked(key, 1, now, now);
    LWLockRelease(shared->lock);
}

// ---------------------------------------------------------------------------
// startup_failed: ClientAuthentication_hook runs before InitPostgres checks
// that the role and the database exist (and the connection limits), so a
// connection counted as authenticated may still be refused with a FATAL.
// The backend remembers its authenticated key (a plain copy, no allocation)
// and, at exit, if it never reached normal processing (PostgresMain sets
// NormalProcessing only after InitPostgres succeeded, for walsenders too),
// moves that one count to the same key with outcome startup_failed and the
// FATAL's message as reason (captured by emit_log below).
// ---------------------------------------------------------------------------

CensusKey startup_key;           // the key counted as authenticated (or owed, see deferral)
bool startup_pending = false;    // startup_key is set and not yet moved
// Deferred count (issue #24): the session authenticated without a name in
// its startup packet; startup_key (application_name empty) is owed, not yet
// counted. Backend-local only: nothing shared is touched until it is made.
CensusDeferral deferral;
bool startup_exit_registered = false;
char startup_reason[kCensusReasonLen];  // the FATAL that ended the startup

// Move one count from `from` to `to`. Exclusive lock held.
void move_one_locked(const CensusKey &from, const CensusKey &to, TimestampTz now) {
    auto *e = static_cast<Entry *>(hash_search(table, &from, HASH_FIND, nullptr));
    if (e != nullptr) {
        bool remove = false;
        SpinLockAcquire(&e->mutex);
        if (e->connections > 1)
            e->connections--;
        else
            remove = true;
        SpinLockRelease(&e->mutex);
        if (remove) hash_search(table, &from, HASH_REMOVE, nullptr);
    }
    add_locked(to, 1, now, now);
}

void count_deferred(const char *context_what);

void startup_exit(int, Datum) {
    if (deferral.pending()) {
        // Before ShutdownPostgres (InitPostgres registered it before the
        // authentication, and these callbacks run in reverse order): a
        // transaction left open is not rolled back yet, its SET counts.
        if (deferral.exit() && shared != nullptr && table != nullptr) count_deferred("session not counted in the census at exit");
        return;
    }
    if (!startup_pending || shared == nullptr || table == nullptr) return;
    startup_pending = false;
    if (IsNormalProcessingMode()) return;
    static CensusKey failed;
    memcpy(&failed, &startup_key, sizeof failed);
    failed.outcome = static_cast<std::uint8_t>(Outcome::StartupFailed);
    // Like every unauthenticated key: no application name (the client
    // chooses it freely), so failed startups share their eviction budget.
    memset(failed.application_name, 0, sizeof failed.application_name);
    copy_census_field(failed.reason, sizeof failed.reason, startup_reason);
    const TimestampTz now = GetCurrentTimestamp();
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        merge_pending_locked();
        move_one_locked(startup_key, failed, now);
        LWLockRelease(shared->lock);
    }
    PG_CATCH();
    {
        release_if_held();
        log_caught_error(context, "failed startup not counted in the census");
    }
    PG_END_TRY();
}

// Make the owed count: under the session's application_name now, or as
// startup_failed when the session never started (the FATAL's reason).
void count_deferred(const char *what) {
    static CensusKey key;
    memcpy(&key, &startup_key, sizeof key);
    if (!IsNormalProcessingMode()) {
        key.outcome = static_cast<std::uint8_t>(Outcome::StartupFailed);
        copy_census_field(key.reason, sizeof key.reason, startup_reason);
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

// Every transaction event of every backend (module.cpp's XactCallback):
// returns at once unless this session's count is owed. InitPostgres's own
// transactions end before normal processing and are not the client's.
TLS_AUDIT_HOT void xact_event(XactEvent event) {
    if (!deferral.pending() || shared == nullptr || table == nullptr || !IsNormalProcessingMode()) return;
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
    if (deferral.transaction_end(committed, FirstSnapshotSet, census_name_set(application_name)))
        count_deferred("session not counted in the census");
}

// ClientAuthentication_hook: fail-open. STATUS_EOF (the client hung up
// during authentication, as psql does before prompting for a password) is
// not a connection attempt worth counting.
TLS_AUDIT_HOT void client_auth_hook(Port *port, int status) {
    if (shared == nullptr || table == nullptr || port == nullptr || status == STATUS_EOF) return;
    if (own_probe(port)) return;
    // On the stack (1 kB): the handshake has already used these stack pages,
    // while a static buffer would cost a fresh page in every new backend.
    // Plain data only from here on, so a PostgreSQL error can unwind it.
    CensusKey key;
    fill_key(port, status, key);
    // No name in the startup packet: the count is owed, made later
    // (xact_event or startup_exit) under the name the session sets.
    // A session refused for its role's floor (#17) never starts: counted now,
    // as policy_violation, never owed and never startup_failed.
    const bool refused = status == STATUS_OK && role_floor_refuses(port, status);
    const bool deferred = !refused && census_timing(status == STATUS_OK, am_walsender, port->application_name) ==
                                          CensusTiming::Deferred;
    const TimestampTz now = GetCurrentTimestamp();
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        if (!deferred) count_connection(key, now);
        if (status == STATUS_OK && !refused) {
            memcpy(&startup_key, &key, sizeof startup_key);
            startup_pending = !deferred;
            if (deferred) deferral.start();
            if (!startup_exit_registered) {
                before_shmem_exit(startup_exit, 0);
                startup_exit_registered = true;
            }
        }
    }
    PG_CATCH();
    {
        release_if_held();
        log_caught_error(context, "connection not counted in the census");
    }
    PG_END_TRY();
}

// emit_log_hook: a refused TLS handshake. Only a spinlock: this backend
// has no PGPROC yet and must not wait on an LWLock. Cheap for every other
// message: one pointer test and one byte compare before the strncmp.
void emit_log(ErrorData *edata) {
    if (shared == nullptr || edata == nullptr) return;
    // The FATAL that ends an authenticated startup (see startup_exit).
    if (edata->elevel == FATAL && (startup_pending || deferral.pending()) && !IsNormalProcessingMode() &&
        MyProcPort != nullptr) {
        copy_census_field(startup_reason, sizeof startup_reason, edata->message);
        return;
    }
    const char *id = edata->message_id;
    if (id == nullptr || id[0] != 'c' || strncmp(id, kRejectPrefix, sizeof kRejectPrefix - 1) != 0) return;
    if (MyProcPort == nullptr) return;
    if (own_probe(MyProcPort)) return;

    char addr[kCensusAddrLen];
    client_address(MyProcPort, addr, sizeof addr);
    char reason[kCensusReasonLen];
    rejection_reason_from_message(edata->message, reason, sizeof reason);
    const TimestampTz now = GetCurrentTimestamp();

    SpinLockAcquire(&shared->ring_mutex);
    const uint32 used = pg_atomic_read_u32(&shared->ring_used);
    bool merged = false;
    for (uint32 i = 0; i < used && !merged; ++i) {
        PendingRejection &p = shared->ring[i];
        if (strcmp(p.client_addr, addr) == 0 && strcmp(p.reason, reason) == 0) {
            p.count++;
            p.last_seen = now;
            merged = true;
        }
    }
    if (!merged) {
        if (used < static_cast<uint32>(kRingSize)) {
            PendingRejection &p = shared->ring[used];
            memcpy(p.client_addr, addr, sizeof p.client_addr);
            memcpy(p.reason, reason, sizeof p.reason);
            p.count = 1;
            p.first_seen = now;
            p.last_seen = now;
            pg_atomic_write_u32(&shared->ring_used, used + 1);
        } else {
            shared->rejections_dropped++;
        }
    }
    SpinLockRelease(&shared->ring_mutex);
}

// ---------------------------------------------------------------------------
// Persistence
// ---------------------------------------------------------------------------

void set_status(const std::string &status) { strlcpy(shared->file_status, status.c_str(), sizeof shared->file_status); }

// What a census file path holds when it is not a regular file.
const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

// Read the whole census file; false (and a status) when it cannot be read.
// Runs in the postmaster before it listens: it must never block, so the file
// is opened without blocking (a FIFO would wait for a writer forever) and
// must be a regular file (following a symlink, so a link to /dev/zero is
// "a character device", not an endless read).
bool read_file(std::string &bytes) {
    int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY;
    flags |= PG_BINARY;  // 0 except on Windows
    const int fd = open(census::kCensusFile, flags, 0);
    if (fd < 0) {
        const int saved_errno = errno;
        if (saved_errno == ENOENT) {
            set_status("no census file");
        } else {
            set_status(std::string("could not open census file: ") + strerror(saved_errno));
            ereport(WARNING, (errmsg("pg_tls_audit: could not open census file \"%s\": %s", census::kCensusFile,
                                     strerror(saved_errno)),
                              errdetail("The census starts empty.")));
        }
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        const int saved_errno = errno;
        close(fd);
        set_status(std::string("could not stat census file: ") + strerror(saved_errno));
        ereport(WARNING, (errmsg("pg_tls_audit: could not stat census file \"%s\": %s", census::kCensusFile,
                                 strerror(saved_errno))));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        set_status(std::string("census file ignored: it is ") + file_kind(st.st_mode));
        ereport(WARNING, (errmsg("pg_tls_audit: census file \"%s\" ignored: it is %s", census::kCensusFile,
                                 file_kind(st.st_mode)),
                          errdetail("The census starts empty."),
                          errhint("Remove it; the census file is written on a clean shutdown.")));
        return false;
    }
    const std::uint64_t limit = kCensusFileHeaderSize + 4 +
                                std::uint64_t(std::max(4 * census_max, 100000)) * kCensusRecordSize;
    if (static_cast<std::uint64_t>(st.st_size) > limit) {
        close(fd);
        set_status("census file ignored: too large");
        ereport(WARNING, (errmsg("pg_tls_audit: census file \"%s\" ignored: too large", census::kCensusFile)));
        return false;
    }
    bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    int read_errno = 0;
    while (done < bytes.size()) {
        const ssize_t r = read(fd, &bytes[done], bytes.size() - done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) read_errno = errno;
        if (r <= 0) break;
        done += static_cast<std::size_t>(r);
    }
    close(fd);
    if (read_errno != 0) {
        set_status(std::string("could not read census file: ") + strerror(read_errno));
        ereport(WARNING, (errmsg("pg_tls_audit: could not read census file \"%s\": %s", census::kCensusFile,
                                 strerror(read_errno))));
        return false;
    }
    bytes.resize(done);
    return true;
}

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

// The last-modification time of `path` as a TimestampTz; 0 when absent.
TimestampTz file_mtime(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    const pg_time_t seconds = static_cast<pg_time_t>(st.st_mtim.tv_sec);
    return time_t_to_timestamptz(seconds) + st.st_mtim.tv_nsec / 1000;
}

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

// The entries, counters and generation to save. Takes the lock unless
// `alone` (the postmaster at shutdown: nobody else is left).
CensusSnapshot copy_for_save(bool alone, std::uint64_t &generation) {
    CensusSnapshot s;
    // Pending tls_rejected events are merged first, which needs the lock exclusively.
    const bool merge = alone || pg_atomic_read_u32(&shared->ring_used) != 0;
    if (!alone) call([&] { LWLockAcquire(shared->lock, merge ? LW_EXCLUSIVE : LW_SHARED); });
    try {
        if (merge) call([] { merge_pending_locked(); });
        s.since_reset = shared->since_reset;
        s.evicted = shared->evicted;
        generation = shared->reset_generation;
        s.records.reserve(static_cast<std::size_t>(hash_get_num_entries(table)));
        HASH_SEQ_STATUS seq;
        hash_seq_init(&seq, table);
        Entry *e;
        while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr) {
            CensusRecord r;
            memcpy(&r.key, &e->key, sizeof r.key);
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

// Whether the server shut down cleanly: its control file says so (a shutdown
// checkpoint or restartpoint was written). An immediate shutdown exits with
// code 0 too, but after killing the children with SIGQUIT: one may have died
// holding a census spinlock, and its control file says "in production".
bool shut_down_cleanly() {
    bool crc_ok = false;
    const ControlFileData *control = call([&] { return get_controlfile(DataDir, &crc_ok); });
    return crc_ok && (control->state == DB_SHUTDOWNED || control->state == DB_SHUTDOWNED_IN_RECOVERY);
}

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

// ---------------------------------------------------------------------------
// Shared memory
// ---------------------------------------------------------------------------

void request_shmem() {
    RequestAddinShmemSpace(shmem_size());
    RequestNamedLWLockTranche(kTranche, 1);
}

void startup_shmem() {
    shared = nullptr;
    table = nullptr;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    auto *s = static_cast<Shared *>(ShmemInitStruct("pg_tls_audit census", sizeof(Shared), &found));
    if (!found) {
        memset(static_cast<void *>(s), 0, sizeof *s);
        s->lock = &(GetNamedLWLockTranche(kTranche))->lock;
        s->since_reset = GetCurrentTimestamp();
        SpinLockInit(&s->ring_mutex);
        SpinLockInit(&s->save_mutex);
        s->self_probes.init();
        pg_atomic_init_u32(&s->ring_used, 0);
    }
    HASHCTL info;
    memset(&info, 0, sizeof info);
    info.keysize = sizeof(CensusKey);
    info.entrysize = sizeof(Entry);
    HTAB *h = ShmemInitHash("pg_tls_audit census hash", census_max, census_max, &info, HASH_ELEM | HASH_BLOBS);
    LWLockRelease(AddinShmemInitLock);
    shared = s;
    table = h;
    if (!IsUnderPostmaster) on_shmem_exit(dump_file, 0);
    if (!found) {
        detect_lost_counts();
        load_file();
        touch_running_marker();
    }
}

}  // namespace

namespace census {

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
            CensusRecord &r = out[count++];
            memcpy(&r.key, &e->key, sizeof r.key);
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

void reset() {
    require();
    call([] {
        LWLockAcquire(shared->lock, LW_EXCLUSIVE);
        HASH_SEQ_STATUS seq;
        hash_seq_init(&seq, table);
        Entry *e;
        while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr)
            hash_search(table, &e->key, HASH_REMOVE, nullptr);
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

void init_census() {
    // PGC_POSTMASTER variables can only be defined while preloading; without
    // preloading there is no census to size (its functions say so).
    if (!loaded_at_startup()) return;
    DefineCustomIntVariable("tls_audit.census_max",
                            "Maximum number of distinct connection keys kept by the connection census.",
                            "When full, the least recently seen entries are evicted (5% at a time), "
                            "unauthenticated attempts first; those hold at most a quarter of the entries.",
                            &census_max, 5000, 10, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    init_census_save_gucs();
    register_census_save_worker();
    // Process-wide, inherited by every backend: probes mark their connections
    // to this server (see mark_self_probe).
    set_connect_hook(mark_self_probe);
    AreaHooks hooks;
    hooks.area = "census";
    hooks.request_shmem = request_shmem;
    hooks.startup_shmem = startup_shmem;
    hooks.client_auth = client_auth_hook;
    hooks.emit_log = emit_log;
    hooks.xact_event = xact_event;
    register_hooks(hooks);
}

}  // namespace tls_audit::pg
