// pg_tls_check --format html: the fleet as one self-contained HTML document,
// one table row per target (status, accepted versions, negotiated protocol
// and cipher, leaf certificate and expiry, profile deviations, findings).
// Shares the report's escaper, CSP head and style sheet (core report_html).
#include <string>

#include "format.hpp"
#include "report_html.hpp"

namespace tls_audit::cli {

namespace {

using report::html_escape;

std::string status_badge(Status s) {
    const char *cls = s == Status::Ok ? "ok" : s == Status::Warning ? "warning" : s == Status::Critical ? "critical"
                                                                                                         : "unknown";
    return std::string("<span class=\"sev sev-") + cls + "\">" + status_name(s) + "</span>";
}

std::string cell(const std::string &html) { return "<td>" + html + "</td>"; }

}  // namespace

std::string format_html(const ReportInput &in) {
    int counts[4] = {0, 0, 0, 0};
    for (const auto &r : in.results) counts[static_cast<int>(r.status)]++;
    std::string h = report::html_head("pg_tls_check fleet report");
    h += "<body>\n<header><h1>pg_tls_check fleet report</h1><p>" + std::to_string(in.results.size()) +
         " targets &middot; generated " + html_escape(report::format_time(in.now)) + "</p></header>\n<main>\n";
    h += "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">";
    for (Status s : {Status::Critical, Status::Warning, Status::Unknown, Status::Ok})
        h += "<div class=\"card\">" + status_badge(s) + "<b>" + std::to_string(counts[static_cast<int>(s)]) +
             "</b></div>";
    h += "</div></section>\n<section id=\"targets\"><h2>Targets</h2><table><thead><tr><th>target</th><th>status</th>"
         "<th>versions accepted</th><th>negotiated</th><th>certificate</th><th>expires</th>"
         "<th>profile deviations</th><th>findings</th></tr></thead><tbody>\n";
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
        std::string findings;
        for (const auto &f : r.findings)
            findings += (findings.empty() ? "" : "<br>") + html_escape(std::string(status_name(f.severity)) + ": " +
                                                                   f.message);
        h += cell(versions) + cell(negotiated) + cell(cert) + cell(expires) + cell(deviations) + cell(findings) +
             "</tr>\n";
    }
    h += "</tbody></table></section>\n</main>\n</body>\n</html>\n";
    return h;
}

}  // namespace tls_audit::cli
