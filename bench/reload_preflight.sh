#!/usr/bin/env bash
# Benchmark: the reload pre-flight (run_reload_preflight(), the core of
# tls_audit.reload_preflight() and of the automatic reload) on a 3-certificate
# chain (leaf, intermediate, root) with its key and a CA file: the median and
# the 90th percentile over N runs, in milliseconds. Target: median < 20 ms.
# Also the automatic reload's idle round (observe_files() on unchanged files:
# stat() only, no hashing), in microseconds.
#
#   bench/reload_preflight.sh [RUNS]          (default 200)
#
# Builds the core with CMake (build/, as the unit tests do) and a small driver
# in a temporary directory. Not part of the test suite; needs no cluster.
set -euo pipefail

runs=${1:-200}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/preflight-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake -S "$repo" -B "$repo/build" >/dev/null
cmake --build "$repo/build" --target tls_audit_core -j2 >/dev/null
bash "$repo/test/certs/make-certs.sh" "$work/certs" >/dev/null
cat "$work/certs/server-chain.crt" "$work/certs/root.crt" >"$work/chain3.crt"
cp "$work/certs/server.key" "$work/server.key"
chmod 600 "$work/server.key"

cat >"$work/driver.cpp" <<'CPP'
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <unistd.h>

#include "certs/auto_reload.hpp"
#include "certs/reload_preflight.hpp"

using namespace tls_audit;
using Clock = std::chrono::steady_clock;

static double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(p * (v.size() - 1))];
}

int main(int argc, char **argv) {
    const int runs = std::atoi(argv[1]);
    PreflightSettings s;
    s.cert_file = argv[2];
    s.key_file = argv[3];
    s.ca_file = argv[4];
    s.server_uid = static_cast<std::uint32_t>(geteuid());
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        const auto stages = run_reload_preflight(s);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!preflight_would_succeed(stages)) {
            std::fprintf(stderr, "pre-flight failed: %s\n", preflight_failure(stages).c_str());
            return 1;
        }
    }
    std::printf("reload pre-flight, 3-certificate chain: median %.2f ms, p90 %.2f ms (%d runs)\n",
                percentile(ms, 0.5), percentile(ms, 0.9), runs);

    WatchedSettings w{s.cert_file, s.key_file, s.ca_file, "", ""};
    WatchedState last = observe_files(w, nullptr);
    std::vector<double> us;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        last = observe_files(w, &last);
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::printf("auto-reload idle round (3 files, stat only): median %.1f us, p90 %.1f us\n",
                percentile(us, 0.5), percentile(us, 0.9));
    return 0;
}
CPP
g++ -std=c++17 -O2 -I"$repo/src/core" -DTLS_AUDIT_PURE_CPP "$work/driver.cpp" "$repo/build/libtls_audit_core.a" \
    -lssl -lcrypto -lpthread -o "$work/driver"
"$work/driver" "$runs" "$work/chain3.crt" "$work/server.key" "$work/certs/ca-bundle.crt"
