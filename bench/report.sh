#!/usr/bin/env bash
# Size and cost of the audit report (doc/report.md). Out of CI.
#
# 1. Rendering: builds a model of 500 sessions (with their certificate
#    subjects and application names) and a census of 5,000 entries (14 days x
#    protocols, 200 clients not ready: the glue aggregates the census per day
#    and protocol and bounds the lists before rendering), renders HTML and
#    Markdown 20 times, prints the time per report and the size. Targets:
#    under 1 s and under 2 MB.
# 2. With a server (psql reaching a database with pg_tls_audit 1.1, e.g.
#    PGHOST/PGPORT set): times SELECT tls_audit.report() end to end, with
#    whatever sessions and census that server has.
#
#   bench/report.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/bench.cpp" <<'CPP'
#include <chrono>
#include <cstdio>
#include <string>
#include "report/report_html.hpp"
using namespace tls_audit::report;
int main() {
    Model m;
    m.server = "bench"; m.version = "18.6"; m.database = "postgres"; m.extension_version = "1.1";
    m.generated_at = 1'800'000'000;
    const char *checks[] = {"ssl_enabled", "min_protocol", "weak_ciphers", "server_cert_expiry", "hba_hostnossl"};
    for (int i = 0; i < 40; ++i)
        m.findings.push_back({checks[i % 5], i % 3 ? "warning" : "ok", "object " + std::to_string(i),
                              "a finding message that is about as long as the real ones are <" + std::to_string(i) + ">",
                              "a hint with a link https://www.postgresql.org/docs/current/runtime-config-connection.html",
                              {"CIS-PG-16:6.8", "PCI-DSS-4.0:4.2.1"}});
    for (int i = 0; i < 3; ++i)
        m.certificates.push_back({i ? "file" : "served", i, "CN=db.example/O=Bench & Co", "CN=Intermediate",
                                  m.generated_at - 86400 * 100, m.generated_at + 86400 * (30 + 300 * i)});
    for (int i = 0; i < 500; ++i)
        m.sessions.push_back({"user" + std::to_string(i % 50), "db" + std::to_string(i % 5),
                              "<app " + std::to_string(i) + ">", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250),
                              i % 10 ? "TLSv1.3" : "TLSv1.2", "TLS_AES_256_GCM_SHA384",
                              "CN=client " + std::to_string(i) + ",O=Bench & Co"});
    m.sessions_total = 500;
    m.sessions_by_protocol = {{"TLSv1.3 TLS_AES_256_GCM_SHA384", 450}, {"TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384", 50}};
    // 5,000 census entries, aggregated per day and protocol as the glue does.
    const char *protocols[] = {"TLSv1.3", "TLSv1.2", "TLSv1.1", "tcp", "TLS refused"};
    for (int d = 0; d < 14; ++d) {
        CensusPeriod p{"2026-11-" + std::to_string(10 + d), {}};
        for (int k = 0; k < 5; ++k) p.protocols.push_back({protocols[k], 5000 / 14 / (k + 1)});
        m.census.push_back(p);
    }
    m.readiness = {{"TLSv1.2", 5000, 4700, 120}, {"TLSv1.3", 5000, 3900, 400}};
    for (int i = 0; i < 200; ++i)
        m.not_ready.push_back({"TLSv1.3", "user" + std::to_string(i), "legacy <" + std::to_string(i) + ">",
                               "10.1.0." + std::to_string(i), "TLSv1.2", 10 + i});
    std::size_t html_size = 0, md_size = 0;
    const int rounds = 20;
    auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) html_size = render_html(m).size();
    auto t1 = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) md_size = render_markdown(m).size();
    auto t2 = std::chrono::steady_clock::now();
    auto ms = [&](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count() / rounds; };
    std::printf("render html:     %8.2f ms per report, %zu bytes\n", ms(t0, t1), html_size);
    std::printf("render markdown: %8.2f ms per report, %zu bytes\n", ms(t1, t2), md_size);
    return ms(t0, t1) < 1000 && html_size < 2'000'000 ? 0 : 1;
}
CPP
g++ -std=c++17 -O2 -DTLS_AUDIT_PURE_CPP -I"$repo/src/core" "$work/bench.cpp" "$repo/src/core/report/report_html.cpp" -o "$work/bench"
"$work/bench"

if psql -XAtqc "SELECT 1 FROM pg_extension WHERE extname = 'pg_tls_audit'" 2>/dev/null | grep -q 1; then
    echo "server: $(psql -XAtqc "SELECT count(*) FROM tls_audit.sessions") sessions, $(psql -XAtqc "SELECT count(*) FROM tls_audit.census") census entries"
    start=$(date +%s%N)
    size=$(psql -XAtqc "SELECT length(tls_audit.report())")
    end=$(date +%s%N)
    echo "SELECT tls_audit.report(): $(( (end - start) / 1000000 )) ms (psql included), $size bytes"
else
    echo "no server with pg_tls_audit reachable through psql: end-to-end timing skipped"
fi
