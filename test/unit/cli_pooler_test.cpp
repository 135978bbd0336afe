// pg_tls_check --pooler without a pgbouncer: audit_pooler() and
// evaluate_pooler() over the admin console's answers as pgbouncer 1.18 sends
// them (stubbed), the served chain (stubbed), the formats' pooler output,
// and pooler_entries() with the real libpq parser.
#include <gtest/gtest.h>

#include "format.hpp"
#include "pooler_audit.hpp"
#include "pooler_console.hpp"

using namespace tls_audit;
using namespace tls_audit::cli;

namespace {

constexpr std::int64_t kNow = 1800000000;

ConsoleAnswer connections(std::vector<std::vector<PoolerCell>> rows) {
    // SHOW CLIENTS of pgbouncer 1.18 (the columns the core reads, among others).
    return ConsoleAnswer{{"type", "user", "database", "state", "addr", "port", "local_addr", "local_port",
                          "connect_time", "request_time", "wait", "wait_us", "close_needed", "ptr", "link",
                          "remote_pid", "tls", "application_name"},
                         std::move(rows)};
}

std::vector<PoolerCell> client(const char *addr, const char *port, const char *tls, const char *app) {
    return {PoolerCell{"C"}, PoolerCell{"alice"}, PoolerCell{"app"}, PoolerCell{"active"}, PoolerCell{addr},
            PoolerCell{port}, PoolerCell{"127.0.0.1"}, PoolerCell{"6432"}, PoolerCell{"2026-12-06 05:00:00 UTC"},
            PoolerCell{"2026-12-06 05:00:01 UTC"}, PoolerCell{"0"}, PoolerCell{"0"}, PoolerCell{"0"},
            PoolerCell{"0x55d1"}, PoolerCell{""}, PoolerCell{"0"}, PoolerCell{tls}, PoolerCell{app}};
}

ConsoleAnswer config(const char *client_mode, const char *server_mode) {
    return ConsoleAnswer{{"key", "value", "default", "changeable"},
                         {{PoolerCell{"client_tls_sslmode"}, PoolerCell{client_mode}, PoolerCell{"disable"}, PoolerCell{"yes"}},
                          {PoolerCell{"server_tls_sslmode"}, PoolerCell{server_mode}, PoolerCell{"prefer"}, PoolerCell{"yes"}},
                          // Forward secrecy only: pgbouncer's default list also enables RSA key exchange
                          // (pooler_ciphers warns about it; that check has its own tests).
                          {PoolerCell{"client_tls_ciphers"}, PoolerCell{"ECDHE+AESGCM"}, PoolerCell{"default"}, PoolerCell{"yes"}},
                          {PoolerCell{"server_tls_ciphers"}, PoolerCell{"ECDHE+AESGCM"}, PoolerCell{"default"}, PoolerCell{"yes"}},
                          {PoolerCell{"listen_port"}, PoolerCell{"6432"}, PoolerCell{"6432"}, PoolerCell{"no"}}}};
}

ConsoleRead console_read(const char *client_mode, const char *server_mode) {
    ConsoleRead r;
    r.answers = {connections({client("10.0.0.7", "40001", "TLSv1.2/ECDHE-RSA-AES256-GCM-SHA384", "billing"),
                              client("10.0.0.8", "40002", "TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519", "web"),
                              client("10.0.0.9", "40003", "", "batch")}),
                 connections({}), config(client_mode, server_mode)};
    r.options = {ConnOption{"host", std::string("edge.example")}, ConnOption{"port", std::string("6432")}};
    return r;
}

CertInfo leaf(std::int64_t not_after, int rsa_bits) {
    CertInfo c;
    c.subject = "CN=edge.example";
    c.issuer = "CN=ca";
    c.not_before = kNow - 86400;
    c.not_after = not_after;
    c.key_type = "RSA";
    c.key_bits = rsa_bits;
    c.signature_algorithm = "sha256WithRSAEncryption";
    return c;
}

struct Stubs {
    Expected<ConsoleRead> read = console_read("require", "verify-full");
    Expected<ChainReport> chain = ChainReport{};
    std::vector<ProbeTarget> probed;
};

PoolerResult run(Stubs &s, const Options &o = Options{}) {
    return audit_pooler(
        PoolerEntry{"edge", "host=edge.example port=6432 dbname=pgbouncer"}, o,
        [&](const std::string &) { return s.read; },
        [&](const ProbeTarget &t) {
            s.probed.push_back(t);
            return s.chain;
        });
}

ChainReport good_chain() {
    ChainReport c;
    c.protocol = "TLSv1.3";
    c.cipher = "TLS_AES_256_GCM_SHA384";
    c.certificates = {leaf(kNow + 400 * 86400, 2048)};
    c.server_name = "edge.example";
    c.verified = true;
    c.hostname_match = true;
    return c;
}

bool has(const PoolerResult &r, const std::string &code, Status s) {
    for (const auto &f : r.findings)
        if (f.code == code && f.severity == s) return true;
    return false;
}

}  // namespace

TEST(CliPoolerTest, ReadsClientsSettingsAndProbesTheServedCertificate) {
    Stubs s;
    s.chain = good_chain();
    Options o;
    o.timeout_ms = 1234;
    PoolerResult r = run(s, o);
    EXPECT_EQ(r.facts.error, "");
    EXPECT_EQ(r.address, "edge.example:6432");
    ASSERT_EQ(r.clients.size(), 3u);
    EXPECT_EQ(r.clients[0].tls->protocol, "TLSv1.2");
    EXPECT_EQ(r.clients[1].tls->key_exchange_group, "x25519");
    EXPECT_FALSE(r.clients[2].tls.has_value());
    EXPECT_EQ(r.clients[2].transport, "tcp");
    ASSERT_EQ(r.settings.size(), 4u);  // listen_port is no TLS setting
    ASSERT_EQ(s.probed.size(), 1u);
    EXPECT_EQ(s.probed[0].host, "edge.example");
    EXPECT_EQ(s.probed[0].port, 6432);
    EXPECT_EQ(s.probed[0].timeout_ms, 1234);
    evaluate_pooler(r, Policy{}, kNow);
    EXPECT_EQ(r.status, Status::Ok);
    EXPECT_TRUE(r.findings.empty()) << r.findings[0].code << ": " << r.findings[0].message;
}

TEST(CliPoolerTest, PlaintextClientLegIsCriticalAndNotProbed) {
    Stubs s;
    s.read = console_read("disable", "prefer");
    PoolerResult r = run(s);
    EXPECT_TRUE(s.probed.empty());
    evaluate_pooler(r, Policy{}, kNow);
    EXPECT_EQ(r.status, Status::Critical);
    EXPECT_TRUE(has(r, "pooler_client_tls", Status::Critical));
    EXPECT_TRUE(has(r, "pooler_server_tls", Status::Warning));
}

TEST(CliPoolerTest, UnreachableIsUnknown) {
    Stubs s;
    s.read = make_error(sqlstate::kConnectionFailure, "connection refused");
    PoolerResult r = run(s);
    EXPECT_EQ(r.facts.error, "connection refused");
    EXPECT_TRUE(s.probed.empty());
    evaluate_pooler(r, Policy{}, kNow);
    EXPECT_EQ(r.status, Status::Unknown);
    ASSERT_EQ(r.findings.size(), 1u);  // not every check's "not available"
    EXPECT_EQ(r.findings[0].code, "pooler_unreachable");
    EXPECT_EQ(overall_pooler_status({r}), Status::Unknown);
}

TEST(CliPoolerTest, MissingAnswersAndBadConfigAreUnreachable) {
    Stubs s;
    ConsoleRead short_read = console_read("require", "require");
    short_read.answers.pop_back();
    s.read = short_read;
    EXPECT_NE(run(s).facts.error.find("2 answers to 3 commands"), std::string::npos);
    ConsoleRead bad = console_read("require", "require");
    bad.answers[2].columns = {"name", "setting"};
    s.read = bad;
    PoolerResult r = run(s);
    EXPECT_NE(r.facts.error.find("no key and value columns"), std::string::npos);
    EXPECT_FALSE(r.facts.config.has_value());
}

TEST(CliPoolerTest, UnreadableShowClientsKeepsTheRest) {
    Stubs s;
    ConsoleRead read = console_read("require", "verify-full");
    read.answers[0].columns = {"user"};
    s.read = read;
    s.chain = good_chain();
    PoolerResult r = run(s);
    EXPECT_TRUE(r.facts.config.has_value());
    EXPECT_NE(r.clients_error.find("no column"), std::string::npos);
    EXPECT_TRUE(r.clients.empty());
}

TEST(CliPoolerTest, ServedCertificateJudged) {
    Stubs s;
    ChainReport c = good_chain();
    c.certificates = {leaf(kNow + 3 * 86400, 1024)};
    c.verified = false;
    c.verify_error = "unable to get local issuer certificate";
    c.hostname_match = false;
    s.chain = c;
    PoolerResult r = run(s);
    Policy p;
    p.ca_file_given = true;
    evaluate_pooler(r, p, kNow);
    EXPECT_TRUE(has(r, "pooler_cert_expiry", Status::Critical));  // 3 days < --critical-days 7
    EXPECT_TRUE(has(r, "pooler_cert_key", Status::Critical));
    EXPECT_TRUE(has(r, "chain_not_verified", Status::Critical));
    EXPECT_TRUE(has(r, "hostname_mismatch", Status::Critical));
    // Without --ca-file the system store's verdict is a note.
    evaluate_pooler(r, Policy{}, kNow);
    EXPECT_TRUE(has(r, "chain_not_verified", Status::Ok));
}

TEST(CliPoolerTest, ProbeFailureIsANote) {
    Stubs s;
    s.chain = make_error(sqlstate::kConnectionFailure, "TLS handshake failed");
    PoolerResult r = run(s);
    EXPECT_EQ(r.facts.cert_error, "TLS handshake failed");
    evaluate_pooler(r, Policy{}, kNow);
    EXPECT_TRUE(has(r, "pooler_cert_expiry", Status::Ok));
}

TEST(CliPoolerTest, UnixSocketConsoleIsNotProbed) {
    Stubs s;
    ConsoleRead read = console_read("require", "verify-full");
    read.options = {ConnOption{"host", std::string("/run/pgbouncer")}, ConnOption{"port", std::string("6432")}};
    s.read = read;
    PoolerResult r = run(s);
    EXPECT_TRUE(s.probed.empty());
    EXPECT_NE(r.facts.cert_error.find("unix socket"), std::string::npos);
    EXPECT_EQ(r.address, "");
}

TEST(CliPoolerTest, FormatsShowThePooler) {
    Stubs s;
    s.read = console_read("prefer", "require");
    s.chain = good_chain();
    std::vector<PoolerResult> poolers{run(s)};
    evaluate_pooler(poolers[0], Policy{}, kNow);
    std::vector<TargetResult> none;
    Options o;
    ReportInput in{none, o, kNow, &poolers};
    EXPECT_EQ(report_status(in), Status::Warning);
    const std::string json = format_json(in);
    EXPECT_NE(json.find("\"poolers\":[{\"name\":\"edge\",\"address\":\"edge.example:6432\",\"status\":\"WARNING\""),
              std::string::npos)
        << json;
    EXPECT_NE(json.find("\"application_name\":\"billing\""), std::string::npos);
    EXPECT_NE(json.find("\"code\":\"pooler_client_tls\""), std::string::npos);
    const std::string text = format_text(in);
    EXPECT_NE(text.find("pooler edge (edge.example:6432)  WARNING"), std::string::npos) << text;
    EXPECT_NE(text.find("alice@app 10.0.0.7:40001 [billing]  TLSv1.2, ECDHE-RSA-AES256-GCM-SHA384"), std::string::npos)
        << text;
    EXPECT_NE(text.find("alice@app 10.0.0.9:40003 [batch]  plaintext"), std::string::npos);
    EXPECT_NE(format_prometheus(in).find("tls_audit_probe_pooler_connections{pooler=\"edge\",leg=\"client\","
                                         "transport=\"tls\",protocol=\"TLSv1.2\",cipher=\"ECDHE-RSA-AES256-GCM-SHA384\"} 1"),
              std::string::npos);
    EXPECT_NE(format_tap(in).find("1..1\nnot ok 1 - pooler edge WARNING"), std::string::npos);
    const std::string nagios = format_nagios(in);
    EXPECT_NE(nagios.find("'pooler_edge_clients_TLSv1.2'=1"), std::string::npos) << nagios;
    EXPECT_NE(nagios.find("'pooler_edge_clients_plaintext'=1"), std::string::npos) << nagios;
    EXPECT_NE(format_html(in).find("<section id=\"poolers\">"), std::string::npos);
    // Without --pooler the JSON still has the (empty) key.
    ReportInput plain{none, o, kNow};
    EXPECT_NE(format_json(plain).find("\"poolers\":[]"), std::string::npos);
}

TEST(CliPoolerEntriesTest, LibpqParsesAndNothingIsEchoed) {
    auto ok = pooler_entries({"edge=host=h port=6432 dbname=pgbouncer", "postgresql://h:6433/pgbouncer"});
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok.value()[0].name, "edge");
    EXPECT_EQ(ok.value()[1].name, "pooler2");

    auto bad = pooler_entries({"host='unterminated s3cret"});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().sqlstate, std::string(sqlstate::kInvalidParameter));
    EXPECT_EQ(bad.error().message.find("s3cret"), std::string::npos) << bad.error().message;

    auto unknown = pooler_entries({"host=h bogus=s3cret"});
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().message.find("s3cret"), std::string::npos) << unknown.error().message;

    for (const char *with_password : {"edge=host=h password=s3cret", "postgresql://u:s3cret@h/pgbouncer"}) {
        auto p = pooler_entries({with_password});
        ASSERT_FALSE(p.ok()) << with_password;
        EXPECT_NE(p.error().message.find("holds a password"), std::string::npos);
        EXPECT_EQ(p.error().message.find("s3cret"), std::string::npos);
    }

    auto twice = pooler_entries({"a=host=h", "a=host=i"});
    ASSERT_FALSE(twice.ok());
    EXPECT_NE(twice.error().message.find("repeats a name"), std::string::npos);

    std::vector<std::string> many(kMaxPoolers + 1, "host=h");
    auto too_many = pooler_entries(many);
    ASSERT_FALSE(too_many.ok());
    EXPECT_NE(too_many.error().message.find("one too many"), std::string::npos);
}
