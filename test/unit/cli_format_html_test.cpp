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
