#include "scan.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <system_error>
#include <thread>

namespace tls_audit::cli {

void scan_each(const Options &options, const ProbeFn &probe, const EnumerateFn &enumerate,
               const std::function<void(std::size_t, TargetResult &&)> &done) {
    const std::size_t total = options.targets.size();
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < total;) {
            const HostPort &hp = options.targets[i];
            ProbeTarget t;
            t.host = hp.host;
            t.port = hp.port;
            t.sni = options.sni;
            t.timeout_ms = options.timeout_ms;
            t.ca_file = options.ca_file;
            TargetResult r;
            r.target = hp;
            try {
                auto rep = probe(t);
                const bool probed = rep.ok();
                if (probed) r.report = std::move(rep).value();
                else r.error = rep.error();
                if (probed && enumerate) {
                    auto e = enumerate(t);
                    if (e) r.enumeration = std::move(e).value();
                    else r.error = e.error();
                }
            } catch (...) {
                r.error = describe_current_exception();
            }
            std::lock_guard<std::mutex> lock(mu);
            done(i, std::move(r));
        }
    };
    std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(options.jobs), total);
    std::vector<std::thread> threads;
    for (std::size_t k = 1; k < n; ++k) {
        try {
            threads.emplace_back(worker);
        } catch (const std::system_error &) {
            break;  // fewer threads than asked for: the others take up the work
        }
    }
    worker();
    for (auto &t : threads) t.join();
}

std::vector<TargetResult> scan(const Options &options, const ProbeFn &probe, const EnumerateFn &enumerate) {
    std::vector<TargetResult> results(options.targets.size());
    scan_each(options, probe, enumerate, [&](std::size_t i, TargetResult &&r) { results[i] = std::move(r); });
    return results;
}

}  // namespace tls_audit::cli
