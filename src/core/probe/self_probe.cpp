#include "probe/self_probe.hpp"

#include "base/hot_path.hpp"
namespace tls_audit {

namespace {

std::uint16_t client_of(std::uint64_t w) { return static_cast<std::uint16_t>(w & 0xFFFF); }
std::uint16_t server_of(std::uint64_t w) { return static_cast<std::uint16_t>((w >> 16) & 0xFFFF); }
std::uint32_t expiry_of(std::uint64_t w) { return static_cast<std::uint32_t>(w >> 32); }

// `expiry` is in the past of `now` (mod 2^32 arithmetic).
bool expired(std::uint32_t expiry, std::uint32_t now) { return static_cast<std::int32_t>(expiry - now) < 0; }

}  // namespace

std::uint64_t pack_self_probe(std::uint16_t client_port, std::uint16_t server_port, std::uint32_t expiry) noexcept {
    return static_cast<std::uint64_t>(client_port) | static_cast<std::uint64_t>(server_port) << 16 |
           static_cast<std::uint64_t>(expiry) << 32;
}

void SelfProbeTable::init() noexcept {
    for (auto &s : slots_) s.store(0, std::memory_order_relaxed);
    last_add_.store(0, std::memory_order_relaxed);
    reset_counters();
}

void SelfProbeTable::reset_counters() noexcept {
    skipped_.store(0, std::memory_order_relaxed);
    full_.store(0, std::memory_order_relaxed);
}

bool SelfProbeTable::add(std::uint16_t client_port, std::uint16_t server_port, std::uint32_t now) noexcept {
    std::uint32_t expiry = now + kSelfProbeTtl;
    if (expiry == 0) expiry = 1;  // the word must never be 0 (free) for port 0
    const std::uint64_t word = pack_self_probe(client_port, server_port, expiry);
    for (auto &s : slots_) {
        std::uint64_t old = s.load(std::memory_order_relaxed);
        if (old != 0 && !expired(expiry_of(old), now)) continue;
        if (s.compare_exchange_strong(old, word, std::memory_order_acq_rel)) {
            last_add_.store(now, std::memory_order_release);
            return true;
        }
    }
    full_.fetch_add(1, std::memory_order_relaxed);
    return false;
}

TLS_AUDIT_HOT bool SelfProbeTable::consume(std::uint16_t client_port, std::uint16_t server_port, std::uint32_t now) noexcept {
    const std::uint32_t last = last_add_.load(std::memory_order_acquire);
    if (last == 0 || expired(last + kSelfProbeTtl, now)) return false;  // nothing live: the common case
    for (auto &s : slots_) {
        std::uint64_t old = s.load(std::memory_order_acquire);
        if (old == 0 || client_of(old) != client_port || server_of(old) != server_port) continue;
        if (expired(expiry_of(old), now)) continue;
        if (s.compare_exchange_strong(old, 0, std::memory_order_acq_rel)) {
            skipped_.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
    }
    return false;
}

}  // namespace tls_audit
