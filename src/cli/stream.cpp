#include "stream.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace tls_audit::cli {

bool streams(Format f) { return f == Format::Text || f == Format::Tap || f == Format::Nagios; }

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
