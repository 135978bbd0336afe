// pg_tls_check's output formats and JSON writer; no network.

#include <gtest/gtest.h>

#include "evaluate.hpp"
#include "format.hpp"
#include "json.hpp"

#include <regex>
#include <sstream>

using namespace tls_audit;
using namespace tls_audit::cli;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

std::vector<std::string> lines(const std::string &s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

TargetResult ok_target() {
    TargetResult r;
    r.target = {"db.example", 5432};
    TargetReport rep;
    for (Protocol p : kProbedProtocols) {
        ProtocolReport pr;
        pr.protocol = p;
        pr.accepted = p >= Protocol::TLSv1_2;
        pr.cipher = pr.accepted ? std::string("CIPHER-") + protocol_name(p) : "";
        pr.error = pr.accepted ? "" : "TLS handshake failed: tlsv1 alert protocol version";
        rep.protocols.push_back(pr);
    }
    ChainReport c;
    c.protocol = "TLSv1.3";
    c.cipher = "TLS_AES_256_GCM_SHA384";
    c.key_exchange_group = "x25519";
    CertInfo leaf;
    leaf.subject = "CN=db.example";
    leaf.issuer = "CN=CA \"quoted\" \\ back";
    leaf.not_before = kNow - 86400;
    leaf.not_after = kNow + 100 * 86400;
    leaf.key_type = "RSA";
    leaf.key_bits = 2048;
    leaf.san = {"DNS:db.example"};
    c.certificates = {leaf};
    c.server_name = "db.example";
    c.verified = true;
    c.hostname_match = true;
    rep.chain = c;
    r.report = rep;
    r.status = Status::Ok;
    return r;
}

TargetResult failed_target() {
    TargetResult r;
    r.target = {"::1", 1};
    r.error = make_error(sqlstate::kCannotConnect, "could not connect to [::1]:1: connection refused");
    r.status = Status::Unknown;
    r.findings.push_back({Status::Unknown, "probe_failed", r.error->message});
    return r;
}

TargetResult critical_target() {
    TargetResult r = ok_target();
    r.target = {"10.0.0.1", 6432};
    r.report->protocols[0].accepted = true;
    r.status = Status::Critical;
    r.findings.push_back({Status::Critical, "protocol_below_minimum", "accepts TLSv1 # (older)"});
    r.findings.push_back({Status::Ok, "chain_not_verified", "chain does not verify"});
    return r;
}

}  // namespace

TEST(CliJsonTest, QuotesAndRepairsStrings) {
    EXPECT_EQ(json_quote("plain"), "\"plain\"");
    EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_quote("l1\nl2\t\x01"), "\"l1\\nl2\\t\\u0001\"");
    EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");           // valid UTF-8 kept
    EXPECT_EQ(json_quote("bad\xff\xc3"), "\"bad\\ufffd\\ufffd\"");      // invalid bytes replaced
    EXPECT_EQ(json_quote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");            // overlong '/'
    EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
    EXPECT_EQ(json_quote(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
}

TEST(CliJsonTest, WriterPlacesCommas) {
    JsonWriter w;
    w.begin_object().key("a").value(1).key("b").begin_array().value("x").null().value(true).end_array();
    w.key("c").begin_object().end_object().key("d").string_or_null("").end_object();
    EXPECT_EQ(w.str(), "{\"a\":1,\"b\":[\"x\",null,true],\"c\":{},\"d\":null}");
    EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(iso8601_utc(1'800'000'000), "2027-01-15T08:00:00Z");
}

TEST(CliFormatTest, JsonHasTheDocumentedShape) {
    Options o;
    std::vector<TargetResult> rs = {ok_target(), failed_target()};
    std::string json = format_json({rs, o, kNow});
    for (const char *needle :
         {"\"tool\":\"pg_tls_check\"", "\"status\":\"UNKNOWN\"", "\"exit_code\":3", "\"min_protocol\":\"TLSv1.2\"",
          "\"ca_file\":null", "\"host\":\"db.example\"", "\"port\":5432",
          "\"TLSv1\":{\"accepted\":false,\"cipher\":null,\"error\":\"TLS handshake failed: tlsv1 alert protocol version\"}",
          "\"TLSv1.3\":{\"accepted\":true,\"cipher\":\"CIPHER-TLSv1.3\",\"error\":null}",
          "\"negotiated\":{\"protocol\":\"TLSv1.3\",\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"group\":\"x25519\"}",
          "\"issuer\":\"CN=CA \\\"quoted\\\" \\\\ back\"", "\"days_left\":100", "\"san\":[\"DNS:db.example\"]",
          "\"verified\":true,\"verify_error\":null,\"hostname_match\":true", "\"findings\":[]",
          // the failed target: same keys, unknown values null
          "\"host\":\"::1\",\"port\":1,\"status\":\"UNKNOWN\",\"error\":\"could not connect to [::1]:1: connection refused\","
          "\"sqlstate\":\"08001\",\"protocols\":null,\"negotiated\":null,\"handshake_error\":null,\"certificates\":[],"
          "\"server_name\":null,\"verified\":null,\"verify_error\":null,\"hostname_match\":null",
          "{\"severity\":\"UNKNOWN\",\"code\":\"probe_failed\""})
        EXPECT_NE(json.find(needle), std::string::npos) << needle << "\nin: " << json;
    EXPECT_EQ(json.back(), '\n');
    EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 1);  // one line: easy to stream
}

TEST(CliFormatTest, TapIsWellFormed) {
    Options o;
    std::vector<TargetResult> rs = {ok_target(), critical_target(), failed_target()};
    auto l = lines(format_tap({rs, o, kNow}));
    ASSERT_GE(l.size(), 4u);
    EXPECT_EQ(l[0], "TAP version 13");
    EXPECT_EQ(l[1], "1..3");
    // Every other line is a test line numbered in order or a diagnostic.
    std::regex test_line(R"(^(ok|not ok) (\d+) - [^#]*(\\#[^#]*)*$)");
    int expected = 1;
    std::vector<std::string> verdicts;
    for (std::size_t i = 2; i < l.size(); ++i) {
        if (l[i].rfind("# ", 0) == 0) continue;
        std::smatch m;
        ASSERT_TRUE(std::regex_match(l[i], m, test_line)) << l[i];
        EXPECT_EQ(std::stoi(m[2]), expected++);
        verdicts.push_back(m[1]);
    }
    EXPECT_EQ(verdicts, (std::vector<std::string>{"ok", "not ok", "not ok"}));
    EXPECT_EQ(l[2], "ok 1 - db.example:5432 OK");
}

TEST(CliFormatTest, NagiosStatusLineAndPerfdata) {
    Options o;
    std::vector<TargetResult> rs = {ok_target(), critical_target(), failed_target()};
    auto l = lines(format_nagios({rs, o, kNow}));
    ASSERT_EQ(l.size(), 4u);
    EXPECT_EQ(l[0],
              "PG_TLS CRITICAL - 10.0.0.1:6432 CRITICAL: accepts TLSv1 # (older) | ok=1 warning=0 critical=1 "
              "unknown=1 'db.example:5432_days'=100;30:;7: '10.0.0.1:6432_days'=100;30:;7:");
    EXPECT_EQ(l[3], "[::1]:1 UNKNOWN: could not connect to [::1]:1: connection refused");
    std::vector<TargetResult> fine = {ok_target()};
    EXPECT_EQ(lines(format_nagios({fine, o, kNow}))[0].rfind("PG_TLS OK - 1 target OK | ok=1 ", 0), 0u);
}

TEST(CliFormatTest, TextShowsEachBlockAndASummary) {
    Options o;
    std::vector<TargetResult> rs = {ok_target(), critical_target(), failed_target()};
    std::string text = format_text({rs, o, kNow});
    for (const char *needle :
         {"db.example:5432  OK\n", "    TLSv1    refused   TLS handshake failed: tlsv1 alert protocol version\n",
          "    TLSv1.3  accepted  CIPHER-TLSv1.3\n", "  negotiated  TLSv1.3, TLS_AES_256_GCM_SHA384, x25519\n",
          "(100 days left)", "  verified    yes (system CA store)\n", "  host name   \"db.example\" matches\n",
          "10.0.0.1:6432  CRITICAL\n", "    CRITICAL  accepts TLSv1 # (older)\n", "    NOTE      chain does not verify\n",
          "[::1]:1  UNKNOWN\n  error       could not connect to [::1]:1: connection refused\n",
          "3 targets: 1 OK, 0 WARNING, 1 CRITICAL, 1 UNKNOWN\n"})
        EXPECT_NE(text.find(needle), std::string::npos) << needle << "\nin:\n" << text;
}

TEST(CliFormatTest, ReportPicksTheFormat) {
    std::vector<TargetResult> rs = {ok_target()};
    Options o;
    o.format = Format::Json;
    EXPECT_EQ(format_report({rs, o, kNow})[0], '{');
    o.format = Format::Tap;
    EXPECT_EQ(format_report({rs, o, kNow}).rfind("TAP version 13\n", 0), 0u);
    o.format = Format::Nagios;
    EXPECT_EQ(format_report({rs, o, kNow}).rfind("PG_TLS OK", 0), 0u);
    EXPECT_EQ(target_label({"::1", 5}), "[::1]:5");
}

namespace {

// ok_target() probed with --direct-tls: accepted, refused, or unknown.
TargetResult direct_target(DirectTlsVerdict v) {
    TargetResult r = ok_target();
    if (v == DirectTlsVerdict::Unknown) {
        r.report->direct_tls = Expected<DirectTlsReport>(make_error(sqlstate::kConnectionFailure, "timed out after 5000 ms while handshaking"));
        return r;
    }
    DirectTlsReport d;
    d.accepted = v == DirectTlsVerdict::Accepted;
    if (d.accepted) {
        d.protocol = "TLSv1.3";
        d.cipher = "TLS_AES_256_GCM_SHA384";
        d.alpn = "postgresql";
    } else {
        d.error = "server closed the connection during the TLS handshake";
    }
    r.report->direct_tls = Expected<DirectTlsReport>(d);
    return r;
}

}  // namespace

TEST(CliFormatTest, DirectTlsInEveryFormat) {
    Options o;
    o.direct_tls = true;
    std::vector<TargetResult> rs = {direct_target(DirectTlsVerdict::Accepted), direct_target(DirectTlsVerdict::Refused),
                                    direct_target(DirectTlsVerdict::Unknown), failed_target()};
    rs[1].target = {"old.example", 5432};
    rs[2].target = {"slow.example", 5432};
    EXPECT_EQ(direct_tls_verdict(rs[0]), DirectTlsVerdict::Accepted);
    EXPECT_EQ(direct_tls_verdict(rs[1]), DirectTlsVerdict::Refused);
    EXPECT_EQ(direct_tls_verdict(rs[2]), DirectTlsVerdict::Unknown);
    EXPECT_EQ(direct_tls_verdict(rs[3]), DirectTlsVerdict::NotProbed);

    std::string text = format_text({rs, o, kNow});
    for (const char *needle :
         {"  direct TLS  accepted  TLSv1.3, TLS_AES_256_GCM_SHA384, ALPN postgresql\n",
          "  direct TLS  refused   server closed the connection during the TLS handshake\n",
          "  direct TLS  unknown: timed out after 5000 ms while handshaking\n"})
        EXPECT_NE(text.find(needle), std::string::npos) << needle << "\nin:\n" << text;

    std::string json = format_json({rs, o, kNow});
    for (const char *needle :
         {"\"timeout_ms\":5000,\"direct_tls\":true,",  // in the policy
          "\"direct_tls\":{\"accepted\":true,\"protocol\":\"TLSv1.3\",\"cipher\":\"TLS_AES_256_GCM_SHA384\","
          "\"alpn\":\"postgresql\",\"error\":null}",
          "\"direct_tls\":{\"accepted\":false,\"protocol\":null,\"cipher\":null,\"alpn\":null,"
          "\"error\":\"server closed the connection during the TLS handshake\"}",
          "\"direct_tls\":{\"accepted\":null,\"protocol\":null,\"cipher\":null,\"alpn\":null,"
          "\"error\":\"timed out after 5000 ms while handshaking\"}",
          "\"hostname_match\":null,\"direct_tls\":null,"})  // the failed target
        EXPECT_NE(json.find(needle), std::string::npos) << needle << "\nin: " << json;

    std::string tap = format_tap({rs, o, kNow});
    for (const char *needle : {"# direct TLS accepted  TLSv1.3, TLS_AES_256_GCM_SHA384, ALPN postgresql\n",
                               "# direct TLS refused   server closed the connection during the TLS handshake\n",
                               "# direct TLS unknown: timed out after 5000 ms while handshaking\n"})
        EXPECT_NE(tap.find(needle), std::string::npos) << needle << "\nin:\n" << tap;

    auto l = lines(format_nagios({rs, o, kNow}));
    ASSERT_EQ(l.size(), 5u);
    EXPECT_NE(l[0].find(" 'db.example:5432_direct_tls'=1 'old.example:5432_direct_tls'=0"), std::string::npos) << l[0];
    EXPECT_EQ(l[0].find("slow.example:5432_direct_tls"), std::string::npos) << l[0];
    EXPECT_EQ(l[1], "db.example:5432 OK; direct TLS accepted");
    EXPECT_EQ(l[2], "old.example:5432 OK; direct TLS refused");
    EXPECT_EQ(l[3], "slow.example:5432 OK; direct TLS unknown");
    EXPECT_EQ(l[4], "[::1]:1 UNKNOWN: could not connect to [::1]:1: connection refused");
}

TEST(CliFormatTest, WithoutDirectTlsNothingChanges) {
    Options o;
    std::vector<TargetResult> rs = {ok_target()};
    EXPECT_EQ(format_text({rs, o, kNow}).find("direct TLS"), std::string::npos);
    EXPECT_EQ(format_tap({rs, o, kNow}).find("direct TLS"), std::string::npos);
    EXPECT_EQ(format_nagios({rs, o, kNow}).find("direct"), std::string::npos);
    std::string json = format_json({rs, o, kNow});
    EXPECT_NE(json.find("\"timeout_ms\":5000,\"direct_tls\":false,"), std::string::npos) << json;
    EXPECT_NE(json.find("\"direct_tls\":null"), std::string::npos) << json;  // present, never missing
}
