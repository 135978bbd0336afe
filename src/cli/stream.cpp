#include "stream.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace tls_audit::cli {

bool streams(Format f) { return f == Format::Text || f == Format::Tap || f == Format::Nagios; }

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

Status scan_streaming(const Options &options, const ProbeFn &probe, const EnumerateFn &enumerate,
                      const Policy &policy, std::int64_t now, std::ostream &out, const ProgressFn &progress) {
    const std::size_t total = options.targets.size();
    const std::vector<TargetResult> none;
    const ReportInput in{none, options, now};
    Status overall = Status::Ok;
    int counts[4] = {0, 0, 0, 0};
    std::size_t done = 0;
    // Nagios keeps a line per target (its first line needs every status),
    // printed in input order.
    std::vector<NagiosLine> nagios(options.format == Format::Nagios ? total : 0);
    if (options.format == Format::Tap) out << format_tap_header(total) << std::flush;
    scan_each(options, probe, enumerate, [&](std::size_t index, TargetResult &&r) {
        evaluate(r, policy, now);
        overall = worst(overall, r.status);
        ++counts[static_cast<int>(r.status)];
        ++done;
        switch (options.format) {
        case Format::Tap: out << format_tap_target(r, done) << std::flush; break;
        case Format::Nagios: nagios[index] = nagios_line(r, in); break;
        default: out << format_text_target(r, in) << std::flush; break;
        }
        if (progress) progress(done, total);
    });
    if (options.format == Format::Text) out << format_text_summary(total, counts);
    if (options.format == Format::Nagios) out << format_nagios_lines(nagios);
    out << std::flush;
    return overall;
}

}  // namespace tls_audit::cli
