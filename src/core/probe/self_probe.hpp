// Self-probe marking: a server probing itself must not
// count its own probe connections in its connection census.
//
// The probing process registers each outbound connection to the server's
// own port before it sends anything: (its local port, the port it connects
// to, an expiry). The server's census hooks, for a connection whose client
// address equals the server's own address of that connection (loopback or
// any own address: the client runs on this host), look the pair (client
// port, server port) up and consume the entry: that connection is skipped
// and counted in skipped() instead. Entries expire after kSelfProbeTtl
// seconds (a probe that never reached the server, a crashed prober).
//
// The table lives in shared memory and is used by probe helper threads and
// by backends that have no PGPROC yet (the hook of a refused TLS handshake),
// so it uses lock-free 64-bit atomics only: one word per slot,
//   bits 0-15 local (client) port, 16-31 server port, 32-63 expiry
//   (seconds since the Unix epoch, mod 2^32); 0 = free.
#pragma once

#include "base/pure_cpp.hpp"

#include <atomic>
#include <cstdint>
#include <type_traits>

TLS_AUDIT_AREA(probe);

namespace tls_audit {

inline constexpr int kSelfProbeSlots = 128;
inline constexpr std::uint32_t kSelfProbeTtl = 30;  // seconds

std::uint64_t pack_self_probe(std::uint16_t client_port, std::uint16_t server_port, std::uint32_t expiry) noexcept;

class SelfProbeTable {
  public:
    // Zero every slot (the shared memory is not constructed: call once).
    void init() noexcept;

    // Register a connection from `client_port` to `server_port` at `now`
    // (seconds since the epoch). False when every slot is taken by an
    // unexpired entry: that connection is then counted like any other.
    bool add(std::uint16_t client_port, std::uint16_t server_port, std::uint32_t now) noexcept;

    // If a live entry for (client_port, server_port) exists, remove it,
    // count it in skipped() and return true.
    bool consume(std::uint16_t client_port, std::uint16_t server_port, std::uint32_t now) noexcept;

    std::uint64_t skipped() const noexcept { return skipped_.load(std::memory_order_relaxed); }
    std::uint64_t full() const noexcept { return full_.load(std::memory_order_relaxed); }
    void reset_counters() noexcept;

  private:
    std::atomic<std::uint64_t> slots_[kSelfProbeSlots];
    std::atomic<std::uint32_t> last_add_;  // a quick "nothing registered lately" test
    std::atomic<std::uint64_t> skipped_;
    std::atomic<std::uint64_t> full_;
};
static_assert(std::is_standard_layout_v<SelfProbeTable>, "lives in shared memory");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared between processes");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "shared between processes");

}  // namespace tls_audit
