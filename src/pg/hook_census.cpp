// The connection census's hooks: ClientAuthentication_hook counts every
// connection attempt (fail-open), emit_log_hook records refused TLS
// handshakes into the pending ring (a spinlock only: no PGPROC yet), and
// init_census() registers them with module.cpp. These run for every
// connection: they are marked hot (base/hot_path.hpp, doc/benchmarks.md) and
// allocate nothing. The rest of the census glue: census_internal.hpp.
#include <cstring>

#include "base/hot_path.hpp"
#include "bgw_census_save.hpp"
#include "census_internal.hpp"
#include "fault_stages.hpp"
#include "guard.hpp"
#include "guc_census.hpp"
#include "hook_auth.hpp"
#include "hook_role_floor.hpp"
#include "module.hpp"
#include "probe/probe_io.hpp"
#include "sessions/session.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace census_glue {

namespace {

// The untranslated format strings of be-secure-openssl.c all start so.
constexpr char kRejectPrefix[] = "could not accept SSL connection";

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

TLS_AUDIT_HOT void fill_key(Port *port, int status, ConnectionFacts &facts, CensusKey &key) {
    char addr[kCensusAddrLen];
    GroupNameBuffer group_buffer;
    client_address(port, addr, sizeof addr);
    CensusKeyFields f;
    f.usename = port->user_name;
    f.datname = port->database_name;
    f.application_name = port->application_name;
    f.client_addr = addr;
    TLS_AUDIT_FAULT_MARK("census address");
    f.outcome = status != STATUS_OK            ? Outcome::AuthFailed
                : role_floor_violation(port, status, facts) ? Outcome::PolicyViolation  // below its role's floor
                                                          : Outcome::Authenticated;
    if (f.outcome == Outcome::PolicyViolation && role_floor_refuses(port, status, facts))
        f.reason = kFloorRefusedReason;
    TLS_AUDIT_FAULT_MARK("census floor decision");
    const ConnectionTransport &t = facts.transport();
    f.transport = t.name;
    if (!t.facts.unix_socket && t.facts.tls) {
        SSL *ssl = static_cast<SSL *>(port->ssl);
        f.protocol = t.protocol;
        f.cipher = SSL_get_cipher_name(ssl);
        f.client_subject = port->peer_dn;
        f.alpn = census_alpn(alpn_selected(ssl));
        f.key_exchange_group = census_group(key_exchange_group_view(ssl, group_buffer));
    }
    TLS_AUDIT_FAULT_MARK("census TLS facts");
    const SessionAuth &auth = facts.auth();
    TLS_AUDIT_FAULT_MARK("auth facts");
    f.auth_method = auth.method;
    f.hba_line = auth.hba_line;
    f.client_cert_verified = census_flag(auth.client_cert_verified);
    if (auth.tls) f.extended_master_secret = census_flag(auth.extended_master_secret);
    make_census_key(key, f);
    TLS_AUDIT_FAULT_MARK("census key");
}

}  // namespace

TLS_AUDIT_HOT void count_connection(const CensusKey &key, TimestampTz now) {
    // Encoded and hashed before the lock; on the stack like the key (see client_auth_hook).
    KeyText text;
    prepare_key(key, text);
    TLS_AUDIT_FAULT_MARK("census key text");
    // A key counted recently: no lock, no hash (census_hot_keys.hpp). Unless
    // refused handshakes are pending: the next connection merges them (below),
    // so that they are counted, and evict, without waiting for a reader.
    if (pg_atomic_read_u32(&shared->ring_used) == 0 &&
        HotKeys(shared->hot_keys).count(text.hash, text.text, text.length, now))
        return;
    LWLockAcquire(shared->lock, LW_SHARED);
    bool done = false;
    if (pg_atomic_read_u32(&shared->ring_used) == 0) {
        Entry *e = find_locked(text);
        if (e != nullptr) {
            SpinLockAcquire(&e->mutex);
            e->connections++;
            if (now > e->last_seen) e->last_seen = now;
            SpinLockRelease(&e->mutex);
            make_hot_locked(text, e, now);
            done = true;
        }
    }
    LWLockRelease(shared->lock);
    if (done) return;
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    merge_pending_locked();
    make_hot_locked(text, add_locked(text, 1, now, now), now);
    LWLockRelease(shared->lock);
}

namespace {

// ClientAuthentication_hook: fail-open. STATUS_EOF (the client hung up
// during authentication, as psql does before prompting for a password) is
// not a connection attempt worth counting.
TLS_AUDIT_HOT void client_auth_hook(Port *port, int status, ConnectionFacts &facts) {
    if (shared == nullptr || table == nullptr || port == nullptr || status == STATUS_EOF) return;
    if (own_probe(port)) return;
    TLS_AUDIT_FAULT_MARK("census self-probe test");
    // On the stack (1 kB): the handshake has already used these stack pages,
    // while a static buffer would cost a fresh page in every new backend.
    // Plain data only from here on, so a PostgreSQL error can unwind it.
    CensusKey key;
    fill_key(port, status, facts, key);
    // No name in the startup packet: the count is owed, made later
    // (xact_event or startup_exit) under the name the session sets.
    // A session refused for its role's floor never starts: counted now,
    // as policy_violation, never owed and never startup_failed.
    const bool refused = status == STATUS_OK && role_floor_refuses(port, status, facts);
    const bool deferred = !refused && census_timing(status == STATUS_OK, am_walsender, port->application_name) ==
                                          CensusTiming::Deferred;
    const TimestampTz now = GetCurrentTimestamp();
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        if (!deferred) count_connection(key, now);
        if (status == STATUS_OK && !refused) {
            memcpy(&startup.key, &key, sizeof startup.key);
            startup.pending = !deferred;
            if (deferred) startup.deferral.start();
            if (!startup.exit_registered) {
                before_shmem_exit(startup_exit, 0);
                startup.exit_registered = true;
            }
        }
    }
    PG_CATCH();
    {
        release_if_held();
        log_caught_error(context, "connection not counted in the census");
    }
    PG_END_TRY();
    TLS_AUDIT_FAULT_MARK("census count");
}

// emit_log_hook: a refused TLS handshake. Only a spinlock: this backend
// has no PGPROC yet and must not wait on an LWLock. Cheap for every other
// message: one pointer test and one byte compare before the strncmp.
void emit_log(ErrorData *edata) {
    if (shared == nullptr || edata == nullptr) return;
    // The FATAL that ends an authenticated startup (see startup_exit).
    if (edata->elevel == FATAL && (startup.pending || startup.deferral.pending()) && !IsNormalProcessingMode() &&
        MyProcPort != nullptr) {
        copy_census_field(startup.reason, sizeof startup.reason, edata->message);
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

}  // namespace

}  // namespace census_glue

void init_census() {
    // PGC_POSTMASTER variables can only be defined while preloading; without
    // preloading there is no census to size (its functions say so).
    if (!loaded_at_startup()) return;
    init_census_gucs();
    register_census_save_worker();
    // Process-wide, inherited by every backend: probes mark their connections
    // to this server (census_self_probe.cpp).
    set_connect_hook(census_glue::mark_self_probe);
    AreaHooks hooks;
    hooks.area = "census";
    hooks.request_shmem = census_glue::request_shmem;
    hooks.startup_shmem = census_glue::startup_shmem;
    hooks.client_auth = census_glue::client_auth_hook;
    hooks.emit_log = census_glue::emit_log;
    hooks.xact_event = census_glue::xact_event;
    register_hooks(hooks);
}

}  // namespace tls_audit::pg
