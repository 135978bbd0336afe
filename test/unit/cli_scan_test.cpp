// pg_tls_check's bounded parallel scan, with a stub in place of the network.

#include <gtest/gtest.h>

#include "scan.hpp"

#include <chrono>
#include <mutex>

using namespace tls_audit;
using namespace tls_audit::cli;

TEST(CliScanTest, BoundedParallelInInputOrder) {
    Options o;
    for (int i = 1; i <= 12; ++i) o.targets.push_back({"h" + std::to_string(i), 5000 + i});
    o.jobs = 4;
    o.timeout_ms = 1234;
    o.sni = "sni.example";
    std::mutex mu;
    int running = 0, peak = 0;
    auto start = std::chrono::steady_clock::now();
    auto results = scan(o, [&](const ProbeTarget &t) -> Expected<TargetReport> {
        {
            std::lock_guard<std::mutex> lock(mu);
            peak = std::max(peak, ++running);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
        {
            std::lock_guard<std::mutex> lock(mu);
            --running;
        }
        EXPECT_EQ(t.timeout_ms, 1234);
        EXPECT_EQ(t.sni, "sni.example");
        if (t.port % 2 == 0) return make_error(sqlstate::kCannotConnect, "down " + t.host);
        TargetReport rep;
        rep.chain_error = t.host;
        return rep;
    });
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    ASSERT_EQ(results.size(), 12u);
    EXPECT_EQ(peak, 4);
    EXPECT_LT(took.count(), 12 * 60 / 2);  // well under serial time
    for (int i = 0; i < 12; ++i) {
        const auto &r = results[static_cast<std::size_t>(i)];
        EXPECT_EQ(r.target.host, "h" + std::to_string(i + 1));
        if (r.target.port % 2 == 0) {
            ASSERT_TRUE(r.error);
            EXPECT_EQ(r.error->message, "down " + r.target.host);
            EXPECT_FALSE(r.report);
        } else {
            ASSERT_TRUE(r.report);
            EXPECT_EQ(r.report->chain_error, r.target.host);
        }
    }
}

TEST(CliScanTest, AThrowingProbeBecomesAnError) {
    Options o;
    o.targets = {{"a", 1}};
    o.jobs = 8;
    auto results = scan(o, [](const ProbeTarget &) -> Expected<TargetReport> { throw std::runtime_error("boom"); });
    ASSERT_EQ(results.size(), 1u);
    ASSERT_TRUE(results[0].error);
    EXPECT_FALSE(results[0].report);
}
