// pg_tls_check's plaintext acceptance and trust-store readiness: options,
// findings, the fleet view and every output format; no network (the
// plaintext probe is a stub, the chains come from the rollover certificates).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "evaluate.hpp"
#include "format.hpp"
#include "readiness_check.hpp"
#include "test_certs.hpp"
#include "certs/x509.hpp"

using namespace tls_audit;
using namespace tls_audit::cli;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

std::string path(const std::string &name) { return test::cert_dir() + "/" + name; }

// A healthy TLS report whose chain is the given PEM file.
TargetResult target(const std::string &host, const std::string &chain_file) {
    TargetResult r;
    r.target = {host, 5432};
    TargetReport rep;
    for (Protocol p : kProbedProtocols) {
        ProtocolReport pr;
        pr.protocol = p;
        pr.accepted = p >= Protocol::TLSv1_2;
        rep.protocols.push_back(pr);
    }
    ChainReport c;
    auto certs = parse_certificates(test::read_cert_file(chain_file));
    EXPECT_TRUE(certs.ok());
    if (certs.ok())
        for (const auto &x : certs.value()) {
            CertInfo ci = describe_certificate(x.get());
            ci.not_before = kNow - 86400;
            ci.not_after = kNow + 400 * 86400;
            c.certificates.push_back(ci);
            int len = i2d_X509(x.get(), nullptr);
            std::string der(static_cast<std::size_t>(len), '\0');
            auto *p = reinterpret_cast<unsigned char *>(&der[0]);
            i2d_X509(x.get(), &p);
            c.presented_der.push_back(der);
        }
    c.server_name = host;
    c.verified = true;
    c.hostname_match = true;
    rep.chain = c;
    r.report = rep;
    return r;
}

Options parsed(std::vector<std::string> args) {
    auto o = parse_args(args);
    EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().message);
    return o.ok() ? o.value() : Options{};
}

PlaintextReport plaintext(PlaintextVerdict v) {
    PlaintextReport p;
    p.verdict = v;
    p.user = kPlaintextDefaultUser;
    if (v == PlaintextVerdict::Accepted) p.auth_request = "AuthenticationSASL (SCRAM-SHA-256)";
    if (v == PlaintextVerdict::Refused) {
        p.sqlstate = "28000";
        p.message = "no pg_hba.conf entry for host \"127.0.0.1\", user \"x\", database \"x\", no encryption";
    }
    if (v == PlaintextVerdict::Unknown) p.detail = "not a PostgreSQL answer to a StartupMessage: got byte 0x53 ('S')";
    return p;
}

std::vector<std::string> codes(const TargetResult &r) {
    std::vector<std::string> out;
    for (const auto &f : r.findings) out.push_back(f.code);
    return out;
}

// Scan stand-in: the given results, readiness probed with a stub plaintext answer.
std::vector<TargetResult> run(std::vector<TargetResult> results, const Options &o,
                              PlaintextVerdict answer = PlaintextVerdict::Refused) {
    auto bundles = load_bundles(o);
    EXPECT_TRUE(bundles.ok()) << (bundles.ok() ? "" : bundles.error().message);
    probe_readiness(results, o, bundles.value(), [&](const ProbeTarget &, const std::string &user,
                                                     const std::string &database) -> Expected<PlaintextReport> {
        PlaintextReport p = plaintext(answer);
        p.user = user;
        p.database = database;
        return p;
    });
    Policy policy{o.min_days, o.critical_days, o.min_protocol, !o.ca_file.empty()};
    policy.require_tls = o.require_tls;
    for (auto &r : results) evaluate(r, policy, kNow);
    return results;
}

}  // namespace

TEST(CliReadinessTest, Options) {
    Options o = parsed({"--plaintext", "--user", "alice", "--database=sales", "--ca-file", "a.pem", "--ca-file=b.pem",
                        "--ca-file-optional", "c.pem", "db"});
    EXPECT_TRUE(o.plaintext);
    EXPECT_FALSE(o.require_tls);
    EXPECT_EQ(o.plaintext_user, "alice");
    EXPECT_EQ(o.plaintext_database, "sales");
    EXPECT_EQ(o.ca_file, "a.pem");  // the first verifies chain and host name as before
    EXPECT_EQ(o.ca_files, (std::vector<std::string>{"a.pem", "b.pem"}));
    EXPECT_EQ(o.ca_files_optional, (std::vector<std::string>{"c.pem"}));
    Options r = parsed({"--require-tls", "db"});
    EXPECT_TRUE(r.plaintext);
    EXPECT_TRUE(r.require_tls);
    // Every --profile forbids plaintext unless told otherwise.
    Options p = parsed({"--profile", "intermediate", "db"});
    EXPECT_TRUE(p.plaintext);
    EXPECT_TRUE(p.require_tls);
    Options q = parsed({"--profile=modern", "--allow-plaintext", "db"});
    EXPECT_FALSE(q.plaintext);
    EXPECT_FALSE(q.require_tls);
    EXPECT_FALSE(parsed({"db"}).require_tls);
    EXPECT_FALSE(parse_args({"--require-tls", "--allow-plaintext", "db"}).ok());
    for (std::vector<std::string> bad : {std::vector<std::string>{"--plaintext=yes", "db"},
                                         {"--user", "", "db"},
                                         {"--user", std::string(64, 'u'), "db"},
                                         {"--ca-file-optional"},
                                         {"--ca-file=", "db"}}) {
        auto e = parse_args(bad);
        ASSERT_FALSE(e.ok()) << bad[0];
        EXPECT_EQ(e.error().sqlstate, "22023");
    }
    EXPECT_NE(usage().find("--ca-file-optional FILE"), std::string::npos);
    EXPECT_NE(usage().find("pg_tls_audit_no_such_user"), std::string::npos);
}

TEST(CliReadinessTest, PlaintextFindings) {
    Options o = parsed({"--plaintext", "db"});
    auto accepted = run({target("db", "rollover-a-chain.crt")}, o, PlaintextVerdict::Accepted);
    EXPECT_EQ(accepted[0].status, Status::Ok);  // noted only
    EXPECT_EQ(codes(accepted[0]), (std::vector<std::string>{"plaintext_accepted"}));
    EXPECT_NE(accepted[0].findings[0].message.find("per user, database and client address"), std::string::npos);

    Options req = parsed({"--require-tls", "db"});
    auto critical = run({target("db", "rollover-a-chain.crt")}, req, PlaintextVerdict::Accepted);
    EXPECT_EQ(critical[0].status, Status::Critical);
    EXPECT_EQ(overall_status(critical), Status::Critical);
    auto refused = run({target("db", "rollover-a-chain.crt")}, req, PlaintextVerdict::Refused);
    EXPECT_EQ(refused[0].status, Status::Ok);
    EXPECT_NE(refused[0].findings[0].message.find("28000 no pg_hba.conf entry"), std::string::npos);
    auto unknown = run({target("db", "rollover-a-chain.crt")}, req, PlaintextVerdict::Unknown);
    EXPECT_EQ(unknown[0].status, Status::Unknown);

    // ssl = off: the TLS probe fails, plaintext accepted still makes it CRITICAL.
    TargetResult no_tls;
    no_tls.target = {"db", 5432};
    no_tls.error = make_error(sqlstate::kCannotConnect, "server does not support SSL");
    auto off = run({no_tls}, req, PlaintextVerdict::Accepted);
    EXPECT_EQ(off[0].status, Status::Critical);
    EXPECT_EQ(codes(off[0]), (std::vector<std::string>{"probe_failed", "plaintext_accepted"}));
}

TEST(CliReadinessTest, BundlesAndFleet) {
    Options o = parsed({"--ca-file", path("rollover-bundle-both.crt"), "--ca-file", path("rollover-bundle-old.crt"),
                        "--ca-file-optional", path("rollover-bundle-new.crt"), "a", "b"});
    auto results = run({target("a", "rollover-a-chain.crt"), target("b", "rollover-b-chain.crt")}, o);
    // a (New Root) fails the required old bundle: CRITICAL; b fails only the optional new one.
    EXPECT_EQ(results[0].status, Status::Critical);
    EXPECT_EQ(codes(results[0]), (std::vector<std::string>{"ca_bundle_fails"}));
    EXPECT_EQ(results[1].status, Status::Ok);
    EXPECT_EQ(codes(results[1]), (std::vector<std::string>{"ca_bundle_fails"}));
    EXPECT_EQ(results[1].findings[0].severity, Status::Ok);
    ASSERT_EQ(results[0].readiness.bundles.size(), 3u);
    EXPECT_TRUE(results[0].readiness.bundles[0].report.verified);
    EXPECT_NE(results[0].readiness.bundles[0].report.anchor_subject.find("Rollover New Root"), std::string::npos);

    FleetSummary s = fleet_summary(results, o);
    ASSERT_EQ(s.anchors.size(), 2u);  // the fleet sits on two roots
    EXPECT_NE(s.anchors[0].subject.find("New Root"), std::string::npos);
    EXPECT_EQ(s.anchors[0].targets, (std::vector<std::string>{"a:5432"}));
    EXPECT_EQ(s.anchors[1].targets, (std::vector<std::string>{"b:5432"}));
    ASSERT_EQ(s.bundles.size(), 3u);
    EXPECT_TRUE(s.bundles[0].fails.empty());
    ASSERT_EQ(s.bundles[1].fails.size(), 1u);
    EXPECT_EQ(s.bundles[1].fails[0].target, "a:5432");
    EXPECT_FALSE(s.bundles[2].required);
    ASSERT_EQ(s.bundles[2].fails.size(), 1u);
    EXPECT_EQ(s.bundles[2].fails[0].target, "b:5432");

    // Every format carries it.
    for (Format f : {Format::Text, Format::Json, Format::Tap, Format::Nagios}) {
        o.format = f;
        std::string out = format_report(ReportInput{results, o, kNow});
        SCOPED_TRACE(format_name(f));
        EXPECT_NE(out.find("Rollover New Root"), std::string::npos) << out;
        EXPECT_NE(out.find("rollover-bundle-old.crt"), std::string::npos);
    }
    o.format = Format::Json;
    std::string json = format_report(ReportInput{results, o, kNow});
    for (const char *key : {"\"trust_bundles\":[", "\"trust_summary\":{", "\"anchor_sha256\":\"", "\"path_length\":3",
                            "\"failed_targets\":[{\"target\":\"a:5432\"", "\"ca_files_optional\":[",
                            "\"plaintext\":null"})
        EXPECT_NE(json.find(key), std::string::npos) << key << "\n" << json;
    o.format = Format::Text;
    std::string text = format_report(ReportInput{results, o, kNow});
    EXPECT_NE(text.find("FAILS 1 of 2 targets (a:5432: unable to get local issuer certificate"), std::string::npos)
        << text;
}

TEST(CliReadinessTest, PlaintextInEveryFormat) {
    Options o = parsed({"--require-tls", "--user", "bob", "db"});
    auto results = run({target("db", "rollover-a-chain.crt")}, o, PlaintextVerdict::Accepted);
    for (Format f : {Format::Text, Format::Json, Format::Tap, Format::Nagios}) {
        o.format = f;
        std::string out = format_report(ReportInput{results, o, kNow});
        SCOPED_TRACE(format_name(f));
        EXPECT_NE(out.find("plaintext accepted"), std::string::npos) << out;
        EXPECT_NE(out.find("CRITICAL"), std::string::npos) << out;
    }
    o.format = Format::Json;
    std::string json = format_report(ReportInput{results, o, kNow});
    EXPECT_NE(json.find("\"plaintext\":{\"result\":\"accepted\",\"user\":\"bob\""), std::string::npos) << json;
    EXPECT_NE(json.find("\"require_tls\":true"), std::string::npos);
}

TEST(CliReadinessTest, FirstCaFileIsNotReportedTwice) {
    TargetResult t = target("a", "rollover-a-chain.crt");
    t.report->chain->verified = false;  // as verify_peer against the first --ca-file says
    t.report->chain->verify_error = "unable to get local issuer certificate";
    Options required = parsed({"--ca-file", path("rollover-bundle-old.crt"), "a"});
    auto r = run({t}, required);
    EXPECT_EQ(codes(r[0]), (std::vector<std::string>{"ca_bundle_fails"}));
    EXPECT_EQ(r[0].status, Status::Critical);
    // Optional bundles only: the system store's note stays, the bundle's is added.
    Options optional = parsed({"--ca-file-optional", path("rollover-bundle-old.crt"), "a"});
    auto o = run({t}, optional);
    EXPECT_EQ(codes(o[0]), (std::vector<std::string>{"chain_not_verified", "ca_bundle_fails"}));
    EXPECT_EQ(o[0].status, Status::Ok);
}
