// The census's hot keys (census/census_hot_keys.hpp): a connection is
// counted in a slot only under its exact key, and no count is lost or
// misattributed when slots change hands while connections count.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "census/census_hot_keys.hpp"

using namespace tls_audit;

namespace {

// An entry of the census hash, as the glue keeps it: a count moved in by settle().
struct FakeEntry {
    std::mutex mutex;
    std::int64_t connections = 0;
    std::int64_t last_seen = 0;
};

std::uint64_t handle(FakeEntry &e) { return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&e)); }

void settle(std::uint64_t owner, std::uint32_t count, std::int64_t last_seen) {
    auto *e = reinterpret_cast<FakeEntry *>(static_cast<std::uintptr_t>(owner));
    std::lock_guard<std::mutex> guard(e->mutex);
    e->connections += count;
    if (last_seen > e->last_seen) e->last_seen = last_seen;
}

struct Fixture {
    std::unique_ptr<HotKeysState> state = std::make_unique<HotKeysState>();
    HotKeys hot{*state};
    Fixture() { HotKeys::init(*state); }
};

}  // namespace

TEST(CensusHotKeysTest, CountsOnlyAKeyThatHoldsASlot) {
    Fixture f;
    FakeEntry alice;
    const std::string key = "alice|postgres|10.0.0.1|tls";
    EXPECT_FALSE(f.hot.count(42, key.data(), key.size(), 100)) << "an empty slot counts nothing";
    ASSERT_TRUE(f.hot.claim(42, key.data(), key.size(), handle(alice), 100, settle));
    EXPECT_TRUE(f.hot.count(42, key.data(), key.size(), 200));
    EXPECT_TRUE(f.hot.count(42, key.data(), key.size(), 150));
    // Same hash and slot, another text: a hash collision is not a match.
    const std::string other = "alice|postgres|10.0.0.2|tls";
    EXPECT_FALSE(f.hot.count(42, other.data(), other.size(), 300));
    EXPECT_FALSE(f.hot.count(42, key.data(), key.size() - 1, 300)) << "a prefix is not the key";
    EXPECT_FALSE(f.hot.count(42 + kHotKeySlots * 7, key.data(), key.size(), 300)) << "same slot, other hash";
    f.hot.drain(settle);
    EXPECT_EQ(alice.connections, 2);
    EXPECT_EQ(alice.last_seen, 200) << "the latest connection, not the last to arrive";
    f.hot.drain(settle);
    EXPECT_EQ(alice.connections, 2) << "a drained count is not moved twice";
}

TEST(CensusHotKeysTest, ABusySlotIsKeptAndAnIdleOneChangesHands) {
    Fixture f;
    FakeEntry alice, bob;
    const std::string a = "alice", b = "bob";
    ASSERT_TRUE(f.hot.claim(7, a.data(), a.size(), handle(alice), 1000, settle));
    ASSERT_TRUE(f.hot.count(7, a.data(), a.size(), 2000));
    EXPECT_FALSE(f.hot.claim(7, b.data(), b.size(), handle(bob), 2000 + kHotKeyIdleMicroseconds - 1, settle))
        << "alice's key is busy";
    EXPECT_TRUE(f.hot.claim(7, b.data(), b.size(), handle(bob), 2000 + kHotKeyIdleMicroseconds, settle));
    EXPECT_EQ(alice.connections, 1) << "the slot's count went to its previous owner";
    EXPECT_FALSE(f.hot.count(7, a.data(), a.size(), 5000000));
    EXPECT_TRUE(f.hot.count(7, b.data(), b.size(), 5000000));
    f.hot.drain(settle);
    EXPECT_EQ(bob.connections, 1);
    EXPECT_EQ(alice.connections, 1);
}

TEST(CensusHotKeysTest, ReleaseSettlesAndEmptiesTheSlot) {
    Fixture f;
    FakeEntry alice, bob;
    const std::string a = "alice";
    ASSERT_TRUE(f.hot.claim(3, a.data(), a.size(), handle(alice), 10, settle));
    ASSERT_TRUE(f.hot.count(3, a.data(), a.size(), 11));
    f.hot.release(3, handle(bob), settle);  // not bob's slot: nothing happens
    EXPECT_TRUE(f.hot.count(3, a.data(), a.size(), 12));
    f.hot.release(3, handle(alice), settle);
    EXPECT_EQ(alice.connections, 2);
    EXPECT_FALSE(f.hot.count(3, a.data(), a.size(), 13)) << "a released key is counted through the hash";
    f.hot.drain(settle);
    EXPECT_EQ(alice.connections, 2);
}

TEST(CensusHotKeysTest, LongKeysAndNullOwnersAreNeverHot) {
    Fixture f;
    FakeEntry alice;
    const std::string longest(kHotKeyTextMax, 'x'), too_long(kHotKeyTextMax + 1, 'x');
    EXPECT_TRUE(f.hot.claim(1, longest.data(), longest.size(), handle(alice), 1, settle));
    EXPECT_TRUE(f.hot.count(1, longest.data(), longest.size(), 2));
    EXPECT_FALSE(f.hot.claim(2, too_long.data(), too_long.size(), handle(alice), 1, settle));
    EXPECT_FALSE(f.hot.count(2, too_long.data(), too_long.size(), 2));
    EXPECT_FALSE(f.hot.claim(4, "k", 1, 0, 1, settle)) << "0 means an empty slot";
}

// Many connections count a few keys whose hashes share slots, while slots
// change hands, readers drain and entries are removed and made again, with
// the census lock's rules: claim and drain under the shared lock, release
// under the exclusive one, count with none. Every connection must be
// counted exactly once, under its own key.
TEST(CensusHotKeysTest, ConcurrentCountsAreExactWhileSlotsChangeHands) {
    Fixture f;
    constexpr int kKeys = 6;
    constexpr int kThreads = 4;
    constexpr int kPerThread = 20000;
    std::shared_mutex lock;
    std::vector<std::unique_ptr<FakeEntry>> entries;  // the live entry of each key
    std::vector<std::int64_t> removed(kKeys, 0);      // counts of entries removed (under the exclusive lock)
    std::vector<std::string> texts;
    for (int k = 0; k < kKeys; ++k) {
        entries.push_back(std::make_unique<FakeEntry>());
        texts.push_back("key-" + std::to_string(k));
    }
    // Three hashes per slot: keys 0, 2, 4 share one slot and 1, 3, 5 another.
    auto hash_of = [](int k) { return static_cast<std::uint64_t>(k % 2) + kHotKeySlots * static_cast<std::uint64_t>(k); };
    std::atomic<std::int64_t> clock{0};
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> hot_counts{0}, claims{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const int k = (i * 7 + t) % kKeys;
                // Now and then the clock jumps: every slot is idle, and the
                // next key counted through the hash takes it over.
                if (i % 100 == 0) clock.fetch_add(kHotKeyIdleMicroseconds);
                const std::int64_t now = clock.fetch_add(1);
                if (f.hot.count(hash_of(k), texts[k].data(), texts[k].size(), now)) {
                    hot_counts++;
                    continue;
                }
                std::shared_lock<std::shared_mutex> guard(lock);
                FakeEntry &e = *entries[k];
                {
                    std::lock_guard<std::mutex> g(e.mutex);
                    e.connections++;
                }
                if (f.hot.claim(hash_of(k), texts[k].data(), texts[k].size(), handle(e), now, settle)) claims++;
            }
        });
    }
    std::thread reader([&] {
        for (int round = 0; round < 2000 && !stop.load(); ++round) {
            {
                std::shared_lock<std::shared_mutex> guard(lock);
                f.hot.drain(settle);
            }
            if (round % 10 == 0) {  // an eviction: one entry removed, made again empty
                std::unique_lock<std::shared_mutex> guard(lock);
                const int k = round / 10 % kKeys;
                f.hot.release(hash_of(k), handle(*entries[k]), settle);
                removed[k] += entries[k]->connections;
                entries[k] = std::make_unique<FakeEntry>();
            }
            std::this_thread::yield();
        }
    });
    for (auto &th : threads) th.join();
    stop = true;
    reader.join();
    f.hot.drain(settle);
    std::int64_t total = 0;
    std::map<int, std::int64_t> per_key;
    for (int k = 0; k < kKeys; ++k) {
        per_key[k] = removed[k] + entries[k]->connections;
        total += per_key[k];
    }
    EXPECT_EQ(total, static_cast<std::int64_t>(kThreads) * kPerThread);
    // Each thread counts key (i*7+t) % 6: per key, the exact expected number.
    std::map<int, std::int64_t> expected;
    for (int t = 0; t < kThreads; ++t)
        for (int i = 0; i < kPerThread; ++i) expected[(i * 7 + t) % kKeys]++;
    for (int k = 0; k < kKeys; ++k) EXPECT_EQ(per_key[k], expected[k]) << "key " << k;
    // Both paths ran, and slots changed hands many times.
    EXPECT_GT(hot_counts.load(), kThreads * kPerThread / 10);
    EXPECT_GT(claims.load(), 100);
}
