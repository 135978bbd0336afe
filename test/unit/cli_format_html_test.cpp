// pg_tls_check --format html: one escaped row per target, self-contained.
#include <gtest/gtest.h>

#include "evaluate.hpp"
#include "format.hpp"
#include "options.hpp"

using namespace tls_audit;
using namespace tls_audit::cli;

namespace {
constexpr std::int64_t kNow = 1'800'000'000;
}

TEST(CliFormatHtml, RowPerTargetEscaped) {
    TargetResult good;
    good.target = {"db<1>.example", 5432};
    TargetReport rep;
    ProtocolReport p12;
    p12.protocol = Protocol::TLSv1_2;
    p12.accepted = true;
    rep.protocols.push_back(p12);
    ChainReport c;
    c.protocol = "TLSv1.2";
    c.cipher = "ECDHE-RSA-AES128-GCM-SHA256";
    CertInfo leaf;
    leaf.subject = "CN=<script>x</script>";
    leaf.not_after = kNow + 10 * 86400;
    c.certificates = {leaf};
    rep.chain = c;
    good.report = rep;
    good.status = Status::Warning;
    good.findings.push_back({Status::Warning, "expiry", "expires in 10 days & <soon>"});
    good.profile = ProfileReport{"intermediate", {{"protocol", "TLSv1.1", true, "m"}}, false};
    TargetResult bad;
    bad.target = {"10.0.0.1", 5433};
    bad.error = make_error("08001", "connection refused <b>");
    bad.status = Status::Unknown;

    Options o;
    o.format = Format::Html;
    const std::vector<TargetResult> rs = {good, bad};
    const std::string h = format_report({rs, o, kNow});
    EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(h.find("default-src 'none'"), std::string::npos);
    EXPECT_EQ(h.find("<script"), std::string::npos);
    EXPECT_EQ(h.find("refused <b>"), std::string::npos);
    EXPECT_NE(h.find("db&lt;1&gt;.example:5432"), std::string::npos);
    EXPECT_NE(h.find("CN=&lt;script&gt;x&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(h.find("(10 days)"), std::string::npos);
    EXPECT_NE(h.find("intermediate: not compliant<br>protocol TLSv1.1"), std::string::npos);
    EXPECT_NE(h.find("expires in 10 days &amp; &lt;soon&gt;"), std::string::npos);
    EXPECT_NE(h.find("connection refused &lt;b&gt;"), std::string::npos);
    std::size_t rows = 0;
    for (auto p = h.find("<tr><td><code>"); p != std::string::npos; p = h.find("<tr><td><code>", p + 1)) ++rows;
    EXPECT_EQ(rows, 2u);
}

TEST(CliFormatHtml, ParsedAsFormat) {
    EXPECT_STREQ(format_name(Format::Html), "html");
}

// Plaintext acceptance and trust-store readiness appear per target and per
// bundle, and the fleet summary names the bundle that fails which target.
TEST(CliFormatHtml, PlaintextAndTrustBundles) {
    auto target = [](const char *host, bool old_root_ok) {
        TargetResult r;
        r.target = {host, 5432};
        r.status = old_root_ok ? Status::Ok : Status::Critical;
        r.readiness.plaintext_probed = true;
        PlaintextReport pt;
        pt.verdict = PlaintextVerdict::Refused;
        pt.user = "alice";
        pt.message = "no pg_hba.conf entry <x>";
        r.readiness.plaintext = pt;
        BundleCheck old_root;
        old_root.report.bundle = "old-root.pem";
        old_root.report.verified = old_root_ok;
        old_root.report.anchor_subject = old_root_ok ? "CN=Old Root" : "";
        old_root.report.anchor_sha256 = old_root_ok ? "aa11" : "";
        old_root.report.path_length = old_root_ok ? 3 : 0;
        old_root.report.error = old_root_ok ? "" : "unable to get local issuer certificate";
        BundleCheck new_root;
        new_root.report.bundle = "new-root.pem";
        new_root.report.verified = true;
        new_root.report.anchor_subject = "CN=New Root";
        new_root.report.anchor_sha256 = "bb22";
        new_root.report.path_length = 3;
        r.readiness.bundles = {old_root, new_root};
        r.readiness.bundles_checked = true;
        return r;
    };
    Options o;
    o.format = Format::Html;
    const std::vector<TargetResult> rs = {target("primary", true), target("replica", false)};
    const std::string h = format_report({rs, o, kNow});
    EXPECT_NE(h.find("refused (user alice): no pg_hba.conf entry &lt;x&gt;"), std::string::npos);
    EXPECT_NE(h.find("old-root.pem: verified, anchor CN=Old Root (path 3)"), std::string::npos);
    EXPECT_NE(h.find("old-root.pem: <b>fails</b>: unable to get local issuer certificate"), std::string::npos);
    EXPECT_NE(h.find("<section id=\"trust\">"), std::string::npos);
    EXPECT_NE(h.find("<td><code>old-root.pem</code></td><td>replica:5432</td>"), std::string::npos) << h;
    EXPECT_NE(h.find("<td><code>new-root.pem</code></td><td>every target verifies</td>"), std::string::npos);
    EXPECT_NE(h.find("CN=New Root <code>bb22</code>"), std::string::npos);
}
