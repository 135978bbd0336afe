// Prometheus text exposition format for node_exporter's textfile collector:
// one HELP/TYPE block per metric, then its samples for every target. Metric
// names start with tls_audit_probe_ (the extension's own are tls_audit_*).
#include <array>
#include <iomanip>
#include <map>
#include <sstream>

#include "format.hpp"
#include "report/report_html.hpp"

namespace tls_audit::cli {

namespace {

// A label value: bidirectional controls made visible (report's
// show_bidi_controls(): "\u202E"), then backslash, double quote and newline
// escaped as the text format wants.
std::string label_value(const std::string &s) {
    std::string out;
    for (char c : report::show_bidi_controls(s)) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

class Family {
  public:
    Family(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}
    void add(const Labels &labels, double value) {
        std::ostringstream s;
        s << name_;
        if (!labels.empty()) {
            s << "{";
            for (std::size_t i = 0; i < labels.size(); ++i)
                s << (i ? "," : "") << labels[i].first << "=\"" << label_value(labels[i].second) << "\"";
            s << "}";
        }
        // Integral values exactly (epoch seconds must not become 1.7e+09).
        if (value == static_cast<double>(static_cast<long long>(value))) s << " " << static_cast<long long>(value) << "\n";
        else s << " " << std::setprecision(17) << value << "\n";
        samples_ += s.str();
    }
    void write(std::ostringstream &out) const {
        if (samples_.empty()) return;
        out << "# HELP " << name_ << " " << help_ << "\n# TYPE " << name_ << " gauge\n" << samples_;
    }

  private:
    std::string name_, help_, samples_;
};

}  // namespace

std::string format_prometheus(const ReportInput &in) {
    Family up("tls_audit_probe_up", "Whether pg_tls_check could probe the target (1) or not (0)");
    Family status("tls_audit_probe_status", "Status of the target: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN");
    Family accepted("tls_audit_probe_protocol_accepted", "Whether the server accepts this TLS version (1) or not (0)");
    Family expiry("tls_audit_probe_certificate_expiry_seconds",
                  "Seconds until the presented certificate at this chain position expires; negative once expired");
    Family verified("tls_audit_probe_certificate_verified",
                    "Whether the presented chain verifies against the CA file or the system store");
    Family hostname("tls_audit_probe_hostname_match", "Whether the server certificate matches the name");
    Family suites("tls_audit_probe_cipher_suites", "Accepted cipher suites per version and strength (--enumerate)");
    Family suite("tls_audit_probe_cipher_suite_accepted", "An accepted cipher suite (--enumerate)");
    Family preference("tls_audit_probe_server_preference",
                      "Whether the server enforces its own cipher order for this version (--enumerate)");
    Family group("tls_audit_probe_group_supported", "Whether the server supports this key-exchange group (--enumerate; groups whose answer is unknown have no sample)");
    Family dhe("tls_audit_probe_dhe_bits", "Size in bits of the server's DHE group, 0 without DHE (--enumerate)");
    Family compliant("tls_audit_probe_profile_compliant",
                     "Whether the server complies with the Mozilla profile (--profile)");
    Family deviations("tls_audit_probe_profile_deviations", "Required deviations from the Mozilla profile (--profile)");
    Family targets("tls_audit_probe_targets", "Targets probed in this run, by status");
    Family last_run("tls_audit_probe_last_run_timestamp_seconds", "When this run of pg_tls_check finished its probes");

    std::map<std::string, int> counts{{"OK", 0}, {"WARNING", 0}, {"CRITICAL", 0}, {"UNKNOWN", 0}};
    for (const auto &r : in.results) {
        const std::string t = target_label(r.target);
        ++counts[status_name(r.status)];
        up.add({{"target", t}}, r.report ? 1 : 0);
        status.add({{"target", t}}, static_cast<int>(r.status));
        if (r.report) {
            for (const auto &p : r.report->protocols)
                accepted.add({{"target", t}, {"protocol", protocol_name(p.protocol)}}, p.accepted ? 1 : 0);
            if (const auto &c = r.report->chain) {
                for (std::size_t i = 0; i < c->certificates.size(); ++i)
                    expiry.add({{"target", t}, {"position", std::to_string(i)}, {"subject", c->certificates[i].subject}},
                               static_cast<double>(c->certificates[i].not_after - in.now));
                verified.add({{"target", t}}, c->verified ? 1 : 0);
                hostname.add({{"target", t}}, c->hostname_match ? 1 : 0);
            }
        }
        if (const auto &e = r.enumeration) {
            for (const auto &p : e->ciphers.protocols) {
                const std::string v = protocol_name(p.protocol);
                int n[3] = {0, 0, 0};
                for (const auto &s : p.suites) {
                    ++n[static_cast<int>(s.strength)];
                    suite.add({{"target", t}, {"protocol", v}, {"cipher", s.facts.name},
                               {"strength", cipher_strength_name(s.strength)}},
                              1);
                }
                for (CipherStrength k : {CipherStrength::Strong, CipherStrength::Weak, CipherStrength::Insecure})
                    suites.add({{"target", t}, {"protocol", v}, {"strength", cipher_strength_name(k)}},
                               n[static_cast<int>(k)]);
                if (p.server_preference) preference.add({{"target", t}, {"protocol", v}}, *p.server_preference ? 1 : 0);
            }
            for (const auto &g : e->groups.groups)
                // Only known answers: an undetermined group (TLS 1.2 behind an
                // ECDSA certificate) or one this OpenSSL cannot offer is no 0.
                if (g.status == GroupStatus::Supported || g.status == GroupStatus::NotSupported)
                    group.add({{"target", t}, {"protocol", protocol_name(g.protocol)}, {"group", g.group}},
                          g.supported ? 1 : 0);
            dhe.add({{"target", t}}, e->groups.dhe_accepted ? e->groups.dhe_bits : 0);
        }
        if (const auto &p = r.profile) {
            int required = 0;
            for (const auto &d : p->deviations) required += d.required ? 1 : 0;
            compliant.add({{"target", t}, {"profile", p->profile}}, p->compliant ? 1 : 0);
            deviations.add({{"target", t}, {"profile", p->profile}}, required);
        }
    }
    for (const auto &[name, n] : counts) targets.add({{"status", name}}, n);
    // --pooler: the admin console's answer, per pooler.
    Family pooler_up("tls_audit_probe_pooler_up", "Whether pg_tls_check could read the pooler's admin console (1) or not (0)");
    Family pooler_status("tls_audit_probe_pooler_status", "Status of the pooler: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN");
    Family pooler_connections("tls_audit_probe_pooler_connections",
                              "Connections of the pooler by leg (client: SHOW CLIENTS, server: SHOW SERVERS), "
                              "transport, protocol and cipher (empty without TLS)");
    Family pooler_expiry("tls_audit_probe_pooler_certificate_expiry_seconds",
                         "Seconds until the certificate the pooler serves at this chain position expires");
    for (const auto &p : report_poolers(in)) {
        pooler_up.add({{"pooler", p.name}}, p.facts.config ? 1 : 0);
        pooler_status.add({{"pooler", p.name}}, static_cast<int>(p.status));
        for (const auto &[leg, rows] : {std::pair<const char *, const std::vector<PoolerConnection> *>{"client", &p.clients},
                                        {"server", &p.servers}}) {
            std::map<std::array<std::string, 3>, int> by;
            for (const auto &c : *rows)
                ++by[{c.transport, c.tls ? c.tls->protocol : std::string(), c.tls ? c.tls->cipher : std::string()}];
            for (const auto &[k, n] : by)
                pooler_connections.add(
                    {{"pooler", p.name}, {"leg", leg}, {"transport", k[0]}, {"protocol", k[1]}, {"cipher", k[2]}}, n);
        }
        if (p.served)
            for (std::size_t i = 0; i < p.served->certificates.size(); ++i)
                pooler_expiry.add({{"pooler", p.name}, {"position", std::to_string(i)},
                                   {"subject", p.served->certificates[i].subject}},
                                  static_cast<double>(p.served->certificates[i].not_after - in.now));
    }
    last_run.add({}, static_cast<double>(in.now));

    std::ostringstream out;
    for (const Family *f : {&up, &status, &accepted, &expiry, &verified, &hostname, &suites, &suite, &preference,
                            &group, &dhe, &compliant, &deviations, &targets, &pooler_up, &pooler_status,
                            &pooler_connections, &pooler_expiry, &last_run})
        f->write(out);
    return out.str();
}

}  // namespace tls_audit::cli
