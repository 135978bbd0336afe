// The census's hot keys: a small table of slots, kept in shared memory in
// front of the census hash, where a connection whose key was counted
// recently is counted again without the census lock, without the hash table
// and without the text area.
//
// Why: every connection of a busy server counts its key. Through the hash,
// that touches the lock, a bucket, the entry and the entry's text: four
// pages of shared memory spread over megabytes, and each page a new backend
// touches costs it a page fault (doc/benchmarks.md). The hot keys live in
// one 16 kB block beside the census header, so a connection with a hot key
// touches one range that the kernel maps in one fault (doc/census.md).
//
// Counting stays exact. A slot holds a copy of its key's full text, and a
// connection is counted in it only after an equal hash, length and text. The
// slot's count and its generation share one 64-bit word, changed only by
// compare-and-swap: an increment names the generation it checked the text
// against, so it fails, and the connection is counted through the hash
// instead, if the slot changed hands meanwhile. The counts in the slots are
// moved into their entries (drain) before anyone reads the entries, and a
// slot is emptied (release) before its entry is removed.
//
// Who may call what, with the census lock of the caller (census_internal.hpp):
//  * count(): anyone, no lock (lock-free);
//  * claim(), drain(): the shared or the exclusive lock, which keeps every
//    owner's entry alive while its slot's count moves into it;
//  * release(): the exclusive lock, so no claim() runs at the same time.
// The memory is plain shared memory: the slots use std::atomic on 32- and
// 64-bit integers, which are lock-free and so address-free on every platform
// the build accepts (static_assert below).
#pragma once

#include "base/pure_cpp.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

TLS_AUDIT_AREA(census);

namespace tls_audit {

inline constexpr std::size_t kHotKeySlots = 32;
inline constexpr std::size_t kHotKeySlotBytes = 512;

// A slot whose key was last counted longer ago than this may be given to
// another key whose hash falls on it; a busier one keeps its slot, and the
// other key is counted through the hash as before.
inline constexpr std::int64_t kHotKeyIdleMicroseconds = 1000000;

struct HotKeySlot {
    // High 32 bits: the generation, odd while the slot changes hands. Low 32
    // bits: connections counted here and not yet moved to the owner's entry.
    std::atomic<std::uint64_t> word;
    std::atomic<std::int64_t> last_seen;  // the latest connection counted here
    std::atomic<std::uint64_t> owner;     // the entry's handle; 0: empty
    std::atomic<std::uint64_t> hash;
    std::atomic<std::uint32_t> length;
    char text[kHotKeySlotBytes - 4 * sizeof(std::uint64_t) - sizeof(std::uint32_t)];
};
static_assert(sizeof(HotKeySlot) == kHotKeySlotBytes, "slots tile their pages");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "the slots live in shared memory: their atomics must not need a lock");

// Key texts longer than this are never hot: they are counted through the hash.
inline constexpr std::size_t kHotKeyTextMax = sizeof(HotKeySlot::text);

struct HotKeysState {
    HotKeySlot slots[kHotKeySlots];
};

class HotKeys {
public:
    explicit HotKeys(HotKeysState &state) noexcept : state_(state) {}

    static void init(HotKeysState &state) noexcept;

    // Count one connection of the key (`hash`, `text`) when a slot holds it.
    // False: no slot holds it (or the slot was changing hands, or its count
    // is full); the caller counts it through the hash.
    bool count(std::uint64_t hash, const char *text, std::size_t length, std::int64_t now) noexcept;

    // The key, just counted in its entry `owner`, takes its slot for the
    // next connections: when the slot is empty or its key was idle for
    // kHotKeyIdleMicroseconds. The previous key's uncounted connections go
    // to its entry first: settle(owner, count, last_seen). True when the key
    // holds the slot on return.
    template <typename Settle>
    bool claim(std::uint64_t hash, const char *text, std::size_t length, std::uint64_t owner, std::int64_t now,
               Settle &&settle) noexcept {
        if (owner == 0 || length > kHotKeyTextMax) return false;
        HotKeySlot &s = slot(hash);
        std::uint64_t w = s.word.load(std::memory_order_acquire);
        if (changing(w)) return false;
        const std::uint64_t current = s.owner.load(std::memory_order_relaxed);
        if (current == owner) return true;
        if (current != 0 && now - s.last_seen.load(std::memory_order_relaxed) < kHotKeyIdleMicroseconds)
            return false;
        if (!take(s, w)) return false;
        // The slot is ours (odd generation): no count() can succeed on it
        // and no other claim() can take it until publish().
        const std::uint64_t previous = s.owner.load(std::memory_order_relaxed);
        if (previous != 0) settle(previous, pending(w), s.last_seen.load(std::memory_order_relaxed));
        s.owner.store(owner, std::memory_order_relaxed);
        s.hash.store(hash, std::memory_order_relaxed);
        s.length.store(static_cast<std::uint32_t>(length), std::memory_order_relaxed);
        std::memcpy(s.text, text, length);
        s.last_seen.store(now, std::memory_order_relaxed);
        publish(s, w);
        return true;
    }

    // Move every slot's uncounted connections into its owner's entry.
    template <typename Settle>
    void drain(Settle &&settle) noexcept {
        for (HotKeySlot &s : state_.slots) {
            for (;;) {  // lock-free: a failed swap means a count() succeeded
                std::uint64_t w = s.word.load(std::memory_order_acquire);
                if (changing(w)) break;  // claim() settles the count it takes
                const std::uint64_t owner = s.owner.load(std::memory_order_relaxed);
                const std::int64_t last_seen = s.last_seen.load(std::memory_order_relaxed);
                if (owner == 0) break;
                std::atomic_thread_fence(std::memory_order_acquire);
                if (s.word.compare_exchange_strong(w, w & kGenerationMask, std::memory_order_acq_rel)) {
                    settle(owner, pending(w), last_seen);
                    break;
                }
            }
        }
    }

    // The entry `owner` is about to be removed: empty its slot, settling its
    // uncounted connections first.
    template <typename Settle>
    void release(std::uint64_t hash, std::uint64_t owner, Settle &&settle) noexcept {
        HotKeySlot &s = slot(hash);
        // Must not give up: the entry goes away. Lock-free: a failed take()
        // means a count() succeeded, and no claim() runs (exclusive lock).
        for (;;) {
            std::uint64_t w = s.word.load(std::memory_order_acquire);
            if (changing(w) || s.owner.load(std::memory_order_relaxed) != owner) return;
            if (!take(s, w)) continue;
            settle(owner, pending(w), s.last_seen.load(std::memory_order_relaxed));
            s.owner.store(0, std::memory_order_relaxed);
            s.hash.store(0, std::memory_order_relaxed);
            s.length.store(0, std::memory_order_relaxed);
            publish(s, w);
            return;
        }
    }

private:
    static constexpr std::uint64_t kCountMask = 0xFFFFFFFFu;
    static constexpr std::uint64_t kGenerationMask = ~kCountMask;
    static constexpr std::uint64_t kGenerationStep = std::uint64_t{1} << 32;
    static constexpr int kAttempts = 8;

    HotKeySlot &slot(std::uint64_t hash) noexcept { return state_.slots[hash % kHotKeySlots]; }
    static bool changing(std::uint64_t w) noexcept { return ((w >> 32) & 1u) != 0; }
    static std::uint32_t pending(std::uint64_t w) noexcept { return static_cast<std::uint32_t>(w & kCountMask); }

    // Make the generation odd and take the count: the slot is the caller's
    // until publish(). The fence orders the caller's writes after the take.
    static bool take(HotKeySlot &s, std::uint64_t &w) noexcept {
        if (!s.word.compare_exchange_strong(w, (w & kGenerationMask) + kGenerationStep, std::memory_order_acq_rel))
            return false;
        std::atomic_thread_fence(std::memory_order_release);
        return true;
    }
    static void publish(HotKeySlot &s, std::uint64_t taken) noexcept {
        s.word.store((taken & kGenerationMask) + 2 * kGenerationStep, std::memory_order_release);
    }

    HotKeysState &state_;
};

}  // namespace tls_audit
