// What the last TLS reloads did: the postmaster's emit_log_hook records each
// configuration reload ("received SIGHUP, reloading configuration files") and
// whether its TLS part was refused ("SSL configuration was not reloaded",
// logged by the postmaster right after be_tls_init()'s own reason), matched on
// the untranslated message ids, into a ring of kRingSize entries in shared
// memory.
//
// PostgreSQL logs nothing when the TLS part of a reload succeeds, so an entry
// without a refusal is "in progress" until the reload is known to be over: a
// later entry exists, a backend forked after it captured the served
// certificate, or one second has passed (the postmaster reloads in
// milliseconds, and forks nothing while it does).
//
// In the postmaster the hook runs (on 15) inside the SIGHUP signal handler:
// it takes no LWLock, allocates nothing and cannot fail; a spinlock guards the
// ring (the postmaster never holds it when a signal arrives: its signals are
// blocked outside its wait). In every other process the hook returns at once.
// Needs log_min_messages at LOG or below (the default), like the server log.
//
// This file also registers the reload area (init_reload, at its end): the
// history's and the automatic-reload worker's shared memory, and the worker.
#include "hook_reload.hpp"

#include <cstring>

#include <openssl/evp.h>

#include "bgw_auto_reload.hpp"
#include "guc_auto_reload.hpp"
#include "module.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

constexpr int kRingSize = 32;
constexpr std::size_t kErrorSize = 512;
constexpr TimestampTz kSettleUsec = 1000000;  // an entry without a refusal is over after 1 s

// postmaster.c (15: SIGHUP_handler; 18: process_pm_reload_request).
constexpr const char *kReloadId = "received SIGHUP, reloading configuration files";
constexpr const char *kRefusedId = "SSL configuration was not reloaded";

enum : std::uint8_t { kKindStart = 1, kKindReload = 2 };
enum : std::uint8_t { kStateInProgress = 0, kStateLoaded = 1, kStateRefused = 2 };

struct Entry {
    std::uint64_t seq;  // 1-based; 0 = empty slot
    TimestampTz at;
    std::uint8_t kind;
    std::uint8_t state;
    char error[kErrorSize];
    char served_sha256[65];
};

struct Shared {
    slock_t mutex;
    std::uint64_t last_seq;
    Entry ring[kRingSize];
};

Shared *shared = nullptr;

// Postmaster only: the last LOG line since the reload started (the refusal's reason).
char pending_reason[kErrorSize];
bool in_reload = false;

Entry *newest_locked() {
    if (shared->last_seq == 0) return nullptr;
    return &shared->ring[(shared->last_seq - 1) % kRingSize];
}

void add_locked(std::uint8_t kind, std::uint8_t state, TimestampTz at) {
    const std::uint64_t seq = ++shared->last_seq;
    Entry &e = shared->ring[(seq - 1) % kRingSize];
    memset(&e, 0, sizeof e);
    e.seq = seq;
    e.at = at;
    e.kind = kind;
    e.state = state;
}

void hex(const unsigned char *p, unsigned n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; ++i) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0xf];
    }
    out[2 * n] = '\0';
}

}  // namespace

std::size_t reload_history_shmem_size() { return MAXALIGN(sizeof(Shared)); }

void reload_history_shmem_startup() {
    bool found = false;
    shared = static_cast<Shared *>(ShmemInitStruct("pg_tls_audit reload history", sizeof(Shared), &found));
    if (!found) {
        memset(shared, 0, sizeof *shared);
        SpinLockInit(&shared->mutex);
        // The postmaster loaded its TLS files at start (a failure stops the
        // start); after a crash restart it keeps them.
        // Its time is the start's configuration load (PgReloadTime), which the
        // first backends inherit: their captures then name this entry.
        if (!IsUnderPostmaster && EnableSSL)
            add_locked(kKindStart, kStateLoaded, PgReloadTime != 0 ? PgReloadTime : GetCurrentTimestamp());
    }
}

bool reload_history_active() { return shared != nullptr; }

void reload_history_emit_log(ErrorData *edata) {
    // Every process runs this hook: only the postmaster goes further.
    if (IsUnderPostmaster || shared == nullptr || edata == nullptr) return;
    if (edata->elevel != LOG && edata->elevel != LOG_SERVER_ONLY) return;
    const char *id = edata->message_id;
    if (id == nullptr) return;
    if (strcmp(id, kReloadId) == 0) {
        in_reload = true;
        pending_reason[0] = '\0';
        const TimestampTz now = GetCurrentTimestamp();
        SpinLockAcquire(&shared->mutex);
        add_locked(kKindReload, kStateInProgress, now);
        SpinLockRelease(&shared->mutex);
        return;
    }
    if (!in_reload) return;
    if (strcmp(id, kRefusedId) == 0) {
        in_reload = false;
        SpinLockAcquire(&shared->mutex);
        if (Entry *e = newest_locked(); e != nullptr && e->kind == kKindReload) {
            e->state = kStateRefused;
            strlcpy(e->error, pending_reason[0] != '\0' ? pending_reason : "(no reason was logged)", sizeof e->error);
        }
        SpinLockRelease(&shared->mutex);
        return;
    }
    // Any other line of the reload: the last one before a refusal is
    // be_tls_init()'s reason.
    strlcpy(pending_reason, edata->message != nullptr ? edata->message : id, sizeof pending_reason);
}

void reload_history_note_served(TimestampTz reload_time, const unsigned char *leaf_der, std::size_t len) {
    if (shared == nullptr || leaf_der == nullptr || len == 0) return;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(leaf_der, len, md, &md_len, EVP_sha256(), nullptr) != 1 || md_len != 32) return;
    char text[65];
    hex(md, md_len, text);
    SpinLockAcquire(&shared->mutex);
    // The newest entry that started before this backend's reload time.
    for (std::uint64_t seq = shared->last_seq; seq > 0 && seq + kRingSize > shared->last_seq; --seq) {
        Entry &e = shared->ring[(seq - 1) % kRingSize];
        if (e.seq != seq || e.at > reload_time) continue;
        if (e.served_sha256[0] == '\0') memcpy(e.served_sha256, text, sizeof text);
        // Proof that the reload is over: a backend forked after it.
        if (e.state == kStateInProgress) e.state = kStateLoaded;
        break;
    }
    SpinLockRelease(&shared->mutex);
}

std::vector<ReloadEvent> reload_history() {
    std::vector<ReloadEvent> out;
    if (shared == nullptr) return out;
    static Shared copy;  // 17 kB: off the stack
    SpinLockAcquire(&shared->mutex);
    memcpy(&copy, shared, sizeof copy);
    SpinLockRelease(&shared->mutex);
    const TimestampTz now = GetCurrentTimestamp();
    const std::uint64_t first = copy.last_seq > kRingSize ? copy.last_seq - kRingSize + 1 : 1;
    for (std::uint64_t seq = first; seq <= copy.last_seq; ++seq) {
        const Entry &e = copy.ring[(seq - 1) % kRingSize];
        if (e.seq != seq) continue;
        ReloadEvent r;
        r.seq = seq;
        r.at = e.at;
        r.kind = e.kind == kKindStart ? "start" : "reload";
        std::uint8_t state = e.state;
        if (state == kStateInProgress && (seq < copy.last_seq || now - e.at >= kSettleUsec)) state = kStateLoaded;
        switch (state) {
            case kStateLoaded:
                r.outcome = "loaded";
                r.ok = true;
                break;
            case kStateRefused:
                r.outcome = "kept previous configuration";
                r.ok = false;
                r.error.assign(e.error, strnlen(e.error, sizeof e.error));
                break;
            default:
                r.outcome = "in progress";
                break;
        }
        r.served_sha256.assign(e.served_sha256, strnlen(e.served_sha256, sizeof e.served_sha256));
        out.push_back(std::move(r));
    }
    return out;
}

// ---------------------------------------------------------------------------
// The area's registration: the reload history's and the worker's shared
// memory and the postmaster's emit_log_hook, through module.cpp's one
// dispatcher; the worker and its GUCs.
// ---------------------------------------------------------------------------

namespace {
void request_shmem() { RequestAddinShmemSpace(reload_history_shmem_size() + auto_reload_shmem_size()); }

void startup_shmem() {
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    reload_history_shmem_startup();
    auto_reload_shmem_startup();
    LWLockRelease(AddinShmemInitLock);
}
}  // namespace

void init_reload() {
    init_auto_reload_gucs();
    if (!loaded_at_startup()) return;  // no shared memory, no worker
    AreaHooks hooks;
    hooks.area = "reload";
    hooks.request_shmem = request_shmem;
    hooks.startup_shmem = startup_shmem;
    hooks.emit_log = reload_history_emit_log;
    register_hooks(hooks);
    register_auto_reload_worker();
}

}  // namespace tls_audit::pg
