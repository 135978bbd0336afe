// Served-certificate capture: ClientAuthentication_hook copies the
// certificate (and configured chain) that this backend's TLS handshake
// presented into one shared-memory record, with the backend's PgReloadTime.
//
// PostgreSQL rebuilds its SSL context in the postmaster on SIGHUP (keeping the
// old one when the new files fail to load), and each backend forks with the
// context of the moment. A backend's PgReloadTime at connection start is the
// postmaster's last reload before the fork, so a capture whose reload time is
// not older than the reader's pg_conf_load_time() shows what is served now.
//
// Cheap and fail-open: only the first TLS connection after each reload does
// any work (a shared-lock check otherwise); the DER is encoded into a static
// buffer (no allocation); any error is logged at LOG and the connection
// proceeds untouched.
#include "hook_certs_served.hpp"

#include <cstddef>
#include <cstring>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "guard.hpp"
#include "hot_window.hpp"
#include "hook_reload.hpp"
#include "base/hot_path.hpp"
#include "module.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

constexpr const char *kTrancheName = "pg_tls_audit served certificate";
constexpr int kMaxCerts = 10;
constexpr std::size_t kDerCapacity = 32 * 1024;

struct SharedServed {
    bool valid;
    bool truncated;
    int count;
    TimestampTz reload_time;
    TimestampTz captured_at;
    std::uint32_t lengths[kMaxCerts];
    std::uint32_t used;
    unsigned char der[kDerCapacity];
};

// The capture is in its own allocation (under shared_lock). The reload time
// of the newest complete capture is published after it is written, outside
// the lock, so that a connection sees "already captured" with one atomic
// read; that word is in the hot window (hot_window.hpp), beside the census
// words every connection touches too.
SharedServed *shared = nullptr;
pg_atomic_uint64 *captured_reload = nullptr;
LWLock *shared_lock = nullptr;


void request_shmem() {
    request_hot_window();
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedServed)));
    RequestNamedLWLockTranche(kTrancheName, 1);
}

void startup_shmem() {
    bool found = false;
    bool first = false;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    auto *served = static_cast<SharedServed *>(ShmemInitStruct("pg_tls_audit served certificate",
                                                               sizeof(SharedServed), &found));
    if (!found) memset(served, 0, sizeof *served);
    auto *published = static_cast<pg_atomic_uint64 *>(
        hot_window_part(HotPart::ServedCertificate, sizeof(pg_atomic_uint64), first));
    if (first) pg_atomic_init_u64(published, 0);
    shared_lock = &GetNamedLWLockTranche(kTrancheName)->lock;
    LWLockRelease(AddinShmemInitLock);
    captured_reload = published;
    shared = served;
}

// Append one certificate's DER to `out`; false when it does not fit.
bool append_der(SharedServed &out, X509 *cert) noexcept {
    if (out.count >= kMaxCerts) return false;
    const int len = i2d_X509(cert, nullptr);
    if (len <= 0 || out.used + static_cast<std::size_t>(len) > kDerCapacity) return false;
    unsigned char *p = out.der + out.used;
    if (i2d_X509(cert, &p) != len) return false;
    out.lengths[out.count++] = static_cast<std::uint32_t>(len);
    out.used += static_cast<std::uint32_t>(len);
    return true;
}

// The leaf and the chain configured with it, as this handshake presented them.
bool encode_served(SSL *ssl, SharedServed &out) noexcept {
    out.count = 0;
    out.used = 0;
    out.truncated = false;
    X509 *leaf = SSL_get_certificate(ssl);
    if (leaf == nullptr || !append_der(out, leaf)) return false;
    STACK_OF(X509) *chain = nullptr;
    if (SSL_get0_chain_certs(ssl, &chain) == 1 && chain != nullptr) {
        for (int i = 0; i < sk_X509_num(chain); ++i)
            if (!append_der(out, sk_X509_value(chain, i))) {
                out.truncated = true;
                break;
            }
    }
    return true;
}

bool capture_is_current(TimestampTz reload_time) {
    return shared->valid && shared->reload_time >= reload_time;
}

// Plain C-style work only: nothing here has a destructor, so a PostgreSQL
// error can unwind it.
TLS_AUDIT_HOT void capture(SSL *ssl) {
    const TimestampTz my_reload = PgReloadTime;
    // Every connection but the first after a reload stops here, with one
    // atomic read and no lock (0: nothing captured yet).
    const auto published = static_cast<TimestampTz>(pg_atomic_read_u64(captured_reload));
    if (published != 0 && published >= my_reload) return;

    static SharedServed scratch;  // 32 kB: off the stack, no allocation
    if (!encode_served(ssl, scratch)) return;
    scratch.valid = true;
    scratch.reload_time = my_reload;
    scratch.captured_at = GetCurrentTimestamp();

    LWLockAcquire(shared_lock, LW_EXCLUSIVE);
    if (!capture_is_current(my_reload)) {
        memcpy(shared, &scratch, offsetof(SharedServed, der) + scratch.used);
        pg_write_barrier();
        pg_atomic_write_u64(captured_reload, static_cast<uint64>(my_reload));
    }
    LWLockRelease(shared_lock);
    // The reload history: the leaf served after this reload.
    if (scratch.count > 0) reload_history_note_served(my_reload, scratch.der, scratch.lengths[0]);
}

// ClientAuthentication_hook: fail-open.
TLS_AUDIT_HOT void client_auth_hook(Port *port, int /*status*/, ConnectionFacts & /*facts*/) {
    if (shared == nullptr || port == nullptr || !port->ssl_in_use || port->ssl == nullptr) return;
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        capture(static_cast<SSL *>(port->ssl));
    }
    PG_CATCH();
    {
        if (LWLockHeldByMe(shared_lock)) LWLockRelease(shared_lock);
        log_caught_error(context, "served certificate not captured");
    }
    PG_END_TRY();
}

}  // namespace

std::optional<ServedCapture> latest_served_capture() {
    if (shared == nullptr) return std::nullopt;
    static SharedServed copy;
    SharedServed *out = &copy;
    call([out] {
        LWLockAcquire(shared_lock, LW_SHARED);
        memcpy(out, shared, offsetof(SharedServed, der) + shared->used);
        LWLockRelease(shared_lock);
    });
    if (!copy.valid || copy.count <= 0) return std::nullopt;
    ServedCapture result;
    result.reload_time = copy.reload_time;
    result.captured_at = copy.captured_at;
    result.truncated = copy.truncated;
    std::size_t offset = 0;
    for (int i = 0; i < copy.count && i < kMaxCerts; ++i) {
        const std::size_t len = copy.lengths[i];
        if (offset + len > copy.used) break;
        result.der.emplace_back(reinterpret_cast<const char *>(copy.der + offset), len);
        offset += len;
    }
    return result;
}

void init_server_capture() {
    if (!loaded_at_startup()) return;  // no shared memory: server_tls() falls back to the self-probe
    AreaHooks hooks;
    hooks.area = "served certificate capture";
    hooks.request_shmem = request_shmem;
    hooks.startup_shmem = startup_shmem;
    hooks.client_auth = client_auth_hook;
    register_hooks(hooks);
}

}  // namespace tls_audit::pg
