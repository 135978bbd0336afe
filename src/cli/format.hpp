// The four output formats of pg_tls_check. Each takes the evaluated results in
// input order and returns the whole output; none does I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "evaluate.hpp"
#include "options.hpp"
#include "pooler_audit.hpp"

namespace tls_audit::cli {

struct ReportInput {
    const std::vector<TargetResult> &results;
    const Options &options;
    std::int64_t now;  // seconds since the epoch, for days left
    const std::vector<PoolerResult> *poolers = nullptr;  // --pooler; nullptr: none
};

// The poolers of a report (empty for none).
const std::vector<PoolerResult> &report_poolers(const ReportInput &in);
// The worst status over the targets and the poolers: the exit code.
Status report_status(const ReportInput &in);

std::string format_text(const ReportInput &in);
std::string format_json(const ReportInput &in);    // documented in README.md (pg_tls_check, JSON output)
std::string format_tap(const ReportInput &in);     // TAP version 13, one test per target
std::string format_nagios(const ReportInput &in);  // plugin output: status line | perfdata
// node_exporter textfile-collector format (doc/pg_tls_check.md lists the metrics).
std::string format_prometheus(const ReportInput &in);
// One self-contained HTML document (no script, CSP, inline CSS; format_html.cpp).
std::string format_html(const ReportInput &in);
std::string format_report(const ReportInput &in);  // by in.options.format

// The direct TLS answer of a target (--direct-tls; format_direct.cpp).
enum class DirectTlsVerdict { NotProbed, Accepted, Refused, Unknown };
DirectTlsVerdict direct_tls_verdict(const TargetResult &r);
// "accepted  TLSv1.3, <cipher>, ALPN postgresql", "refused   <why>",
// "unknown: <why>"; empty when not probed.
std::string direct_tls_text(const TargetResult &r);
// Pieces for streaming a fleet (stream.hpp): one target at a time.
std::string format_text_target(const TargetResult &r, const ReportInput &in);
std::string format_text_summary(std::size_t targets, const int counts[4]);
std::string format_tap_header(std::size_t targets);
std::string format_tap_target(const TargetResult &r, std::size_t n);  // test number n
// What Nagios output keeps of a target: a few hundred bytes, not the report.
struct NagiosLine {
    Status status = Status::Unknown;
    std::string summary;    // "host:port STATUS: worst finding"
    std::string long_line;  // the summary, with "; direct TLS ..." under --direct-tls
    std::string perf_enumeration;  // this target's perfdata, each item with a leading space
    std::string perf_days;
    std::string perf_direct;  // --direct-tls: '<target>_direct_tls'=1|0
};
NagiosLine nagios_line(const TargetResult &r, const ReportInput &in);
std::string format_nagios_lines(const std::vector<NagiosLine> &lines);

// "host:port" with IPv6 literals in brackets.
std::string target_label(const HostPort &t);

}  // namespace tls_audit::cli
