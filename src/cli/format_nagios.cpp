// Nagios plugin output: "PG_TLS <STATUS> - <summary> | <perfdata>", then one
// line per target (long output). Perfdata: days left of each leaf with the
// warning and critical thresholds.
#include <sstream>

#include "enumerate.hpp"
#include "format.hpp"

namespace tls_audit::cli {

namespace {

// Perfdata labels may not contain '=' or quotes.
std::string perf_label(const std::string &s) {
    std::string out;
    for (char c : s) out += (c == '=' || c == '\'' || c == '|' || c == ' ') ? '_' : c;
    return out;
}

std::string clean(const std::string &s) {
    std::string out;
    for (char c : s) out += (c == '|' || c == '\n' || c == '\r') ? ' ' : c;
    return out;
}

std::string target_summary(const TargetResult &r) {
    std::string worst_message;
    for (const auto &f : r.findings)
        if (f.severity == r.status && f.severity != Status::Ok) {
            worst_message = f.message;
            break;
        }
    return target_label(r.target) + " " + status_name(r.status) + (worst_message.empty() ? "" : ": " + worst_message);
}

}  // namespace

std::string format_nagios(const ReportInput &in) {
    Status overall = overall_status(in.results);
    int counts[4] = {0, 0, 0, 0};
    for (const auto &r : in.results) ++counts[static_cast<int>(r.status)];

    std::ostringstream summary;
    if (overall == Status::Ok) {
        summary << in.results.size() << (in.results.size() == 1 ? " target" : " targets") << " OK";
    } else {
        // The targets at the worst status, in input order.
        bool first = true;
        for (const auto &r : in.results) {
            if (r.status != overall) continue;
            summary << (first ? "" : "; ") << target_summary(r);
            first = false;
        }
    }
    std::ostringstream perf;
    perf << "ok=" << counts[0] << " warning=" << counts[1] << " critical=" << counts[2] << " unknown=" << counts[3];
    for (const auto &r : in.results)
        if (r.enumeration) perf << enumeration_perfdata(perf_label(target_label(r.target)), *r.enumeration);
    for (const auto &r : in.results) {
        if (!r.report || !r.report->chain || r.report->chain->certificates.empty()) continue;
        std::int64_t left = days_left(r.report->chain->certificates[0].not_after, in.now);
        perf << " '" << perf_label(target_label(r.target)) << "_days'=" << left << ";" << in.options.min_days << ":;"
             << in.options.critical_days << ":";
    }
    std::ostringstream out;
    out << "PG_TLS " << status_name(overall) << " - " << clean(summary.str()) << " | " << perf.str() << "\n";
    for (const auto &r : in.results) out << clean(target_summary(r)) << "\n";
    return out.str();
}

}  // namespace tls_audit::cli
