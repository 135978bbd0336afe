// TAP (version 13): one test per target, "ok" only for status OK, the
// findings as diagnostics. '#' in a description would start a directive, so
// it is escaped.
#include <sstream>

#include "enumerate.hpp"
#include "format.hpp"
#include "readiness_check.hpp"

namespace tls_audit::cli {

namespace {

// The plaintext and trust-store readiness as TAP comments.
void write_readiness_tap(std::ostringstream &out, const TargetResult &r) {
    auto clean = [](std::string s) {
        for (char &c : s)
            if (c == '\n' || c == '\r') c = ' ';
        return s;
    };
    const Readiness &rd = r.readiness;
    if (rd.plaintext_probed && (rd.plaintext || rd.plaintext_error))
        out << "# plaintext " << clean(plaintext_line(rd)) << "\n";
    for (const auto &b : rd.bundles) out << "# bundle " << clean(bundle_line(b)) << "\n";
}

void write_fleet_tap(std::ostringstream &out, const ReportInput &in) {
    for (const auto &l : fleet_lines(in)) {
        std::string s = l;
        for (char &c : s)
            if (c == '\n' || c == '\r') c = ' ';
        out << "# " << s << "\n";
    }
}

}  // namespace

namespace {

std::string tap_description(const std::string &s) {
    std::string out;
    for (char c : s) {
        if (c == '#') out += "\\#";
        else if (c == '\\') out += "\\\\";
        else if (c == '\n' || c == '\r') out += ' ';
        else out += c;
    }
    return out;
}

std::string one_line(const std::string &s) {
    std::string out = s;
    for (char &c : out)
        if (c == '\n' || c == '\r') c = ' ';
    return out;
}

}  // namespace

std::string format_tap_header(std::size_t targets) {
    return "TAP version 13\n1.." + std::to_string(targets) + "\n";
}

std::string format_tap_target(const TargetResult &r, std::size_t n) {
    std::ostringstream out;
    {
        std::string first;
        for (const auto &f : r.findings)
            if (f.severity == r.status) {
                first = f.message;
                break;
            }
        out << (r.status == Status::Ok ? "ok " : "not ok ") << n << " - "
            << tap_description(target_label(r.target) + " " + status_name(r.status) +
                               (first.empty() ? "" : ": " + first))
            << "\n";
        for (const auto &f : r.findings)
            out << "# " << (f.severity == Status::Ok ? "NOTE" : status_name(f.severity)) << " " << one_line(f.message)
                << "\n";
        if (r.report)
            for (const auto &p : r.report->protocols)
                out << "# " << protocol_name(p.protocol) << " "
                    << (p.accepted ? "accepted " + p.cipher : "refused") << "\n";
        if (std::string direct = direct_tls_text(r); !direct.empty()) out << "# direct TLS " << one_line(direct) << "\n";
        write_readiness_tap(out, r);
        if (r.enumeration) write_enumeration_tap(out, *r.enumeration);
    }
    return out.str();
}

namespace {

// --pooler: one test per pooler after the targets; the clients' TLS as comments.
std::string format_tap_pooler(const PoolerResult &p, std::size_t n) {
    std::ostringstream out;
    std::string first;
    for (const auto &f : p.findings)
        if (f.severity == p.status) {
            first = f.message;
            break;
        }
    out << (p.status == Status::Ok ? "ok " : "not ok ") << n << " - "
        << tap_description("pooler " + p.name + " " + status_name(p.status) + (first.empty() ? "" : ": " + first))
        << "\n";
    for (const auto &f : p.findings)
        out << "# " << (f.severity == Status::Ok ? "NOTE" : status_name(f.severity)) << " " << one_line(f.message)
            << "\n";
    for (const auto &c : p.clients)
        out << "# client " << one_line(c.user + "@" + c.database + " " + c.addr) << " "
            << (c.tls && !c.tls->protocol.empty() ? c.tls->protocol + " " + c.tls->cipher : c.transport) << "\n";
    return out.str();
}

}  // namespace

std::string format_tap(const ReportInput &in) {
    std::string out = format_tap_header(in.results.size() + report_poolers(in).size());
    std::size_t n = 0;
    for (const auto &r : in.results) out += format_tap_target(r, ++n);
    for (const auto &p : report_poolers(in)) out += format_tap_pooler(p, ++n);
    std::ostringstream fleet;  // the fleet's trust-store summary (--ca-file bundles)
    write_fleet_tap(fleet, in);
    return out + fleet.str();
}

}  // namespace tls_audit::cli
