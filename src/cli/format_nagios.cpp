// Nagios plugin output: "PG_TLS <STATUS> - <summary> | <perfdata>", then one
// line per target (long output). Perfdata: days left of each leaf with the
// warning and critical thresholds.
#include <map>
#include <sstream>

#include "enumerate.hpp"
#include "format.hpp"
#include "readiness_check.hpp"

namespace tls_audit::cli {

namespace {

// The fleet's trust-store readiness as long-output lines.
void write_fleet_nagios(std::ostringstream &out, const ReportInput &in) {
    for (const auto &l : fleet_lines(in)) {
        std::string s = l;
        for (char &c : s)
            if (c == '|' || c == '\n' || c == '\r') c = ' ';
        out << s << "\n";
    }
}

}  // namespace

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

// Long output with --direct-tls: "; direct TLS accepted|refused|unknown".
std::string direct_tls_suffix(const TargetResult &r) {
    switch (direct_tls_verdict(r)) {
    case DirectTlsVerdict::NotProbed: return {};
    case DirectTlsVerdict::Accepted: return "; direct TLS accepted";
    case DirectTlsVerdict::Refused: return "; direct TLS refused";
    case DirectTlsVerdict::Unknown: return "; direct TLS unknown";
    }
    return {};
}

}  // namespace

std::string target_summary(const TargetResult &r) {
    std::string worst_message;
    for (const auto &f : r.findings)
        if (f.severity == r.status && f.severity != Status::Ok) {
            worst_message = f.message;
            break;
        }
    return target_label(r.target) + " " + status_name(r.status) + (worst_message.empty() ? "" : ": " + worst_message);
}


NagiosLine nagios_line(const TargetResult &r, const ReportInput &in) {
    NagiosLine l;
    l.status = r.status;
    l.summary = clean(target_summary(r));
    l.long_line = clean(target_summary(r) + direct_tls_suffix(r));
    // --direct-tls: 1 accepted, 0 refused (nothing when unknown or not probed).
    DirectTlsVerdict v = direct_tls_verdict(r);
    if (v == DirectTlsVerdict::Accepted || v == DirectTlsVerdict::Refused)
        l.perf_direct = " '" + perf_label(target_label(r.target)) + "_direct_tls'=" +
                        (v == DirectTlsVerdict::Accepted ? "1" : "0");
    if (r.enumeration) l.perf_enumeration = enumeration_perfdata(perf_label(target_label(r.target)), *r.enumeration);
    if (r.report && r.report->chain && !r.report->chain->certificates.empty()) {
        std::int64_t left = days_left(r.report->chain->certificates[0].not_after, in.now);
        l.perf_days = " '" + perf_label(target_label(r.target)) + "_days'=" + std::to_string(left) + ";" +
                  std::to_string(in.options.min_days) + ":;" + std::to_string(in.options.critical_days) + ":";
    }
    return l;
}

std::string format_nagios_lines(const std::vector<NagiosLine> &lines) {
    Status overall = Status::Ok;
    int counts[4] = {0, 0, 0, 0};
    for (const auto &l : lines) {
        overall = worst(overall, l.status);
        ++counts[static_cast<int>(l.status)];
    }
    std::ostringstream summary;
    if (overall == Status::Ok) {
        summary << lines.size() << (lines.size() == 1 ? " target" : " targets") << " OK";
    } else {
        // The targets at the worst status, in input order.
        bool first = true;
        for (const auto &l : lines) {
            if (l.status != overall) continue;
            summary << (first ? "" : "; ") << l.summary;
            first = false;
        }
    }
    std::ostringstream perf;
    perf << "ok=" << counts[0] << " warning=" << counts[1] << " critical=" << counts[2] << " unknown=" << counts[3];
    for (const auto &l : lines) perf << l.perf_enumeration;
    for (const auto &l : lines) perf << l.perf_days;
    for (const auto &l : lines) perf << l.perf_direct;
    std::ostringstream out;
    out << "PG_TLS " << status_name(overall) << " - " << clean(summary.str()) << " | " << perf.str() << "\n";
    for (const auto &l : lines) out << l.long_line << "\n";
    return out.str();
}

namespace {

// --pooler: a line like a target's; perfdata for the served certificate's
// days left and the clients per protocol ("plaintext" without TLS).
NagiosLine nagios_pooler_line(const PoolerResult &p, const ReportInput &in) {
    NagiosLine l;
    l.status = p.status;
    std::string worst_message;
    for (const auto &f : p.findings)
        if (f.severity == p.status) {
            worst_message = f.message;
            break;
        }
    l.summary = clean("pooler " + p.name + " " + status_name(p.status) +
                      (worst_message.empty() ? "" : ": " + worst_message));
    l.long_line = l.summary;
    const std::string label = perf_label("pooler_" + p.name);
    if (p.served && !p.served->certificates.empty())
        l.perf_days = " '" + label + "_days'=" + std::to_string(days_left(p.served->certificates[0].not_after, in.now)) +
                      ";" + std::to_string(in.options.min_days) + ":;" + std::to_string(in.options.critical_days) + ":";
    if (p.facts.config) {
        std::map<std::string, int> by_protocol;
        for (const auto &c : p.clients)
            ++by_protocol[c.tls && !c.tls->protocol.empty() ? c.tls->protocol : c.tls ? "unknown" : "plaintext"];
        for (const auto &[protocol, n] : by_protocol)
            l.perf_enumeration += " '" + label + "_clients_" + perf_label(protocol) + "'=" + std::to_string(n);
    }
    return l;
}

}  // namespace

std::string format_nagios(const ReportInput &in) {
    std::vector<NagiosLine> lines;
    lines.reserve(in.results.size() + report_poolers(in).size());
    for (const auto &r : in.results) lines.push_back(nagios_line(r, in));
    for (const auto &p : report_poolers(in)) lines.push_back(nagios_pooler_line(p, in));
    std::ostringstream fleet;  // the fleet's trust-store summary (--ca-file bundles)
    write_fleet_nagios(fleet, in);
    return format_nagios_lines(lines) + fleet.str();
}

}  // namespace tls_audit::cli
