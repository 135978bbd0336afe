#include "census/census_hot_keys.hpp"

#include "base/hot_path.hpp"

namespace tls_audit {

void HotKeys::init(HotKeysState &state) noexcept {
    for (HotKeySlot &s : state.slots) {
        s.word.store(0, std::memory_order_relaxed);
        s.last_seen.store(0, std::memory_order_relaxed);
        s.owner.store(0, std::memory_order_relaxed);
        s.hash.store(0, std::memory_order_relaxed);
        s.length.store(0, std::memory_order_relaxed);
        std::memset(s.text, 0, sizeof s.text);
    }
}

// The reads of the slot's key happen before the compare-and-swap that
// validates them (the acquire fence): if any of them saw a claim()'s write,
// that claim's take() precedes the swap, which then fails on the generation.
TLS_AUDIT_HOT bool HotKeys::count(std::uint64_t hash, const char *text, std::size_t length,
                                  std::int64_t now) noexcept {
    if (length > kHotKeyTextMax) return false;
    HotKeySlot &s = slot(hash);
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        std::uint64_t w = s.word.load(std::memory_order_acquire);
        if (changing(w) || pending(w) == kCountMask) return false;
        if (s.owner.load(std::memory_order_relaxed) == 0 || s.hash.load(std::memory_order_relaxed) != hash ||
            s.length.load(std::memory_order_relaxed) != length || std::memcmp(s.text, text, length) != 0)
            return false;
        std::atomic_thread_fence(std::memory_order_acquire);
        if (s.word.compare_exchange_strong(w, w + 1, std::memory_order_acq_rel)) {
            std::int64_t seen = s.last_seen.load(std::memory_order_relaxed);
            while (seen < now && !s.last_seen.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
            }
            return true;
        }
        // Another connection of a hot key counted first: try again.
    }
    return false;
}

}  // namespace tls_audit
