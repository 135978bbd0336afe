// The session registry (shared memory, ClientAuthentication_hook, exit
// callback); its GUC tls_audit.min_protocol is in guc_sessions.cpp.
//
// Layout: a header and one fixed-size slot per possible backend
// (MaxBackends), indexed by compat::backend_slot(), so each backend owns exactly one
// slot and is its only writer. A write is bracketed by two increments of the
// slot's change counter (odd while writing), with memory barriers, as
// PostgreSQL does for PgBackendStatus; a reader copies the slot and retries
// when the counter was odd or changed. Nobody takes a lock. A slot carries
// the owner's pid and start time, so a reader can reject a slot left by an
// earlier backend that had the same slot. At exit the owner does not clear
// its slot: it marks it exiting (pid and start time stay until the next
// owner writes), so a reader that still sees the backend in its status
// snapshot leaves the session out instead of showing it without its
// registry columns (a row is complete or absent).
#include "hook_sessions.hpp"

#include <cstring>
#include <optional>

#include "guard.hpp"
#include "guc_sessions.hpp"
#include "hook_auth.hpp"
#include "base/hot_path.hpp"
#include "module.hpp"
#include "sessions/session.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

constexpr std::uint32_t kRegistryMagic = 0x544c5352;  // "TLSR"
constexpr int kMaxReadAttempts = 1000;

struct Slot {
    std::uint32_t changecount;  // odd while the owner writes
    std::int32_t pid;           // 0 when free
    TimestampTz backend_start;  // the owner's MyStartTimestamp
    bool exiting;               // the owner is exiting (or has exited)
    RegistryRecord record;
};

struct RegistryHeader {
    std::uint32_t magic;
    std::int32_t slot_count;
};

RegistryHeader *registry_header = nullptr;
Slot *registry_slots = nullptr;

Size header_size() { return MAXALIGN(sizeof(RegistryHeader)); }

Size registry_size(int slots) { return add_size(header_size(), mul_size(static_cast<Size>(slots), sizeof(Slot))); }

void request_shmem() {
    RequestAddinShmemSpace(registry_size(MaxBackends));
}

void startup_shmem() {
    bool found = false;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    char *base = static_cast<char *>(ShmemInitStruct("pg_tls_audit session registry", registry_size(MaxBackends), &found));
    if (!found) {
        memset(base, 0, registry_size(MaxBackends));
        auto *header = reinterpret_cast<RegistryHeader *>(base);
        header->magic = kRegistryMagic;
        header->slot_count = MaxBackends;
    }
    LWLockRelease(AddinShmemInitLock);
    registry_header = reinterpret_cast<RegistryHeader *>(base);
    registry_slots = reinterpret_cast<Slot *>(base + header_size());
}

// Owner-side writes (only ever by the backend that owns the slot). The
// record is filled in place, between the two changecount increments: no
// intermediate copy, so the hook touches no memory beyond its own slot.
TLS_AUDIT_HOT void write_slot(int index, const SessionTlsView *tls, const CertInfo *client, const SessionAuth &auth) {
    volatile Slot *slot = &registry_slots[index];
    slot->changecount = slot->changecount + 1;
    pg_write_barrier();
    slot->pid = MyProcPid;
    slot->backend_start = MyStartTimestamp;
    slot->exiting = false;
    auto &record = const_cast<RegistryRecord &>(slot->record);
    if (tls != nullptr)
        fill_record(record, *tls, client);
    else
        memset(&record, 0, sizeof record);
    set_record_auth(record, auth);
    pg_write_barrier();
    slot->changecount = slot->changecount + 1;
}

TLS_AUDIT_HOT void mark_exiting(int index) {
    volatile Slot *slot = &registry_slots[index];
    slot->changecount = slot->changecount + 1;
    pg_write_barrier();
    slot->exiting = true;
    pg_write_barrier();
    slot->changecount = slot->changecount + 1;
}

// on_shmem_exit (it runs before PostgreSQL's own exit callbacks, which
// were registered earlier, so before the backend leaves the status array):
// the slot this backend wrote travels in `slot` rather than in
// a static, so that the hook writes nothing in this library's data pages
// (each such page written costs a new backend a copy-on-write fault).
TLS_AUDIT_HOT void clear_at_exit(int, Datum slot) {
    const int index = DatumGetInt32(slot);
    if (registry_slots != nullptr && index >= 0 && index < registry_header->slot_count) mark_exiting(index);
}

// A consistent copy of a slot, or false when the owner kept writing. The
// record's long texts are copied up to their NUL only (copy_record()): what
// a reader does not copy it cannot see torn, so the change counter still
// proves the copy whole.
bool copy_slot(int index, Slot &out) {
    const volatile Slot *slot = &registry_slots[index];
    for (int attempt = 0; attempt < kMaxReadAttempts; ++attempt) {
        const std::uint32_t before = slot->changecount;
        pg_read_barrier();
        out.pid = slot->pid;
        out.backend_start = slot->backend_start;
        out.exiting = slot->exiting;
        copy_record(out.record, const_cast<const RegistryRecord &>(slot->record));
        pg_read_barrier();
        const std::uint32_t after = slot->changecount;
        if (before == after && (before & 1u) == 0) return true;
    }
    return false;
}

// The client's certificate, when it sent one (the only part of the hook
// that allocates). Never throws; on failure leaves a message in `failure`.
TLS_AUDIT_HOT bool describe_client(SSL *ssl, std::optional<CertInfo> &client, char *failure, std::size_t failure_size) noexcept {
    try {
        client = client_certificate_brief(ssl);
        return true;
    } catch (...) {
        const Error error = describe_current_exception();
        strlcpy(failure, error.message.c_str(), failure_size);
        return false;
    }
}

// Register the exit callback that clears `slot`; a PostgreSQL error here is
// logged, not raised. The hook runs once per backend, so this does too.
TLS_AUDIT_HOT bool register_exit_callback(int slot) {
    MemoryContext context = CurrentMemoryContext;
    volatile bool ok = true;
    PG_TRY();
    {
        on_shmem_exit(clear_at_exit, Int32GetDatum(slot));
    }
    PG_CATCH();
    {
        log_caught_error(context, "session not recorded");
        ok = false;
    }
    PG_END_TRY();
    return ok;
}

// ClientAuthentication_hook: fail-open. Whatever happens here, the
// connection proceeds exactly as it would without the extension. Every
// session gets a slot (how it authenticated); TLS sessions also their TLS
// details.
TLS_AUDIT_HOT void client_auth_hook(Port *port, int status, ConnectionFacts &facts) {
    // Failed authentications are not sessions (the census counts those).
    if (status != STATUS_OK || registry_slots == nullptr || port == nullptr) return;
    const int slot = compat::backend_slot();
    if (slot < 0 || slot >= registry_header->slot_count) return;
    // How it authenticated: every session, TLS or not.
    const SessionAuth &auth = facts.auth();
    if (!port->ssl_in_use || port->ssl == nullptr) {
        if (register_exit_callback(slot)) write_slot(slot, nullptr, nullptr, auth);
        return;
    }

    SSL *ssl = static_cast<SSL *>(port->ssl);
    GroupNameBuffer group;
    const SessionTlsView tls = view_session(ssl, group);
    std::optional<CertInfo> client;
    char failure[256] = "";
    if (!describe_client(ssl, client, failure, sizeof failure)) {
        ereport(LOG, (errmsg("pg_tls_audit: session not recorded: %s", failure)));
        return;
    }
    if (!register_exit_callback(slot)) return;
    write_slot(slot, &tls, client ? &*client : nullptr, auth);
}

}  // namespace

bool registry_active() { return registry_slots != nullptr; }

int registry_slot_count() { return registry_header != nullptr ? registry_header->slot_count : 0; }

bool registry_slot_owner(int index, int &pid, TimestampTz &backend_start) {
    if (index < 0 || index >= registry_slot_count()) return false;
    static Slot copy;
    if (!copy_slot(index, copy) || copy.pid == 0 || copy.exiting) return false;
    pid = copy.pid;
    backend_start = copy.backend_start;
    return true;
}

RegistryReader::RegistryReader() {
    if (registry_slots == nullptr) return;
    const int count = registry_header->slot_count;
    // Remember, per pid, the slot with the newest start time: an older slot
    // with the same pid can only be stale (the pid was reused).
    std::unordered_map<int, TimestampTz> start_by_pid;
    for (int i = 0; i < count; ++i) {
        const volatile Slot *slot = &registry_slots[i];
        const int pid = slot->pid;
        if (pid == 0) continue;
        const TimestampTz start = slot->backend_start;
        auto it = start_by_pid.find(pid);
        if (it == start_by_pid.end() || start > it->second) {
            start_by_pid[pid] = start;
            slot_by_pid_[pid] = i;
        }
    }
}

RegistryLookup RegistryReader::find(int pid, TimestampTz backend_start, const RegistryRecord *&out) const {
    auto it = slot_by_pid_.find(pid);
    if (it == slot_by_pid_.end()) return RegistryLookup::Missing;
    // One backend, one reader at a time. The caller reads the record where
    // it was copied: a slot is 4 kB, and a second copy per session was a
    // visible part of the view's cost.
    static Slot copy;
    if (!copy_slot(it->second, copy)) return RegistryLookup::Changing;
    if (copy.pid != pid || copy.backend_start != backend_start) return RegistryLookup::Missing;
    if (copy.exiting) return RegistryLookup::Exiting;
    out = &copy.record;
    return RegistryLookup::Found;
}

void init_sessions() {
    init_sessions_gucs();

    if (!loaded_at_startup()) return;  // no shared memory, no hooks: the registry stays inactive
    AreaHooks hooks;
    hooks.area = "session registry";
    hooks.request_shmem = request_shmem;
    hooks.startup_shmem = startup_shmem;
    hooks.client_auth = client_auth_hook;
    register_hooks(hooks);
}

}  // namespace tls_audit::pg
