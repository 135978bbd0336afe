// The table of the server's own probe connections.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "probe/self_probe.hpp"

using namespace tls_audit;

namespace {
std::unique_ptr<SelfProbeTable> table() {
    auto t = std::make_unique<SelfProbeTable>();
    t->init();
    return t;
}
constexpr std::uint32_t kNow = 1'800'000'000;
}  // namespace

TEST(SelfProbeTest, ConsumedOnceByTheExactPair) {
    auto t = table();
    EXPECT_FALSE(t->consume(40000, 5432, kNow));  // nothing registered
    ASSERT_TRUE(t->add(40000, 5432, kNow));
    EXPECT_FALSE(t->consume(40001, 5432, kNow));  // another client port
    EXPECT_FALSE(t->consume(40000, 5433, kNow));  // another server
    EXPECT_TRUE(t->consume(40000, 5432, kNow + 1));
    EXPECT_FALSE(t->consume(40000, 5432, kNow + 1));  // one connection, skipped once
    EXPECT_EQ(t->skipped(), 1u);
}

TEST(SelfProbeTest, EntriesExpire) {
    auto t = table();
    ASSERT_TRUE(t->add(40000, 5432, kNow));
    EXPECT_FALSE(t->consume(40000, 5432, kNow + kSelfProbeTtl + 1));
    EXPECT_EQ(t->skipped(), 0u);
    // The table fills up (the first entry, live at kNow, holds one slot);
    // expired entries' slots are taken again.
    for (int i = 1; i < kSelfProbeSlots; ++i) ASSERT_TRUE(t->add(static_cast<std::uint16_t>(1000 + i), 5432, kNow));
    EXPECT_FALSE(t->add(9999, 5432, kNow + 1));  // full of live entries
    EXPECT_EQ(t->full(), 1u);
    EXPECT_TRUE(t->add(9999, 5432, kNow + kSelfProbeTtl + 1));  // they expired
    EXPECT_TRUE(t->consume(9999, 5432, kNow + kSelfProbeTtl + 2));
}

TEST(SelfProbeTest, ClockWrapsAround) {
    auto t = table();
    const std::uint32_t near_wrap = 0xFFFFFFFFu - 5;
    ASSERT_TRUE(t->add(1, 2, near_wrap));
    EXPECT_TRUE(t->consume(1, 2, near_wrap + 10));  // wrapped past 0, still within the TTL
}

TEST(SelfProbeTest, ConcurrentAddAndConsume) {
    auto t = table();
    constexpr int kPerThread = 2000;
    std::atomic<int> consumed{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w) {
        threads.emplace_back([&, w] {
            for (int i = 0; i < kPerThread; ++i) {
                const auto port = static_cast<std::uint16_t>(w * kPerThread + i + 1);
                while (!t->add(port, 5432, kNow)) std::this_thread::yield();
                while (!t->consume(port, 5432, kNow)) std::this_thread::yield();
                consumed.fetch_add(1);
            }
        });
    }
    for (auto &th : threads) th.join();
    EXPECT_EQ(consumed.load(), 4 * kPerThread);
    EXPECT_EQ(t->skipped(), static_cast<std::uint64_t>(4 * kPerThread));
}
