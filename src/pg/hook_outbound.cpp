// The TLS protocol and cipher of the server's own replication links.
//
// The walreceiver, the logical replication workers and (17+) the slot
// synchronization worker connect with libpq, in their own process; no
// statistics view shows the TLS state of those links. The server's OpenSSL is
// the one libpq uses in those processes, so with shared_preload_libraries
// _PG_init registers, in the postmaster, an SSL_CTX "ex_data" index whose new
// and free callbacks every child inherits. When one of those processes makes
// a TLS context (libpq makes one per connection), the new callback gives the
// context an info callback; at the end of the handshake it records
// SSL_get_version, the cipher and its key bits in shared memory, keyed by the
// process id; when libpq frees the connection the free callback marks the
// slot as no longer in TLS. A replication process that made no handshake is
// connected without TLS. tls_audit.outbound_connections shows it in live_tls
// for the walreceiver's and the apply workers' pids.
//
// Why not wrap libpqwalreceiver's connect function, as this area once did:
// that needs libpqwalreceiver, and with it libpq, loaded in the postmaster,
// and every backend would then inherit both libraries and pay their page
// faults at each connection and exit (doc/benchmarks.md). This way nothing
// is loaded and client backends never reach the callbacks (their TLS
// context is the postmaster's, made before any connection).
//
// Fail-open: the callbacks only copy plain values under a spinlock; they
// never raise an error. Setting the info callback from the new callback is
// an OpenSSL behaviour no manual promises: see "FRAGILE INTERNALS" in
// compat.hpp for the versions checked, what happens when it breaks, and the
// test.
#include <cstring>

#include "hook_outbound.hpp"
#include "guard.hpp"
#include "module.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

constexpr int kSlots = 64;

struct Slot {
    int pid;
    bool ssl;
    char protocol[16];
    char cipher[64];
    int bits;
    TimestampTz connected_at;
};

struct SharedArea {
    slock_t mutex;
    Slot slots[kSlots];
};

SharedArea *shared = nullptr;
int context_index = -1;

void request_shmem() {
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedArea)));
}

void startup_shmem() {
    bool found = false;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    auto *base = static_cast<SharedArea *>(ShmemInitStruct("pg_tls_audit outbound links", sizeof(SharedArea), &found));
    if (!found) {
        memset(base, 0, sizeof *base);
        SpinLockInit(&base->mutex);
    }
    LWLockRelease(AddinShmemInitLock);
    shared = base;
}

void copy_text(char *dst, std::size_t size, const char *src) {
    strlcpy(dst, src != nullptr ? src : "", size);
}

// Write this process's slot (its own, else a free one, else the oldest).
void store(const Slot &s) noexcept {
    SpinLockAcquire(&shared->mutex);
    int target = -1, oldest = 0;
    for (int i = 0; i < kSlots; ++i) {
        if (shared->slots[i].pid == s.pid) {
            target = i;
            break;
        }
        if (target < 0 && shared->slots[i].pid == 0) target = i;
        if (shared->slots[i].connected_at < shared->slots[oldest].connected_at) oldest = i;
    }
    if (target < 0) target = oldest;
    shared->slots[target] = s;
    SpinLockRelease(&shared->mutex);
}

// SSL_CTX info callback: the handshake of a replication link is done.
// (TLS 1.3 reports another "done" after each post-handshake message: the
// values are the same.)
void on_handshake(const SSL *ssl, int where, int /*ret*/) {
    if ((where & SSL_CB_HANDSHAKE_DONE) == 0 || shared == nullptr || ssl == nullptr) return;
    Slot s{};
    s.pid = MyProcPid;
    s.ssl = true;
    copy_text(s.protocol, sizeof s.protocol, SSL_get_version(ssl));
    copy_text(s.cipher, sizeof s.cipher, SSL_get_cipher_name(ssl));
    s.bits = SSL_get_cipher_bits(ssl, nullptr);
    s.connected_at = GetCurrentTimestamp();
    store(s);
}

// A TLS context is made: in a replication process, watch its handshakes.
// OpenSSL calls this while it builds the context; only a field is set.
void on_context_new(void *parent, void * /*ptr*/, CRYPTO_EX_DATA * /*ad*/, int /*idx*/, long /*argl*/,
                    void * /*argp*/) {
    if (parent != nullptr && shared != nullptr && compat::makes_replication_links())
        SSL_CTX_set_info_callback(static_cast<SSL_CTX *>(parent), on_handshake);
}

// A TLS context is freed (libpq frees it with its connection): this
// process's link, if it had TLS, has it no longer.
void on_context_free(void * /*parent*/, void * /*ptr*/, CRYPTO_EX_DATA * /*ad*/, int /*idx*/, long /*argl*/,
                     void * /*argp*/) {
    if (shared == nullptr || !compat::makes_replication_links()) return;
    SpinLockAcquire(&shared->mutex);
    for (int i = 0; i < kSlots; ++i)
        if (shared->slots[i].pid == MyProcPid) {
            shared->slots[i].ssl = false;
            shared->slots[i].protocol[0] = '\0';
            shared->slots[i].cipher[0] = '\0';
            shared->slots[i].bits = 0;
        }
    SpinLockRelease(&shared->mutex);
}

}  // namespace

bool outbound_live_active() { return shared != nullptr && context_index >= 0; }

std::optional<OutboundLive> outbound_live(int pid) {
    if (shared == nullptr || pid <= 0) return std::nullopt;
    Slot copy{};
    bool found = false;
    SpinLockAcquire(&shared->mutex);
    for (int i = 0; i < kSlots; ++i)
        if (shared->slots[i].pid == pid) {
            copy = shared->slots[i];
            found = true;
            break;
        }
    SpinLockRelease(&shared->mutex);
    if (!found) return std::nullopt;
    OutboundLive live;
    live.ssl = copy.ssl;
    copy.protocol[sizeof copy.protocol - 1] = '\0';
    copy.cipher[sizeof copy.cipher - 1] = '\0';
    live.protocol = copy.protocol;
    live.cipher = copy.cipher;
    live.bits = copy.bits;
    live.connected_at = copy.connected_at;
    return live;
}

void init_outbound() {
    if (!loaded_at_startup()) return;  // live_tls then says it is not recorded
    AreaHooks hooks;
    hooks.area = "outbound links";
    hooks.request_shmem = request_shmem;
    hooks.startup_shmem = startup_shmem;
    register_hooks(hooks);
    // Fail-open: without an index the server runs as before and live_tls
    // says the TLS state was not recorded.
    context_index = SSL_CTX_get_ex_new_index(0, nullptr, on_context_new, nullptr, on_context_free);
    if (context_index < 0)
        ereport(LOG, (errmsg("pg_tls_audit: the TLS state of replication links is not recorded"),
                      errdetail("OpenSSL refused a new SSL_CTX ex_data index.")));
}

}  // namespace tls_audit::pg
