// The audit report: a plain model (filled by the glue from the extension's
// functions and views, or by a test) rendered as one self-contained HTML
// document (inline CSS and SVG, no script, no external resource, a CSP that
// forbids loading anything) or as Markdown with the same content.
//
// Every text from the model is escaped: html_escape() for HTML (also
// replacing invalid UTF-8 and control characters with U+FFFD), and
// markdown_escape() for Markdown (which also neutralises inline HTML).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

TLS_AUDIT_AREA(report);

namespace tls_audit::report {

struct Finding {
    std::string check;
    std::string severity;  // ok, info, warning, critical
    std::string object;
    std::string message;
    std::string hint;
    std::vector<std::string> controls;  // "CIS-PG-17:6.9", ...
};

struct Certificate {
    std::string source;  // "served" or "file"
    int position = 0;    // 0 = leaf
    std::string subject;
    std::string issuer;
    std::int64_t not_before = 0;  // epoch seconds
    std::int64_t not_after = 0;
};

// A labelled count (sessions by protocol and cipher).
struct Count {
    std::string label;
    std::int64_t count = 0;
};

// One open session (the report lists a bounded number of them).
struct Session {
    std::string user;
    std::string database;
    std::string application_name;
    std::string client_addr;
    std::string protocol;  // TLS version, or the transport when not TLS
    std::string cipher;
    std::string key_exchange_group;  // as OpenSSL names it, e.g. X25519MLKEM768
    std::string client_subject;
};

// Census connections seen in one period, per protocol ("TLSv1.3", "plain"...).
struct CensusPeriod {
    std::string label;  // e.g. "2026-11-30"
    std::vector<Count> protocols;
};

// floor_readiness_summary() for one target floor.
struct Readiness {
    std::string target;
    std::int64_t connections_total = 0;
    std::int64_t connections_ready = 0;
    std::int64_t clients_not_ready = 0;
};

// A client that would be cut off by a floor (floor_readiness()).
struct NotReadyClient {
    std::string target;
    std::string user;
    std::string application_name;
    std::string client_addr;
    std::string protocol;
    std::int64_t connections = 0;
};

struct Model {
    std::string title = "TLS audit report";
    std::string server;    // cluster_name or host name
    std::string version;   // server_version
    std::string database;
    std::string extension_version;
    std::int64_t generated_at = 0;  // epoch seconds
    std::vector<Finding> findings;
    std::vector<Certificate> certificates;
    std::vector<Count> sessions_by_protocol;  // label "TLSv1.3 TLS_AES_256_GCM_SHA384", "tcp (no TLS)"
    std::vector<Session> sessions;            // listed up to max_sessions
    std::int64_t sessions_total = 0;
    std::vector<CensusPeriod> census;
    std::vector<Readiness> readiness;
    std::vector<NotReadyClient> not_ready;
    // Sections whose input could not be read: title -> reason (shown as such).
    std::vector<std::pair<std::string, std::string>> unavailable;
    std::size_t max_sessions = 200;
    std::size_t max_not_ready = 200;
};

// Escape for HTML text and attribute values (& < > " '), with invalid UTF-8
// and C0/C1 control characters other than tab, newline and carriage return
// replaced by U+FFFD.
std::string html_escape(std::string_view text);
// Valid UTF-8 with control characters (other than \t \n \r) replaced by
// U+FFFD, and the bidirectional controls made visible (show_bidi_controls()):
// the first step of both escapers.
std::string sanitize_utf8(std::string_view text);
// The bidirectional formatting characters U+202A..U+202E, U+2066..U+2069 and
// the marks U+200E, U+200F written as the visible text "\u202E": in a
// certificate name or an application_name they would otherwise reorder what
// a reader sees (a subject that reads "CN=moc.elgoog" shown as "google.com").
// Everything else, including invalid UTF-8, is kept as it is.
std::string show_bidi_controls(std::string_view text);
// Escape for a Markdown table cell or paragraph: < > & as HTML entities
// (renderers pass inline HTML through), Markdown punctuation
// backslash-escaped, newlines as spaces. Each character is escaped once: the
// entities' own '&' and '#' are not escaped again.
std::string markdown_escape(std::string_view text);

// "2026-11-30 08:00:00 UTC"
std::string format_time(std::int64_t epoch_seconds);

// The worst severity among the findings ("ok" for none) and the per-severity
// counts in the order critical, warning, info, ok.
std::string worst_severity(const std::vector<Finding> &findings);

// The style sheet shared by the report and pg_tls_check --format html.
const char *report_css();
// The <head> shared by both: charset, CSP forbidding any load, title, CSS.
std::string html_head(std::string_view title);

// A horizontal stacked bar chart as inline SVG: one bar per row, one segment
// per series value (colours by series index), with a legend.
struct BarRow {
    std::string label;
    std::vector<std::int64_t> values;  // one per series
};
std::string svg_bar_chart(const std::vector<std::string> &series, const std::vector<BarRow> &rows);

std::string render_html(const Model &model);
std::string render_markdown(const Model &model);

}  // namespace tls_audit::report
