// The session registry: per-backend TLS details that pg_stat_ssl does not keep,
// written by each backend into its own shared-memory slot right after it has
// authenticated (ClientAuthentication_hook) and marked exiting when it exits.
// Readers copy a slot without taking a lock (a change counter tells them to
// retry when they raced the owner's write).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "postgres.hpp"
#include "base/protocol.hpp"
#include "sessions/registry_record.hpp"

namespace tls_audit::pg {

// True when the registry exists (the library was preloaded and its shared
// memory attached); false means every registry column reads NULL.
bool registry_active();

// Raw slot access for diagnostics: the number of slots (0 when inactive), and
// a consistent copy of slot `index`'s owner; false when the slot is free.
int registry_slot_count();
bool registry_slot_owner(int index, int &pid, TimestampTz &backend_start);

// A lookup of registry slots by backend, built once per query.
class RegistryReader {
  public:
    // Index the slots that are in use (a no-op when the registry is inactive).
    RegistryReader();

    // Copy the record of backend `pid` started at `backend_start` and point
    // `out` at the copy (Found), which stays valid until the next find().
    // Missing when there is none or the slot holds another (earlier)
    // backend's details: a stale slot is never returned; Exiting when the
    // backend is exiting; Changing when no consistent copy could be made in
    // a bounded number of attempts. See show_session_row().
    RegistryLookup find(int pid, TimestampTz backend_start, const RegistryRecord *&out) const;

  private:
    std::unordered_map<int, int> slot_by_pid_;
};

}  // namespace tls_audit::pg
