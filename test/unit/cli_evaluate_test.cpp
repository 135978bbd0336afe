// pg_tls_check's policy: report -> status and findings; no network.

#include <gtest/gtest.h>

#include "evaluate.hpp"

using namespace tls_audit;
using namespace tls_audit::cli;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kDay = 86400;

CertInfo cert(std::int64_t days_valid, const char *subject = "CN=leaf") {
    CertInfo c;
    c.subject = subject;
    c.not_before = kNow - 10 * kDay;
    c.not_after = kNow + days_valid * kDay + 60;  // a minute past the whole day
    return c;
}

// A healthy server: TLSv1.2 and TLSv1.3 only, a verified 365-day leaf.
TargetResult healthy() {
    TargetResult r;
    r.target = {"db", 5432};
    TargetReport rep;
    for (Protocol p : kProbedProtocols) {
        ProtocolReport pr;
        pr.protocol = p;
        pr.accepted = p >= Protocol::TLSv1_2;
        pr.cipher = pr.accepted ? "X" : "";
        pr.error = pr.accepted ? "" : "TLS handshake failed: no";
        rep.protocols.push_back(pr);
    }
    ChainReport c;
    c.protocol = "TLSv1.3";
    c.certificates = {cert(365), cert(1000, "CN=intermediate")};
    c.server_name = "db";
    c.verified = true;
    c.hostname_match = true;
    rep.chain = c;
    r.report = rep;
    return r;
}

std::vector<std::string> codes(const TargetResult &r) {
    std::vector<std::string> out;
    for (const auto &f : r.findings) out.push_back(f.code);
    return out;
}

Policy policy(bool ca_file = true) {
    Policy p;
    p.ca_file_given = ca_file;
    return p;
}

}  // namespace

TEST(CliEvaluateTest, HealthyIsOk) {
    TargetResult r = healthy();
    evaluate(r, policy(), kNow);
    EXPECT_EQ(r.status, Status::Ok);
    EXPECT_TRUE(r.findings.empty());
}

TEST(CliEvaluateTest, ExpiryThresholds) {
    struct Case {
        std::int64_t days;
        Status want;
    } cases[] = {{365, Status::Ok}, {30, Status::Ok},       {29, Status::Warning}, {7, Status::Warning},
                 {6, Status::Critical}, {0, Status::Critical}, {-3, Status::Critical}};
    for (const auto &c : cases) {
        TargetResult r = healthy();
        r.report->chain->certificates[0] = cert(c.days);
        evaluate(r, policy(), kNow);
        EXPECT_EQ(r.status, c.want) << c.days << " days";
    }
    TargetResult expired = healthy();
    expired.report->chain->certificates[0].not_after = kNow - 3 * kDay;
    evaluate(expired, policy(), kNow);
    EXPECT_EQ(codes(expired), std::vector<std::string>{"certificate_expired"});
    EXPECT_EQ(expired.findings[0].message, "the server certificate expired 3 days ago");
}

TEST(CliEvaluateTest, ThresholdsComeFromThePolicy) {
    TargetResult r = healthy();
    Policy p = policy();
    p.min_days = 400;
    evaluate(r, p, kNow);
    EXPECT_EQ(r.status, Status::Warning);
    p.critical_days = 366;
    evaluate(r, p, kNow);
    EXPECT_EQ(r.status, Status::Critical);
}

TEST(CliEvaluateTest, IntermediateExpiryCountsToo) {
    TargetResult r = healthy();
    r.report->chain->certificates[1] = cert(2, "CN=intermediate");
    evaluate(r, policy(), kNow);
    EXPECT_EQ(r.status, Status::Critical);
    EXPECT_NE(r.findings[0].message.find("CN=intermediate"), std::string::npos);
}

TEST(CliEvaluateTest, OldProtocolBelowTheMinimumIsCritical) {
    TargetResult r = healthy();
    r.report->protocols[1].accepted = true;  // TLSv1.1
    evaluate(r, policy(), kNow);
    EXPECT_EQ(r.status, Status::Critical);
    EXPECT_EQ(codes(r), std::vector<std::string>{"protocol_below_minimum"});
    EXPECT_EQ(r.findings[0].message, "accepts TLSv1.1 (older than --min-protocol TLSv1.2)");
    Policy p = policy();
    p.min_protocol = Protocol::TLSv1_1;
    evaluate(r, p, kNow);
    EXPECT_EQ(r.status, Status::Ok);
    p.min_protocol = Protocol::TLSv1_3;
    evaluate(r, p, kNow);
    EXPECT_EQ(codes(r), (std::vector<std::string>{"protocol_below_minimum", "protocol_below_minimum"}));
}

TEST(CliEvaluateTest, VerificationCountsOnlyWithACaFile) {
    TargetResult r = healthy();
    r.report->chain->verified = false;
    r.report->chain->verify_error = "unable to get local issuer certificate";
    r.report->chain->hostname_match = false;
    evaluate(r, policy(true), kNow);
    EXPECT_EQ(r.status, Status::Critical);
    EXPECT_EQ(codes(r), (std::vector<std::string>{"chain_not_verified", "hostname_mismatch"}));
    evaluate(r, policy(false), kNow);
    EXPECT_EQ(r.status, Status::Ok);  // noted, not alarming
    EXPECT_EQ(codes(r), (std::vector<std::string>{"chain_not_verified", "hostname_mismatch"}));
    EXPECT_EQ(r.findings[0].severity, Status::Ok);
}

TEST(CliEvaluateTest, ProbeErrorIsUnknown) {
    TargetResult r;
    r.target = {"db", 1};
    r.error = make_error(sqlstate::kCannotConnect, "could not connect to db:1: connection refused");
    evaluate(r, policy(), kNow);
    EXPECT_EQ(r.status, Status::Unknown);
    ASSERT_EQ(r.findings.size(), 1u);
    EXPECT_EQ(r.findings[0].message, "could not connect to db:1: connection refused");
}

TEST(CliEvaluateTest, RefusedHandshakeIsCritical) {
    TargetResult r = healthy();
    r.report->chain.reset();
    r.report->chain_error = "TLS handshake failed: no shared cipher";
    for (auto &p : r.report->protocols) p.accepted = false;
    evaluate(r, policy(), kNow);
    EXPECT_EQ(r.status, Status::Critical);
    EXPECT_EQ(codes(r), (std::vector<std::string>{"no_protocol_accepted", "handshake_failed"}));
}

TEST(CliEvaluateTest, OverallIsTheWorst) {
    std::vector<TargetResult> rs(3);
    EXPECT_EQ(overall_status({}), Status::Ok);
    rs[0].status = Status::Ok;
    rs[1].status = Status::Warning;
    rs[2].status = Status::Ok;
    EXPECT_EQ(overall_status(rs), Status::Warning);
    rs[2].status = Status::Unknown;
    EXPECT_EQ(overall_status(rs), Status::Unknown);
    rs[0].status = Status::Critical;
    EXPECT_EQ(overall_status(rs), Status::Critical);  // a known problem outranks an unreachable server
    EXPECT_EQ(worst(Status::Critical, Status::Warning), Status::Critical);
    EXPECT_EQ(worst(Status::Warning, Status::Unknown), Status::Unknown);
    EXPECT_EQ(worst(Status::Ok, Status::Ok), Status::Ok);
}
