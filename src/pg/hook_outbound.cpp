// The TLS protocol and cipher of the server's own replication links.
//
// The walreceiver and the logical replication workers connect through
// libpqwalreceiver's function table (WalReceiverFunctions); their libpq
// connection lives in their own process, and no statistics view shows its
// TLS state. With shared_preload_libraries, _PG_init loads libpqwalreceiver
// in the postmaster (the later load_file() in each worker finds it loaded)
// and installs a copy of its table whose walrcv_connect calls the original,
// then records PQsslInUse/PQsslAttribute of the new connection in shared
// memory, keyed by the process id. tls_audit.outbound_connections shows it
// in live_tls for the walreceiver's and the apply workers' pids.
//
// Fail-open: the wrapper only reads the new connection and copies plain
// values under a spinlock; it never raises an error. The connection is
// reached through compat::walrcv_pgconn() (libpqwalreceiver's private
// struct, whose first member is the PGconn). Both the table swap and that
// cast are PostgreSQL internals: see "FRAGILE INTERNALS" in compat.hpp for
// the versions checked, what happens when they break, and the test.
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
WalReceiverFunctionsType *original = nullptr;
WalReceiverFunctionsType wrapped;

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

// Record the TLS state of a connection this process just made.
void record(WalReceiverConn *conn) noexcept {
    if (shared == nullptr || conn == nullptr) return;
    PGconn *pq = compat::walrcv_pgconn(conn);
    if (pq == nullptr) return;
    Slot s{};
    s.pid = MyProcPid;
    s.ssl = PQsslInUse(pq) != 0;
    if (s.ssl) {
        copy_text(s.protocol, sizeof s.protocol, PQsslAttribute(pq, "protocol"));
        copy_text(s.cipher, sizeof s.cipher, PQsslAttribute(pq, "cipher"));
        const char *bits = PQsslAttribute(pq, "key_bits");
        s.bits = bits != nullptr ? atoi(bits) : 0;
    }
    s.connected_at = GetCurrentTimestamp();
    SpinLockAcquire(&shared->mutex);
    // This pid's slot, else a free one, else the oldest.
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

// walrcv_connect of every version, whatever its parameters.
template <class F> struct ConnectWrapper;
template <class... Args> struct ConnectWrapper<WalReceiverConn *(*)(Args...)> {
    static WalReceiverConn *call(Args... args) {
        WalReceiverConn *conn = (original->walrcv_connect)(args...);  // () keeps the macro walrcv_connect out
        record(conn);
        return conn;
    }
};

}  // namespace

bool outbound_live_active() { return shared != nullptr; }

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
    if (!loaded_at_startup()) return;  // live_tls then shows no protocol
    AreaHooks hooks;
    hooks.area = "outbound links";
    hooks.request_shmem = request_shmem;
    hooks.startup_shmem = startup_shmem;
    register_hooks(hooks);
    // Load libpqwalreceiver now, in the postmaster, and wrap its connect.
    // Fail-open: a server whose libpqwalreceiver cannot be loaded still
    // starts (the load error is logged; live_tls then shows no protocol).
    MemoryContext context = CurrentMemoryContext;
    volatile bool loaded = true;
    PG_TRY();
    {
        load_file("libpqwalreceiver", false);
    }
    PG_CATCH();
    {
        loaded = false;
        log_caught_error(context, "live TLS of outbound links not available");
    }
    PG_END_TRY();
    if (!loaded || WalReceiverFunctions == nullptr) return;
    original = WalReceiverFunctions;
    wrapped = *original;
    wrapped.walrcv_connect = &ConnectWrapper<walrcv_connect_fn>::call;
    WalReceiverFunctions = &wrapped;
}

}  // namespace tls_audit::pg
