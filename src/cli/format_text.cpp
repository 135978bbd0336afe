// Text for a person: one block per target, the verdict first.
#include <sstream>

#include "enumerate.hpp"
#include "format.hpp"
#include "json.hpp"
#include "readiness_check.hpp"

namespace tls_audit::cli {

namespace {

// The plaintext and trust-store readiness of a target, and of the fleet.
void write_readiness_text(std::ostringstream &out, const TargetResult &r) {
    const Readiness &rd = r.readiness;
    if (rd.plaintext_probed && (rd.plaintext || rd.plaintext_error))
        out << "  plaintext   " << plaintext_line(rd) << "\n";
    if (!rd.bundles.empty()) {
        out << "  trust bundles\n";
        for (const auto &b : rd.bundles) out << "    " << bundle_line(b) << "\n";
    }
}

void write_fleet_text(std::ostringstream &out, const ReportInput &in) {
    auto lines = fleet_lines(in);
    if (lines.empty()) return;
    out << "trust-store readiness\n";
    for (const auto &l : lines) out << "  " << l << "\n";
    out << "\n";
}

}  // namespace

namespace {

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

void write_protocols(std::ostringstream &out, const TargetReport &rep) {
    out << "  protocols\n";
    for (const auto &p : rep.protocols) {
        out << "    " << pad(protocol_name(p.protocol), 9);
        if (p.accepted)
            out << "accepted  " << p.cipher << "\n";
        else
            out << "refused   " << p.error << "\n";
    }
}

void write_chain(std::ostringstream &out, const ChainReport &c, const ReportInput &in) {
    out << "  negotiated  " << c.protocol << ", " << c.cipher;
    if (!c.key_exchange_group.empty()) out << ", " << c.key_exchange_group;
    out << "\n  chain\n";
    for (std::size_t i = 0; i < c.certificates.size(); ++i) {
        const CertInfo &ci = c.certificates[i];
        std::int64_t left = days_left(ci.not_after, in.now);
        out << "    " << i << "  " << ci.subject << "\n";
        out << "       issuer " << ci.issuer << "\n";
        out << "       " << ci.key_type;
        if (ci.key_bits > 0) out << " " << ci.key_bits;
        if (!ci.key_curve.empty()) out << " " << ci.key_curve;
        out << ", " << ci.signature_algorithm << ", expires " << iso8601_utc(ci.not_after) << " ("
            << (left < 0 ? std::to_string(-left) + " days ago" : std::to_string(left) + " days left") << ")\n";
    }
    std::string store = in.options.ca_file.empty() ? "system CA store" : in.options.ca_file;
    out << "  verified    " << (c.verified ? "yes" : "no: " + c.verify_error) << " (" << store << ")\n";
    out << "  host name   \"" << c.server_name << "\" " << (c.hostname_match ? "matches" : "does not match")
        << "\n";
}

}  // namespace

std::string format_text_target(const TargetResult &r, const ReportInput &in) {
    std::ostringstream out;
    {
        out << target_label(r.target) << "  " << status_name(r.status) << "\n";
        if (r.report) {
            write_protocols(out, *r.report);
            if (r.report->chain) write_chain(out, *r.report->chain, in);
            if (std::string direct = direct_tls_text(r); !direct.empty()) out << "  direct TLS  " << direct << "\n";
            if (r.enumeration) write_enumeration_text(out, *r.enumeration);
        } else if (r.error) {
            out << "  error       " << r.error->message << "\n";
            if (!r.error->hint.empty()) out << "  hint        " << r.error->hint << "\n";
        }
        write_readiness_text(out, r);
        bool header = false;
        for (const auto &f : r.findings) {
            if (!r.report && f.code == "probe_failed") continue;  // already shown as the error
            if (!header) out << "  findings\n";
            header = true;
            out << "    " << pad(f.severity == Status::Ok ? "NOTE" : status_name(f.severity), 10) << f.message
                << "\n";
        }
        out << "\n";
    }
    return out.str();
}

namespace {

// --pooler: one connection per line, "user@database address:port [app]  TLS".
void write_connections_text(std::ostringstream &out, const char *what, const std::vector<PoolerConnection> &rows,
                            const std::string &error) {
    out << "  " << pad(what, 12) << rows.size() << "\n";
    if (!error.empty()) out << "    error: " << error << "\n";
    for (const PoolerConnection &c : rows) {
        out << "    " << c.user << "@" << c.database << " " << c.addr;
        if (c.port) out << ":" << *c.port;
        if (!c.application_name.empty()) out << " [" << c.application_name << "]";
        out << "  ";
        if (c.tls && !c.tls->protocol.empty()) {
            out << c.tls->protocol << ", " << c.tls->cipher;
            if (!c.tls->key_exchange_group.empty()) out << ", " << c.tls->key_exchange_group;
        } else if (c.tls) {
            out << "TLS handshake unfinished";
        } else if (!c.tls_error.empty()) {
            out << "unknown: " << c.tls_error;
        } else {
            out << (c.transport == "unix" ? "unix socket" : "plaintext");
        }
        out << "\n";
    }
}

std::string format_pooler_text(const PoolerResult &p, const ReportInput &in) {
    std::ostringstream out;
    out << "pooler " << p.name;
    if (!p.address.empty()) out << " (" << p.address << ")";
    out << "  " << status_name(p.status) << "\n";
    if (p.facts.config) {
        write_connections_text(out, "clients", p.clients, p.clients_error);
        write_connections_text(out, "servers", p.servers, p.servers_error);
        out << "  settings\n";
        for (const auto &s : p.settings) out << "    " << s.key << " = '" << s.value << "'\n";
        if (p.served) write_chain(out, *p.served, in);
        else if (!p.facts.cert_error.empty()) out << "  certificate not read: " << p.facts.cert_error << "\n";
    }
    if (!p.findings.empty()) out << "  findings\n";
    for (const auto &f : p.findings)
        out << "    " << pad(f.severity == Status::Ok ? "NOTE" : status_name(f.severity), 10) << f.message << "\n";
    out << "\n";
    return out.str();
}

}  // namespace

std::string format_text_summary(std::size_t targets, const int counts[4]) {
    std::ostringstream out;
    out << targets << (targets == 1 ? " target: " : " targets: ") << counts[0] << " OK, " << counts[1]
        << " WARNING, " << counts[2] << " CRITICAL, " << counts[3] << " UNKNOWN\n";
    return out.str();
}

std::string format_text(const ReportInput &in) {
    std::string out;
    int counts[4] = {0, 0, 0, 0};
    for (const auto &r : in.results) {
        ++counts[static_cast<int>(r.status)];
        out += format_text_target(r, in);
    }
    std::ostringstream fleet;  // the fleet's trust-store summary (--ca-file bundles)
    write_fleet_text(fleet, in);
    std::string poolers;
    int pooler_counts[4] = {0, 0, 0, 0};
    for (const auto &p : report_poolers(in)) {
        ++pooler_counts[static_cast<int>(p.status)];
        poolers += format_pooler_text(p, in);
    }
    std::string summary = in.results.empty() && !report_poolers(in).empty()
                              ? std::string()
                              : format_text_summary(in.results.size(), counts);
    if (!report_poolers(in).empty()) {
        const std::size_t n = report_poolers(in).size();
        std::ostringstream line;
        line << n << (n == 1 ? " pooler: " : " poolers: ") << pooler_counts[0] << " OK, " << pooler_counts[1]
             << " WARNING, " << pooler_counts[2] << " CRITICAL, " << pooler_counts[3] << " UNKNOWN\n";
        summary += line.str();
    }
    return out + poolers + fleet.str() + summary;
}

}  // namespace tls_audit::cli
