// Streaming a fleet: every target once, output as targets finish, at most
// --jobs probes in flight, Nagios in input order.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "stream.hpp"

using namespace tls_audit;
using namespace tls_audit::cli;

namespace {

Options fleet(std::size_t n, int jobs, Format f) {
    Options o;
    for (std::size_t i = 0; i < n; ++i) o.targets.push_back({"127.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1), 5432});
    o.jobs = jobs;
    o.format = f;
    return o;
}

ProbeFn failing_probe(std::atomic<int> &in_flight, std::atomic<int> &max_in_flight) {
    return [&](const ProbeTarget &t) -> Expected<TargetReport> {
        int now = ++in_flight;
        int seen = max_in_flight.load();
        while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        --in_flight;
        return make_error(sqlstate::kCannotConnect, "no server at " + t.host);
    };
}

}  // namespace

TEST(CliStream, EveryTargetOnceBoundedByJobs) {
    Options o = fleet(2000, 8, Format::Tap);
    std::atomic<int> in_flight{0}, max_in_flight{0};
    std::set<std::size_t> seen;
    scan_each(o, failing_probe(in_flight, max_in_flight), {}, [&](std::size_t i, TargetResult &&r) {
        EXPECT_TRUE(seen.insert(i).second);
        EXPECT_EQ(r.target.host, o.targets[i].host);
        EXPECT_TRUE(r.error);
    });
    EXPECT_EQ(seen.size(), 2000u);
    EXPECT_LE(max_in_flight.load(), 8);
    EXPECT_GE(max_in_flight.load(), 2);
}

TEST(CliStream, TapTextNagios) {
    std::atomic<int> in_flight{0}, max_in_flight{0};
    Policy policy;
    for (Format f : {Format::Tap, Format::Text, Format::Nagios}) {
        Options o = fleet(300, 4, f);
        std::ostringstream out;
        std::size_t progress_calls = 0, last_done = 0;
        Status s = scan_streaming(o, failing_probe(in_flight, max_in_flight), {}, policy, 1700000000, out,
                                  [&](std::size_t done, std::size_t total) {
                                      ++progress_calls;
                                      EXPECT_EQ(done, last_done + 1);
                                      last_done = done;
                                      EXPECT_EQ(total, 300u);
                                  });
        EXPECT_EQ(s, Status::Unknown);
        EXPECT_EQ(progress_calls, 300u);
        std::string text = out.str();
        if (f == Format::Tap) {
            EXPECT_EQ(text.rfind("TAP version 13\n1..300\n", 0), 0u);
            EXPECT_NE(text.find("\nnot ok 300 - "), std::string::npos);
            EXPECT_EQ(text.find("\nnot ok 301 - "), std::string::npos);
        } else if (f == Format::Text) {
            EXPECT_NE(text.find("300 targets: 0 OK, 0 WARNING, 0 CRITICAL, 300 UNKNOWN\n"), std::string::npos);
        } else {
            EXPECT_EQ(text.rfind("PG_TLS UNKNOWN - ", 0), 0u);
            EXPECT_NE(text.find("unknown=300"), std::string::npos);
            // Long output in input order.
            EXPECT_LT(text.find("\n127.0.0.1:5432 UNKNOWN"), text.find("\n127.0.0.2:5432 UNKNOWN"));
            EXPECT_LT(text.find("\n127.0.1.1:5432 UNKNOWN"), text.find("\n127.0.1.2:5432 UNKNOWN"));
        }
    }
    EXPECT_TRUE(streams(Format::Text));
    EXPECT_FALSE(streams(Format::Json));
    EXPECT_FALSE(streams(Format::Prometheus));
}
