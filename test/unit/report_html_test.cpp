// The audit report renderers: escaping (markup, quotes, ampersands, invalid
// UTF-8, control characters), the document's self-containment, grouping by
// severity, charts, and the Markdown twin.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "report/report_html.hpp"

using namespace tls_audit::report;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";

Model sample() {
    Model m;
    m.server = "db<1>";
    m.version = "15.18";
    m.database = "postgres";
    m.extension_version = "1.1";
    m.generated_at = 1'800'000'000;
    m.findings = {
        {"min_protocol", "warning", "ssl_min_protocol_version", "TLSv1.2 allowed", "raise it", {"CIS-PG-17:6.9"}},
        {"server_cert_expiry", "critical", "server.crt", "expires in 3 days", "renew", {"PCI-DSS-4.0:4.2.1"}},
        {"ssl_enabled", "ok", "", "ssl is on", "", {"CIS-PG-16:6.8", "PCI-DSS-4.0:4.2.1"}},
        {"hba_hostnossl", "warning", "pg_hba.conf:3", "hostnossl line", "drop it", {}},
    };
    m.certificates = {{"served", 0, "CN=<script>alert(1)</script>", "CN=ca", 1'790'000'000, 1'800'259'200},
                      {"file", 0, "CN=new", "CN=ca", 1'799'000'000, 1'830'000'000}};
    m.sessions_by_protocol = {{"TLSv1.3 TLS_AES_256_GCM_SHA384", 7}, {"tcp (no TLS)", 2}};
    m.sessions = {{"alice", "postgres", "<img src=x onerror=alert(1)>", "127.0.0.1", "TLSv1.3",
                   "TLS_AES_256_GCM_SHA384", "X25519MLKEM768", "CN=\"evil\" & <b>bold</b>"}};
    m.sessions_total = 9;
    m.census = {{"2026-11-29", {{"TLSv1.3", 10}, {"TLSv1.2", 5}}}, {"2026-11-30", {{"TLSv1.3", 20}}}};
    m.readiness = {{"TLSv1.3", 35, 30, 1}};
    m.not_ready = {{"TLSv1.3", "bob", "legacy'app", "10.0.0.1", "TLSv1.2", 5}};
    return m;
}

}  // namespace

TEST(HtmlEscape, Markup) {
    EXPECT_EQ(html_escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
    EXPECT_EQ(html_escape("a & b"), "a &amp; b");
    EXPECT_EQ(html_escape("\"x\" 'y'"), "&quot;x&quot; &#x27;y&#x27;");
    EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
    EXPECT_EQ(html_escape(""), "");
}

TEST(HtmlEscape, KeepsValidUtf8) {
    EXPECT_EQ(html_escape("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    EXPECT_EQ(html_escape("tab\tnew\nline\r"), "tab\tnew\nline\r");
}

TEST(HtmlEscape, ReplacesInvalidUtf8) {
    EXPECT_EQ(html_escape("a\xFF" "b"), "a" + kFffd + "b");
    EXPECT_EQ(html_escape("\xE2\x82"), kFffd + kFffd);               // truncated
    EXPECT_EQ(html_escape("\xC0\xAF"), kFffd + kFffd);               // overlong '/'
    EXPECT_EQ(html_escape("\xE0\x80\xBC"), kFffd + kFffd + kFffd);   // overlong '<'
    EXPECT_EQ(html_escape("\xED\xA0\x80"), kFffd + kFffd + kFffd);   // surrogate
    EXPECT_EQ(html_escape("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
    EXPECT_EQ(html_escape("\xC2\x85"), kFffd + kFffd);               // C1 control (NEL)
    // A lone continuation byte cannot swallow the markup after it.
    EXPECT_EQ(html_escape("\x80<"), kFffd + "&lt;");
}

TEST(HtmlEscape, ReplacesControlCharacters) {
    EXPECT_EQ(html_escape(std::string("a\0b", 3)), "a" + kFffd + "b");
    EXPECT_EQ(html_escape("\x1B[31m"), kFffd + "[31m");
    EXPECT_EQ(html_escape("\x7F"), kFffd);
}

TEST(MarkdownEscape, TableCellsAndHtml) {
    EXPECT_EQ(markdown_escape("a|b"), "a\\|b");
    EXPECT_EQ(markdown_escape("<b>x</b>"), "&lt;b&gt;x&lt;/b&gt;");
    EXPECT_EQ(markdown_escape("line1\nline2"), "line1 line2");
    EXPECT_EQ(markdown_escape("*x* _y_ `z` [l](u)"), "\\*x\\* \\_y\\_ \\`z\\` \\[l\\]\\(u\\)");
}

// Each character escaped once: a quote is not "&#x27;" and then "&\#x27;".
TEST(MarkdownEscape, EscapesOnce) {
    EXPECT_EQ(markdown_escape("legacy'app"), "legacy'app");
    EXPECT_EQ(markdown_escape("say \"hi\""), "say \"hi\"");
    EXPECT_EQ(markdown_escape("a & b #1"), "a &amp; b \\#1");
    EXPECT_EQ(markdown_escape("&#x27;"), "&amp;\\#x27;");  // a literal entity stays literal text
    EXPECT_EQ(markdown_escape("x\x01y"), "x" + kFffd + "y");
}

// Bidirectional controls would reorder what the reader sees: every one of
// them is shown as its code point, in HTML and in Markdown.
TEST(BidiControls, ShownVisiblyEverywhere) {
    const std::vector<std::pair<std::string, std::string>> controls = {
        {"\xE2\x80\xAA", "202A"}, {"\xE2\x80\xAB", "202B"}, {"\xE2\x80\xAC", "202C"},
        {"\xE2\x80\xAD", "202D"}, {"\xE2\x80\xAE", "202E"}, {"\xE2\x81\xA6", "2066"},
        {"\xE2\x81\xA7", "2067"}, {"\xE2\x81\xA8", "2068"}, {"\xE2\x81\xA9", "2069"},
        {"\xE2\x80\x8E", "200E"}, {"\xE2\x80\x8F", "200F"}};
    for (const auto &[bytes, hex] : controls) {
        const std::string text = "CN=" + bytes + "moc.elgoog";
        EXPECT_EQ(show_bidi_controls(text), "CN=\\u" + hex + "moc.elgoog") << hex;
        EXPECT_EQ(html_escape(text), "CN=\\u" + hex + "moc.elgoog") << hex;
        EXPECT_EQ(markdown_escape(text), "CN=\\\\u" + hex + "moc.elgoog") << hex;  // renders as \u202E
        EXPECT_EQ(html_escape(text).find(bytes), std::string::npos) << hex;
    }
    // Neighbours are not touched: U+2028 (line separator), U+2010 (hyphen),
    // U+206A, an em dash, and truncated sequences.
    for (const std::string keep : {"\xE2\x80\xA8", "\xE2\x80\x90", "\xE2\x81\xAA", "\xE2\x80\x94"})
        EXPECT_EQ(show_bidi_controls(keep), keep);
    EXPECT_EQ(show_bidi_controls("\xE2\x80"), "\xE2\x80");
    EXPECT_EQ(html_escape("\xE2\x80"), kFffd + kFffd);
}

TEST(ReportMarkdown, BidiInApplicationNameAndSubject) {
    Model m = sample();
    m.certificates[0].subject = "CN=\xE2\x80\xAEtxt.exe";
    m.not_ready[0].application_name = "legacy'app\xE2\x81\xA6x";
    const std::string md = render_markdown(m), html = render_html(m);
    for (const std::string &out : {md, html}) {
        EXPECT_EQ(out.find("\xE2\x80\xAE"), std::string::npos);
        EXPECT_EQ(out.find("\xE2\x81\xA6"), std::string::npos);
    }
    EXPECT_NE(html.find("CN=\\u202Etxt.exe"), std::string::npos);
    EXPECT_NE(md.find("legacy'app\\\\u2066x"), std::string::npos) << md;
    EXPECT_EQ(md.find("&\\#x27;"), std::string::npos);
}

TEST(ReportHtml, SelfContainedWithCsp) {
    const std::string html = render_html(sample());
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
    EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
    EXPECT_EQ(html.find("http://"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("<iframe"), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST(ReportHtml, EscapesEveryValue) {
    const std::string html = render_html(sample());
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("<img"), std::string::npos);
    EXPECT_EQ(html.find("<b>bold"), std::string::npos);
    EXPECT_NE(html.find("CN=&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
    EXPECT_NE(html.find("CN=&quot;evil&quot; &amp; &lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
    EXPECT_NE(html.find("legacy&#x27;app"), std::string::npos);
    EXPECT_NE(html.find("db&lt;1&gt;"), std::string::npos);
}

TEST(ReportHtml, FindingsGroupedWorstFirstWithControls) {
    const std::string html = render_html(sample());
    const auto critical = html.find("expires in 3 days");
    const auto warning = html.find("TLSv1.2 allowed");
    const auto ok = html.find("ssl is on");
    ASSERT_NE(critical, std::string::npos);
    ASSERT_NE(warning, std::string::npos);
    ASSERT_NE(ok, std::string::npos);
    EXPECT_LT(critical, warning);
    EXPECT_LT(warning, ok);
    EXPECT_NE(html.find("CIS-PG-16:6.8, PCI-DSS-4.0:4.2.1"), std::string::npos);
    EXPECT_NE(html.find("<b id=\"count-critical\">1</b>"), std::string::npos);
    EXPECT_NE(html.find("<b id=\"count-warning\">2</b>"), std::string::npos);
    EXPECT_NE(html.find("id=\"hba\""), std::string::npos);  // an hba finding gives the hba section
    EXPECT_EQ(html.find("id=\"outbound\""), std::string::npos);
}

TEST(ReportHtml, ChartsAndTimeline) {
    const std::string html = render_html(sample());
    std::size_t svgs = 0;
    for (auto p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) ++svgs;
    EXPECT_EQ(svgs, 4u);  // timeline, sessions, census mix, readiness
    EXPECT_NE(html.find(">now</text>"), std::string::npos);
}

TEST(SvgBarChart, ProportionalWidths) {
    const std::string svg = svg_bar_chart({"a", "b"}, {{"r1", {30, 10}}, {"r2", {20, 0}}});
    // The longest bar (40) spans the whole 640 px: 30 -> 480, 10 -> 160, 20 -> 320.
    EXPECT_NE(svg.find("width=\"480.0\""), std::string::npos);
    EXPECT_NE(svg.find("width=\"160.0\""), std::string::npos);
    EXPECT_NE(svg.find("width=\"320.0\""), std::string::npos);
    EXPECT_NE(svg.find(">40</text>"), std::string::npos);
    // A zero-only chart draws no bars and does not divide by zero.
    const std::string empty = svg_bar_chart({"a"}, {{"r", {0}}});
    EXPECT_EQ(empty.find("<rect x=\"220"), std::string::npos);
}

TEST(ReportMarkdown, SameContentEscaped) {
    const std::string md = render_markdown(sample());
    EXPECT_NE(md.find("Worst severity: **critical**"), std::string::npos);
    EXPECT_NE(md.find("| 1 | 2 | 0 | 1 |"), std::string::npos);
    EXPECT_NE(md.find("expires in 3 days"), std::string::npos);
    EXPECT_NE(md.find("CIS-PG-17:6.9"), std::string::npos);
    EXPECT_EQ(md.find("<script"), std::string::npos);
    EXPECT_EQ(md.find("<img"), std::string::npos);
    EXPECT_NE(md.find("| 2026-11-29 | 10 | 5 |"), std::string::npos);
    EXPECT_LT(md.find("### critical"), md.find("### warning"));
}

TEST(ReportHtml, BoundedLists) {
    Model m = sample();
    m.max_sessions = 2;
    m.sessions.assign(5, m.sessions[0]);
    m.sessions_total = 9;  // the glue fetches at most max_sessions rows, and counts them all
    const std::string html = render_html(m);
    EXPECT_NE(html.find("7 more sessions not listed."), std::string::npos);
    m.sessions_total = 0;  // a model without the count: what is in the list
    EXPECT_NE(render_html(m).find("3 more sessions not listed."), std::string::npos);
}

TEST(FormatTime, Utc) { EXPECT_EQ(format_time(0), "1970-01-01 00:00:00 UTC"); }

// Each listed session names its key-exchange group as OpenSSL does, so a
// reader sees which clients already use a hybrid post-quantum group.
TEST(ReportSessions, KeyExchangeGroupColumn) {
    const std::string html = render_html(sample());
    EXPECT_NE(html.find("<th>key exchange</th>"), std::string::npos);
    EXPECT_NE(html.find("<td>X25519MLKEM768</td>"), std::string::npos) << html;
    const std::string md = render_markdown(sample());
    EXPECT_NE(md.find("| cipher | key exchange | client certificate |"), std::string::npos);
    EXPECT_NE(md.find("| TLS\\_AES\\_256\\_GCM\\_SHA384 | X25519MLKEM768 |"), std::string::npos) << md;
}
