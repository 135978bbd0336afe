#include "report/report_html.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

namespace tls_audit::report {

namespace {

constexpr const char *kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + len > text.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;  // overlong / range
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;                                               // surrogates
    if (cp >= 0x80 && cp <= 0x9F) return 0;                                                    // C1 controls
    return len;
}

// The code point of the bidirectional control at text[i] (3 bytes, E2 80 xx
// or E2 81 xx), or 0.
std::uint32_t bidi_control_at(std::string_view text, std::size_t i) {
    if (i + 3 > text.size() || static_cast<unsigned char>(text[i]) != 0xE2) return 0;
    const auto b1 = static_cast<unsigned char>(text[i + 1]), b2 = static_cast<unsigned char>(text[i + 2]);
    const std::uint32_t cp = 0x2000u | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
    if ((b1 != 0x80 && b1 != 0x81) || (b2 & 0xC0) != 0x80) return 0;
    const bool bidi = cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    return bidi ? cp : 0;
}

}  // namespace

std::string show_bidi_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (const std::uint32_t cp = bidi_control_at(text, i)) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
            out += buf;
            i += 3;
        } else {
            out += text[i++];
        }
    }
    return out;
}

std::string sanitize_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t len = utf8_sequence(text, i);
        if (len == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (len == 1 && ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F))
            out += kReplacement;
        else if (len == 3 && bidi_control_at(text, i) != 0)
            out += show_bidi_controls(text.substr(i, len));
        else
            out.append(text.substr(i, len));
        i += len;
    }
    return out;
}

std::string html_escape(std::string_view text) {
    const std::string clean = sanitize_utf8(text);
    std::string out;
    out.reserve(clean.size() + clean.size() / 8);
    for (char ch : clean) {
        switch (ch) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#x27;"; break;
        default: out += ch;
        }
    }
    return out;
}

std::string markdown_escape(std::string_view text) {
    const std::string clean = sanitize_utf8(text);
    std::string out;
    out.reserve(clean.size() + 8);
    for (char ch : clean) {
        switch (ch) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '#': case '!': case '~':
        case '(': case ')': case '{': case '}':
            out += '\\';
            out += ch;
            break;
        case '\n': case '\r': case '\t': out += ' '; break;
        default: out += ch;
        }
    }
    return out;
}

std::string format_time(std::int64_t epoch_seconds) {
    const std::time_t t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) return "?";
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

namespace {

int severity_rank(std::string_view s) {
    if (s == "critical") return 3;
    if (s == "warning") return 2;
    if (s == "info") return 1;
    return 0;
}
constexpr std::array<const char *, 4> kSeverities = {"critical", "warning", "info", "ok"};

std::string num(std::int64_t v) { return std::to_string(v); }

// Series colours: distinguishable, readable on white.
constexpr std::array<const char *, 8> kColours = {"#1b7837", "#5aae61", "#f1a340", "#d73027",
                                                   "#4575b4", "#984ea3", "#8c510a", "#999999"};

}  // namespace

std::string worst_severity(const std::vector<Finding> &findings) {
    int worst = 0;
    for (const auto &f : findings) worst = std::max(worst, severity_rank(f.severity));
    return kSeverities[3 - worst];
}

const char *report_css() {
    return "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1a1a1a;"
           "background:#fff;line-height:1.4}"
           "header{background:#23395d;color:#fff;padding:16px 32px}header h1{margin:0;font-size:1.6em}"
           "header p{margin:4px 0 0}main{padding:8px 32px 32px}"
           "h2{border-bottom:2px solid #23395d;padding-bottom:4px;margin-top:32px}"
           "table{border-collapse:collapse;width:100%;margin:8px 0;font-size:.92em}"
           "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
           "th{background:#eef1f6}tr:nth-child(even) td{background:#fafafa}"
           ".sev{display:inline-block;padding:1px 8px;border-radius:8px;color:#fff;font-weight:600;"
           "font-size:.85em}"
           ".sev-critical{background:#b2182b}.sev-warning{background:#d6604d;}.sev-info{background:#4393c3}"
           ".sev-ok{background:#1b7837}.sev-pass{background:#1b7837}.sev-fail{background:#b2182b}"
           ".sev-unknown{background:#777}"
           ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}"
           ".card{border:1px solid #ccc;border-radius:6px;padding:8px 16px;min-width:110px}"
           ".card b{display:block;font-size:1.6em}.muted{color:#666}.ctl{font-family:monospace;font-size:.85em}"
           "code{font-family:monospace}svg text{font-family:system-ui,sans-serif;font-size:12px}"
           "@media print{header{background:#fff;color:#000}}";
}

std::string html_head(std::string_view title) {
    std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                    "style-src 'unsafe-inline'; img-src data:\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
    h += html_escape(title);
    h += "</title>\n<style>";
    h += report_css();
    h += "</style>\n</head>\n";
    return h;
}

std::string svg_bar_chart(const std::vector<std::string> &series, const std::vector<BarRow> &rows) {
    constexpr int kLabelWidth = 220, kBarWidth = 640, kRowHeight = 22, kLegendHeight = 24;
    std::int64_t max_total = 0;
    for (const auto &r : rows) {
        std::int64_t t = 0;
        for (auto v : r.values) t += std::max<std::int64_t>(v, 0);
        max_total = std::max(max_total, t);
    }
    const int height = kLegendHeight + static_cast<int>(rows.size()) * kRowHeight + 8;
    const int width = kLabelWidth + kBarWidth + 80;
    std::string s = "<svg role=\"img\" width=\"" + num(width) +
                    "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) + "\">";
    // Legend.
    int x = 0;
    for (std::size_t i = 0; i < series.size(); ++i) {
        s += "<rect x=\"" + num(x) + "\" y=\"4\" width=\"12\" height=\"12\" fill=\"" +
             kColours[i % kColours.size()] + "\"/>";
        s += "<text x=\"" + num(x + 16) + "\" y=\"15\">" + html_escape(series[i]) + "</text>";
        x += 16 + 8 * static_cast<int>(std::min<std::size_t>(series[i].size(), 30)) + 16;
    }
    int y = kLegendHeight;
    for (const auto &r : rows) {
        s += "<text x=\"" + num(kLabelWidth - 6) + "\" y=\"" + num(y + 15) + "\" text-anchor=\"end\">" +
             html_escape(r.label.size() > 32 ? r.label.substr(0, 31) + "\xE2\x80\xA6" : r.label) + "</text>";
        double bx = kLabelWidth;
        std::int64_t total = 0;
        for (std::size_t i = 0; i < r.values.size(); ++i) {
            const std::int64_t v = std::max<std::int64_t>(r.values[i], 0);
            total += v;
            if (v == 0 || max_total == 0) continue;
            const double w = static_cast<double>(v) * kBarWidth / static_cast<double>(max_total);
            char rect[200];
            std::snprintf(rect, sizeof rect,
                          "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>", bx, y + 3,
                          std::max(w, 0.5), kRowHeight - 6, kColours[i % kColours.size()]);
            s += rect;
            s += html_escape(i < series.size() ? series[i] : std::string("?")) + ": " + num(v) + "</title></rect>";
            bx += w;
        }
        s += "<text x=\"" + num(static_cast<int>(bx) + 6) + "\" y=\"" + num(y + 15) + "\">" + num(total) + "</text>";
        y += kRowHeight;
    }
    s += "</svg>";
    return s;
}

namespace {

std::string badge(std::string_view severity) {
    std::string cls = severity_rank(severity) > 0 || severity == "ok" ? std::string(severity) : "unknown";
    return "<span class=\"sev sev-" + html_escape(cls) + "\">" + html_escape(severity) + "</span>";
}

std::string join_controls(const std::vector<std::string> &ids, std::string (*escape)(std::string_view)) {
    std::string out;
    for (const auto &id : ids) {
        if (!out.empty()) out += ", ";
        out += escape(id);
    }
    return out;
}

// Findings sorted worst first, stable within a severity.
std::vector<const Finding *> by_severity(const std::vector<Finding> &findings) {
    std::vector<const Finding *> sorted;
    sorted.reserve(findings.size());
    for (const auto &f : findings) sorted.push_back(&f);
    std::stable_sort(sorted.begin(), sorted.end(), [](const Finding *a, const Finding *b) {
        return severity_rank(a->severity) > severity_rank(b->severity);
    });
    return sorted;
}

std::array<std::int64_t, 4> severity_counts(const std::vector<Finding> &findings) {
    std::array<std::int64_t, 4> counts{};
    for (const auto &f : findings) counts[3 - severity_rank(f.severity)]++;
    return counts;
}

// The expiry timeline: one bar per certificate from not_before to not_after
// on a common time axis, with a line at "now".
std::string svg_timeline(const std::vector<Certificate> &certs, std::int64_t now) {
    if (certs.empty()) return {};
    std::int64_t lo = now, hi = now;
    for (const auto &c : certs) {
        lo = std::min(lo, c.not_before);
        hi = std::max(hi, c.not_after);
    }
    if (hi <= lo) hi = lo + 1;
    constexpr int kLabel = 260, kWidth = 600, kRow = 24;
    const int height = 30 + static_cast<int>(certs.size()) * kRow;
    const auto xpos = [&](std::int64_t t) {
        return kLabel + static_cast<double>(t - lo) * kWidth / static_cast<double>(hi - lo);
    };
    std::string s = "<svg role=\"img\" width=\"" + num(kLabel + kWidth + 20) +
                    "\" height=\"" + num(height) + "\">";
    int y = 4;
    char buf[256];
    for (const auto &c : certs) {
        const bool expired = c.not_after <= now;
        const bool soon = !expired && c.not_after - now < 30 * 86400;
        const char *colour = expired ? "#b2182b" : soon ? "#f1a340" : "#4575b4";
        std::string label = c.source + " #" + num(c.position) + " " + c.subject;
        if (label.size() > 40) {
            // Cut on a character boundary (label[cut] must not continue one).
            std::size_t cut = 39;
            while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
            label.resize(cut);
            label += "\xE2\x80\xA6";
        }
        s += "<text x=\"" + num(kLabel - 6) + "\" y=\"" + num(y + 14) + "\" text-anchor=\"end\">" +
             html_escape(label) + "</text>";
        const double x0 = xpos(c.not_before), x1 = xpos(c.not_after);
        std::snprintf(buf, sizeof buf, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"><title>", x0,
                      y + 2, std::max(x1 - x0, 1.0), colour);
        s += buf;
        s += html_escape(c.subject) + ": " + format_time(c.not_before) + " to " + format_time(c.not_after) +
             "</title></rect>";
        y += kRow;
    }
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>",
                  xpos(now), xpos(now), y);
    s += buf;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%d\">now</text>", xpos(now) + 3, y + 16);
    s += buf;
    s += "<text x=\"" + num(kLabel) + "\" y=\"" + num(y + 16) + "\">" + format_time(lo).substr(0, 10) +
         "</text><text x=\"" + num(kLabel + kWidth) + "\" y=\"" + num(y + 16) + "\" text-anchor=\"end\">" +
         format_time(hi).substr(0, 10) + "</text>";
    s += "</svg>";
    return s;
}

// The protocols seen in the census, in a stable order (TLS versions first).
std::vector<std::string> census_series(const std::vector<CensusPeriod> &census) {
    std::set<std::string> names;
    for (const auto &p : census)
        for (const auto &c : p.protocols) names.insert(c.label);
    std::vector<std::string> series(names.rbegin(), names.rend());
    return series;
}

std::vector<BarRow> census_rows(const std::vector<CensusPeriod> &census, const std::vector<std::string> &series) {
    std::vector<BarRow> rows;
    for (const auto &p : census) {
        BarRow r{p.label, std::vector<std::int64_t>(series.size(), 0)};
        for (const auto &c : p.protocols) {
            auto it = std::find(series.begin(), series.end(), c.label);
            if (it != series.end()) r.values[static_cast<std::size_t>(it - series.begin())] += c.count;
        }
        rows.push_back(std::move(r));
    }
    return rows;
}

// Sessions counted but not listed (the list is cut at max_sessions).
std::int64_t not_listed(const Model &m) {
    const auto listed = static_cast<std::int64_t>(std::min(m.sessions.size(), m.max_sessions));
    return std::max(m.sessions_total, static_cast<std::int64_t>(m.sessions.size())) - listed;
}

std::string html_cell(std::string_view text) { return "<td>" + html_escape(text) + "</td>"; }

}  // namespace

std::string render_html(const Model &m) {
    std::string h = html_head(m.title + (m.server.empty() ? "" : " - " + m.server));
    h.reserve(64 * 1024);
    h += "<body>\n<header><h1>" + html_escape(m.title) + "</h1><p>Server <b>" + html_escape(m.server) +
         "</b> &middot; PostgreSQL " + html_escape(m.version) + " &middot; database " + html_escape(m.database) +
         " &middot; pg_tls_audit " + html_escape(m.extension_version) + " &middot; generated " +
         html_escape(format_time(m.generated_at)) + "</p></header>\n<main>\n";

    // Posture summary.
    const auto counts = severity_counts(m.findings);
    const std::string worst = worst_severity(m.findings);
    h += "<section id=\"summary\"><h2>Posture summary</h2><div class=\"cards\">";
    h += "<div class=\"card\"><span class=\"muted\">worst severity</span><b>" + badge(worst) + "</b></div>";
    for (std::size_t i = 0; i < kSeverities.size(); ++i)
        h += "<div class=\"card\"><span class=\"muted\">" + std::string(kSeverities[i]) + "</span><b id=\"count-" +
             kSeverities[i] + "\">" + num(counts[i]) + "</b></div>";
    h += "</div></section>\n";

    // Findings grouped by severity.
    h += "<section id=\"findings\"><h2>Findings</h2>";
    for (const char *sev : kSeverities) {
        std::string rows;
        for (const Finding *f : by_severity(m.findings)) {
            if (f->severity != sev) continue;
            rows += "<tr><td><code>" + html_escape(f->check) + "</code></td>" + html_cell(f->object) +
                    html_cell(f->message) + html_cell(f->hint) + "<td class=\"ctl\">" +
                    join_controls(f->controls, html_escape) + "</td></tr>\n";
        }
        if (rows.empty()) continue;
        h += "<h3>" + badge(sev) + "</h3><table><thead><tr><th>check</th><th>object</th><th>finding</th>"
             "<th>how to fix</th><th>controls</th></tr></thead><tbody>\n" +
             rows + "</tbody></table>\n";
    }
    if (m.findings.empty()) h += "<p class=\"muted\">No findings.</p>";
    h += "</section>\n";

    // Certificates.
    h += "<section id=\"certificates\"><h2>Server certificate chain</h2>";
    if (m.certificates.empty()) {
        h += "<p class=\"muted\">No certificate read.</p>";
    } else {
        h += "<table><thead><tr><th>source</th><th>position</th><th>subject</th><th>issuer</th><th>not before</th>"
             "<th>not after</th><th>days left</th></tr></thead><tbody>\n";
        for (const auto &c : m.certificates)
            h += "<tr>" + html_cell(c.source) + html_cell(num(c.position)) + html_cell(c.subject) +
                 html_cell(c.issuer) + html_cell(format_time(c.not_before)) + html_cell(format_time(c.not_after)) +
                 html_cell(num((c.not_after - m.generated_at) / 86400)) + "</tr>\n";
        h += "</tbody></table><p class=\"muted\">Expiry timeline (served and on disk):</p>" +
             svg_timeline(m.certificates, m.generated_at);
    }
    h += "</section>\n";

    // Sessions now.
    h += "<section id=\"sessions\"><h2>Sessions now</h2><p>" + num(m.sessions_total) + " sessions.</p>";
    if (!m.sessions_by_protocol.empty()) {
        std::vector<BarRow> rows;
        for (const auto &c : m.sessions_by_protocol) rows.push_back({c.label, {c.count}});
        h += svg_bar_chart({"sessions"}, rows);
    }
    if (!m.sessions.empty()) {
        h += "<table><thead><tr><th>user</th><th>database</th><th>application</th><th>client</th><th>protocol</th>"
             "<th>cipher</th><th>key exchange</th><th>client certificate</th></tr></thead><tbody>\n";
        std::size_t shown = 0;
        for (const auto &s : m.sessions) {
            if (shown++ == m.max_sessions) break;
            h += "<tr>" + html_cell(s.user) + html_cell(s.database) + html_cell(s.application_name) +
                 html_cell(s.client_addr) + html_cell(s.protocol) + html_cell(s.cipher) + html_cell(s.key_exchange_group) +
                 html_cell(s.client_subject) +
                 "</tr>\n";
        }
        h += "</tbody></table>";
        if (const std::int64_t more = not_listed(m); more > 0)
            h += "<p class=\"muted\">" + num(more) + " more sessions not listed.</p>";
    }
    h += "</section>\n";

    // Census.
    h += "<section id=\"census\"><h2>Connection census</h2>";
    if (m.census.empty()) {
        h += "<p class=\"muted\">No census entries.</p>";
    } else {
        const auto series = census_series(m.census);
        h += "<p>Connections per protocol, by day last seen:</p>" + svg_bar_chart(series, census_rows(m.census, series));
    }
    if (!m.readiness.empty()) {
        h += "<h3>Floor readiness</h3><table><thead><tr><th>floor</th><th>connections</th><th>ready</th>"
             "<th>clients not ready</th></tr></thead><tbody>\n";
        std::vector<BarRow> rows;
        for (const auto &r : m.readiness) {
            h += "<tr>" + html_cell(r.target) + html_cell(num(r.connections_total)) +
                 html_cell(num(r.connections_ready)) + html_cell(num(r.clients_not_ready)) + "</tr>\n";
            rows.push_back({r.target, {r.connections_ready, r.connections_total - r.connections_ready}});
        }
        h += "</tbody></table>" + svg_bar_chart({"ready", "would be refused"}, rows);
    }
    if (!m.not_ready.empty()) {
        h += "<h3>Clients not ready</h3><table><thead><tr><th>floor</th><th>user</th><th>application</th>"
             "<th>client</th><th>protocol</th><th>connections</th></tr></thead><tbody>\n";
        std::size_t shown = 0;
        for (const auto &c : m.not_ready) {
            if (shown++ == m.max_not_ready) break;
            h += "<tr>" + html_cell(c.target) + html_cell(c.user) + html_cell(c.application_name) +
                 html_cell(c.client_addr) + html_cell(c.protocol) + html_cell(num(c.connections)) + "</tr>\n";
        }
        h += "</tbody></table>";
    }
    h += "</section>\n";

    // pg_hba analysis: the hba findings.
    std::string hba;
    for (const Finding *f : by_severity(m.findings))
        if (f->check.rfind("hba_", 0) == 0)
            hba += "<tr>" + html_cell(f->check) + "<td>" + badge(f->severity) + "</td>" + html_cell(f->object) +
                   html_cell(f->message) + "</tr>\n";
    if (!hba.empty())
        h += "<section id=\"hba\"><h2>pg_hba.conf analysis</h2><table><thead><tr><th>check</th><th>severity</th>"
             "<th>line</th><th>finding</th></tr></thead><tbody>\n" +
             hba + "</tbody></table></section>\n";

    // Outbound links (findings of the outbound_* checks, when present).
    std::string outbound;
    for (const Finding *f : by_severity(m.findings))
        if (f->check.rfind("outbound_", 0) == 0)
            outbound += "<tr>" + html_cell(f->check) + "<td>" + badge(f->severity) + "</td>" + html_cell(f->object) +
                        html_cell(f->message) + "</tr>\n";
    if (!outbound.empty())
        h += "<section id=\"outbound\"><h2>Outbound links</h2><table><thead><tr><th>check</th><th>severity</th>"
             "<th>link</th><th>finding</th></tr></thead><tbody>\n" +
             outbound + "</tbody></table></section>\n";

    if (!m.unavailable.empty()) {
        h += "<section id=\"unavailable\"><h2>Not available</h2><ul>";
        for (const auto &[what, why] : m.unavailable)
            h += "<li><b>" + html_escape(what) + "</b>: " + html_escape(why) + "</li>";
        h += "</ul></section>\n";
    }
    h += "</main>\n</body>\n</html>\n";
    return h;
}

std::string render_markdown(const Model &m) {
    const auto e = markdown_escape;
    std::string md = "# " + e(m.title) + "\n\nServer **" + e(m.server) + "**, PostgreSQL " + e(m.version) +
                     ", database " + e(m.database) + ", pg\\_tls\\_audit " + e(m.extension_version) + ", generated " +
                     e(format_time(m.generated_at)) + "\n\n## Posture summary\n\n";
    const auto counts = severity_counts(m.findings);
    md += "Worst severity: **" + worst_severity(m.findings) + "**\n\n| critical | warning | info | ok |\n|---|---|---|---|\n|";
    for (auto c : counts) md += " " + num(c) + " |";
    md += "\n\n## Findings\n";
    for (const char *sev : kSeverities) {
        std::string rows;
        for (const Finding *f : by_severity(m.findings))
            if (f->severity == sev)
                rows += "| " + e(f->check) + " | " + e(f->object) + " | " + e(f->message) + " | " + e(f->hint) + " | " +
                        join_controls(f->controls, markdown_escape) + " |\n";
        if (rows.empty()) continue;
        md += "\n### " + std::string(sev) + "\n\n| check | object | finding | how to fix | controls |\n|---|---|---|---|---|\n" +
              rows;
    }
    md += "\n## Server certificate chain\n\n";
    if (m.certificates.empty()) {
        md += "No certificate read.\n";
    } else {
        md += "| source | position | subject | issuer | not before | not after | days left |\n|---|---|---|---|---|---|---|\n";
        for (const auto &c : m.certificates)
            md += "| " + e(c.source) + " | " + num(c.position) + " | " + e(c.subject) + " | " + e(c.issuer) + " | " +
                  format_time(c.not_before) + " | " + format_time(c.not_after) + " | " +
                  num((c.not_after - m.generated_at) / 86400) + " |\n";
    }
    md += "\n## Sessions now\n\n" + num(m.sessions_total) + " sessions.\n\n";
    if (!m.sessions_by_protocol.empty()) {
        md += "| protocol and cipher | sessions |\n|---|---|\n";
        for (const auto &c : m.sessions_by_protocol) md += "| " + e(c.label) + " | " + num(c.count) + " |\n";
    }
    if (!m.sessions.empty()) {
        md += "\n| user | database | application | client | protocol | cipher | key exchange | client certificate |\n"
              "|---|---|---|---|---|---|---|---|\n";
        std::size_t shown = 0;
        for (const auto &s : m.sessions) {
            if (shown++ == m.max_sessions) break;
            md += "| " + e(s.user) + " | " + e(s.database) + " | " + e(s.application_name) + " | " + e(s.client_addr) +
                  " | " + e(s.protocol) + " | " + e(s.cipher) + " | " + e(s.key_exchange_group) + " | " + e(s.client_subject) +
                  " |\n";
        }
        if (const std::int64_t more = not_listed(m); more > 0) md += "\n" + num(more) + " more sessions not listed.\n";
    }
    md += "\n## Connection census\n\n";
    if (m.census.empty()) {
        md += "No census entries.\n";
    } else {
        const auto series = census_series(m.census);
        md += "| day |";
        for (const auto &s : series) md += " " + e(s) + " |";
        md += "\n|---|";
        for (std::size_t i = 0; i < series.size(); ++i) md += "---|";
        md += "\n";
        for (const auto &r : census_rows(m.census, series)) {
            md += "| " + e(r.label) + " |";
            for (auto v : r.values) md += " " + num(v) + " |";
            md += "\n";
        }
    }
    if (!m.readiness.empty()) {
        md += "\n### Floor readiness\n\n| floor | connections | ready | clients not ready |\n|---|---|---|---|\n";
        for (const auto &r : m.readiness)
            md += "| " + e(r.target) + " | " + num(r.connections_total) + " | " + num(r.connections_ready) + " | " +
                  num(r.clients_not_ready) + " |\n";
    }
    if (!m.not_ready.empty()) {
        md += "\n### Clients not ready\n\n| floor | user | application | client | protocol | connections |\n"
              "|---|---|---|---|---|---|\n";
        std::size_t shown = 0;
        for (const auto &c : m.not_ready) {
            if (shown++ == m.max_not_ready) break;
            md += "| " + e(c.target) + " | " + e(c.user) + " | " + e(c.application_name) + " | " + e(c.client_addr) +
                  " | " + e(c.protocol) + " | " + num(c.connections) + " |\n";
        }
    }
    if (!m.unavailable.empty()) {
        md += "\n## Not available\n\n";
        for (const auto &[what, why] : m.unavailable) md += "- **" + e(what) + "**: " + e(why) + "\n";
    }
    return md;
}

}  // namespace tls_audit::report
