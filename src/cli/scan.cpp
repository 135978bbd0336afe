#include "scan.hpp"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>

namespace tls_audit::cli {

std::vector<TargetResult> scan(const Options &options, const ProbeFn &probe, const EnumerateFn &enumerate) {
    std::vector<TargetResult> results(options.targets.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < results.size();) {
            const HostPort &hp = options.targets[i];
            ProbeTarget t;
            t.host = hp.host;
            t.port = hp.port;
            t.sni = options.sni;
            t.timeout_ms = options.timeout_ms;
            t.ca_file = options.ca_file;
            TargetResult &r = results[i];
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
        }
    };
    std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(options.jobs), results.size());
    std::vector<std::thread> threads;
    for (std::size_t k = 1; k < n; ++k) {
        try {
            threads.emplace_back(worker);
        } catch (const std::system_error &) {
            break;  // fewer threads than asked for: the others take up the work
        }
    }
    worker();  // the calling thread works too
    for (auto &t : threads) t.join();
    return results;
}

}  // namespace tls_audit::cli
