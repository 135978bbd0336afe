// pg_tls_check --format html: the fleet as one self-contained HTML document,
// one table row per target (status, accepted versions, negotiated protocol
// and cipher, leaf certificate and expiry, profile deviations, findings).
// Shares the report's escaper, CSP head and style sheet (core report_html).
#include <string>

#include <algorithm>
#include <utility>
#include <vector>

#include "format.hpp"
#include "report/report_html.hpp"

namespace tls_audit::cli {

namespace {

using report::html_escape;

std::string status_badge(Status s) {
    const char *cls = s == Status::Ok ? "ok" : s == Status::Warning ? "warning" : s == Status::Critical ? "critical"
                                                                                                         : "unknown";
    return std::string("<span class=\"sev sev-") + cls + "\">" + status_name(s) + "</span>";
}

std::string cell(const std::string &html) { return "<td>" + html + "</td>"; }

// --pooler: one table row per pooler (status, address, clients by protocol,
// the served certificate and its expiry, findings).
std::string poolers_section(const ReportInput &in) {
    if (report_poolers(in).empty()) return {};
    std::string h = "<section id=\"poolers\"><h2>Poolers</h2><table><thead><tr><th>pooler</th><th>status</th>"
                    "<th>admin console</th><th>clients</th><th>certificate</th><th>expires</th><th>findings</th>"
                    "</tr></thead><tbody>\n";
    for (const auto &p : report_poolers(in)) {
        std::vector<std::pair<std::string, int>> by;  // "TLSv1.3" / "plaintext" -> clients, first-seen order
        for (const auto &c : p.clients) {
            const std::string k = c.tls && !c.tls->protocol.empty() ? c.tls->protocol : c.tls ? "TLS (unfinished)" : c.transport == "unix" ? "unix socket" : "plaintext";
            auto it = std::find_if(by.begin(), by.end(), [&](const auto &e) { return e.first == k; });
            if (it == by.end()) by.emplace_back(k, 1);
            else ++it->second;
        }
        std::string clients;
        for (const auto &[k, n] : by) clients += (clients.empty() ? "" : "<br>") + html_escape(k) + ": " + std::to_string(n);
        std::string cert, expires;
        if (p.served && !p.served->certificates.empty()) {
            const auto &leaf = p.served->certificates[0];
            cert = html_escape(leaf.subject);
            expires = html_escape(report::format_time(leaf.not_after).substr(0, 10)) + " (" +
                      std::to_string((leaf.not_after - in.now) / 86400) + " days)";
        } else if (!p.facts.cert_error.empty()) {
            cert = html_escape(p.facts.cert_error);
        }
        std::string findings;
        for (const auto &f : p.findings)
            findings += (findings.empty() ? "" : "<br>") + html_escape(std::string(status_name(f.severity)) + ": " +
                                                                   f.message);
        h += "<tr>" + cell("<code>" + html_escape(p.name) + "</code>") + cell(status_badge(p.status)) +
             cell(html_escape(p.address.empty() ? p.facts.error : p.address)) + cell(clients) + cell(cert) +
             cell(expires) + cell(findings) + "</tr>\n";
    }
    return h + "</tbody></table></section>\n";
}

}  // namespace

std::string format_html(const ReportInput &in) {
    int counts[4] = {0, 0, 0, 0};
    for (const auto &r : in.results) counts[static_cast<int>(r.status)]++;
    for (const auto &p : report_poolers(in)) counts[static_cast<int>(p.status)]++;
    std::string h = report::html_head("pg_tls_check fleet report");
    h += "<body>\n<header><h1>pg_tls_check fleet report</h1><p>" + std::to_string(in.results.size()) +
         " targets &middot; generated " + html_escape(report::format_time(in.now)) + "</p></header>\n<main>\n";
    h += "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">";
    for (Status s : {Status::Critical, Status::Warning, Status::Unknown, Status::Ok})
        h += "<div class=\"card\">" + status_badge(s) + "<b>" + std::to_string(counts[static_cast<int>(s)]) +
             "</b></div>";
    h += "</div></section>\n<section id=\"targets\"><h2>Targets</h2><table><thead><tr><th>target</th><th>status</th>"
         "<th>versions accepted</th><th>negotiated</th><th>certificate</th><th>expires</th>"
         "<th>profile deviations</th><th>plaintext</th><th>CA bundles</th><th>findings</th></tr></thead><tbody>\n";
    for (const auto &r : in.results) {
        h += "<tr>" + cell("<code>" + html_escape(target_label(r.target)) + "</code>") + cell(status_badge(r.status));
        std::string versions, negotiated, cert, expires;
        if (r.report) {
            for (const auto &p : r.report->protocols)
                if (p.accepted) versions += (versions.empty() ? "" : ", ") + html_escape(protocol_name(p.protocol));
            if (r.report->chain) {
                const auto &c = *r.report->chain;
                negotiated = html_escape(c.protocol + " " + c.cipher);
                if (!c.certificates.empty()) {
                    const auto &leaf = c.certificates[0];
                    cert = html_escape(leaf.subject);
                    const std::int64_t left = (leaf.not_after - in.now) / 86400;
                    expires = html_escape(report::format_time(leaf.not_after).substr(0, 10)) + " (" +
                              std::to_string(left) + " days)";
                }
            } else {
                negotiated = html_escape(r.report->chain_error);
            }
        } else if (r.error) {
            negotiated = html_escape(r.error->message);
        }
        std::string deviations;
        if (r.profile) {
            deviations = html_escape(r.profile->profile) + ": " +
                         (r.profile->compliant ? std::string("compliant") : std::string("not compliant"));
            for (const auto &d : r.profile->deviations)
                deviations += "<br>" + html_escape(d.category + " " + d.subject + (d.required ? "" : " (recommended)"));
        }
        // Plaintext acceptance and trust-store readiness (--plaintext,
        // --require-tls, --ca-file): per target, per bundle, as in JSON.
        std::string plaintext;
        const Readiness &rd = r.readiness;
        if (rd.plaintext)
            plaintext = html_escape(std::string(plaintext_verdict_name(rd.plaintext->verdict)) + " (user " +
                                    rd.plaintext->user + ")" +
                                    (rd.plaintext->message.empty() ? "" : ": " + rd.plaintext->message));
        else if (rd.plaintext_error)
            plaintext = html_escape("not probed: " + rd.plaintext_error->message);
        std::string bundles;
        for (const auto &b : rd.bundles) {
            const auto &t = b.report;
            bundles += (bundles.empty() ? "" : "<br>") + html_escape(t.bundle) + (b.required ? "" : " (optional)") +
                       ": " +
                       (t.verified ? "verified, anchor " + html_escape(t.anchor_subject) + " (path " +
                                         std::to_string(t.path_length) + ")"
                                   : "<b>fails</b>: " + html_escape(t.error));
        }
        std::string findings;
        for (const auto &f : r.findings)
            findings += (findings.empty() ? "" : "<br>") + html_escape(std::string(status_name(f.severity)) + ": " +
                                                                   f.message);
        h += cell(versions) + cell(negotiated) + cell(cert) + cell(expires) + cell(deviations) + cell(plaintext) +
             cell(bundles) + cell(findings) + "</tr>\n";
    }
    h += "</tbody></table></section>\n";
    h += poolers_section(in);
    // The fleet's trust summary: which roots the fleet anchors to, and per
    // bundle the targets it fails (a replica on a newer root is one line).
    std::vector<std::pair<std::string, std::vector<std::string>>> fails;  // bundle -> targets, in first-seen order
    std::vector<std::pair<std::string, std::string>> anchors;             // subject, sha256
    for (const auto &r : in.results)
        for (const auto &b : r.readiness.bundles) {
            auto it = std::find_if(fails.begin(), fails.end(), [&](const auto &f) { return f.first == b.report.bundle; });
            if (it == fails.end()) it = fails.insert(fails.end(), {b.report.bundle, {}});
            if (!b.report.verified) it->second.push_back(target_label(r.target));
            if (b.report.verified &&
                std::none_of(anchors.begin(), anchors.end(), [&](const auto &a) { return a.second == b.report.anchor_sha256; }))
                anchors.emplace_back(b.report.anchor_subject, b.report.anchor_sha256);
        }
    if (!fails.empty()) {
        h += "<section id=\"trust\"><h2>Trust stores</h2><p>Roots the fleet anchors to:</p><ul>";
        for (const auto &[subject, sha] : anchors)
            h += "<li>" + html_escape(subject) + " <code>" + html_escape(sha) + "</code></li>";
        h += "</ul><table><thead><tr><th>CA bundle</th><th>fails for</th></tr></thead><tbody>";
        for (const auto &[bundle, targets] : fails) {
            std::string list;
            for (const auto &t : targets) list += (list.empty() ? "" : ", ") + html_escape(t);
            h += "<tr>" + cell("<code>" + html_escape(bundle) + "</code>") +
                 cell(targets.empty() ? std::string("every target verifies") : list) + "</tr>";
        }
        h += "</tbody></table></section>\n";
    }
    h += "</main>\n</body>\n</html>\n";
    return h;
}

}  // namespace tls_audit::cli
