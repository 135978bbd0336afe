// pg_tls_check's argument parsing; no network.

#include <gtest/gtest.h>

#include "options.hpp"

using namespace tls_audit;
using namespace tls_audit::cli;

namespace {

Expected<Options> parse(std::vector<std::string> args) { return parse_args(args); }

}  // namespace

TEST(CliOptionsTest, HostPortForms) {
    struct Case {
        const char *text;
        const char *host;
        int port;
    } cases[] = {
        {"db", "db", 5432},           {"db:6432", "db", 6432},         {"127.0.0.1", "127.0.0.1", 5432},
        {"127.0.0.1:1", "127.0.0.1", 1}, {"[::1]", "::1", 5432},        {"[::1]:5433", "::1", 5433},
        {"::1", "::1", 5432},         {"fe80::1:2", "fe80::1:2", 5432}, {"db:65535", "db", 65535},
    };
    for (const auto &c : cases) {
        auto hp = parse_host_port(c.text);
        ASSERT_TRUE(hp.ok()) << c.text << ": " << hp.error().message;
        EXPECT_EQ(hp.value().host, c.host) << c.text;
        EXPECT_EQ(hp.value().port, c.port) << c.text;
    }
}

TEST(CliOptionsTest, BadHostPorts) {
    for (const char *bad : {"", ":5432", "db:", "db:0", "db:65536", "db:x", "db: 1", "db:+1", "[::1", "[::1]x",
                            "[::1]:", "[]:5432", "db:-1"}) {
        auto hp = parse_host_port(bad);
        EXPECT_FALSE(hp.ok()) << "\"" << bad << "\" was accepted";
        if (!hp.ok()) {
            EXPECT_EQ(hp.error().sqlstate, sqlstate::kInvalidParameter);
        }
    }
}

TEST(CliOptionsTest, Defaults) {
    auto o = parse({"db"});
    ASSERT_TRUE(o.ok()) << o.error().message;
    EXPECT_EQ(o.value().min_days, 30);
    EXPECT_EQ(o.value().critical_days, 7);
    EXPECT_EQ(o.value().min_protocol, Protocol::TLSv1_2);
    EXPECT_EQ(o.value().timeout_ms, 5000);
    EXPECT_EQ(o.value().jobs, 4);
    EXPECT_EQ(o.value().format, Format::Text);
    EXPECT_EQ(o.value().ca_file, "");
    ASSERT_EQ(o.value().targets.size(), 1u);
}

TEST(CliOptionsTest, EveryOptionInBothSpellings) {
    auto a = parse({"--min-days", "40", "--critical-days", "10", "--min-protocol", "tlsv1.3", "--ca-file", "ca.pem",
                    "--sni", "db.example", "--timeout", "250", "--jobs", "8", "--format", "json", "--targets", "t.txt",
                    "h1", "h2:6000"});
    auto b = parse({"--min-days=40", "--critical-days=10", "--min-protocol=TLSv1.3", "--ca-file=ca.pem",
                    "--sni=db.example", "--timeout=250", "--jobs=8", "--format=json", "--targets=t.txt", "h1",
                    "h2:6000"});
    for (const auto *o : {&a, &b}) {
        ASSERT_TRUE(o->ok()) << o->error().message;
        const Options &v = o->value();
        EXPECT_EQ(v.min_days, 40);
        EXPECT_EQ(v.critical_days, 10);
        EXPECT_EQ(v.min_protocol, Protocol::TLSv1_3);
        EXPECT_EQ(v.ca_file, "ca.pem");
        EXPECT_EQ(v.sni, "db.example");
        EXPECT_EQ(v.timeout_ms, 250);
        EXPECT_EQ(v.jobs, 8);
        EXPECT_EQ(v.format, Format::Json);
        EXPECT_EQ(v.targets_file, "t.txt");
        ASSERT_EQ(v.targets.size(), 2u);
        EXPECT_EQ(v.targets[1].port, 6000);
    }
    for (const char *f : {"text", "json", "tap", "nagios"}) {
        auto o = parse({"--format", f, "db"});
        ASSERT_TRUE(o.ok());
        EXPECT_STREQ(format_name(o.value().format), f);
    }
}

TEST(CliOptionsTest, UsageErrors) {
    std::vector<std::vector<std::string>> bad = {
        {},                                      // no target
        {"--min-days", "30"},                    // still no target
        {"--bogus", "db"},                       // unknown long option
        {"-x", "db"},                            // unknown short option
        {"db", "--jobs"},                        // missing value
        {"--jobs", "0", "db"},                   // out of range
        {"--jobs", "257", "db"},
        {"--timeout", "0", "db"},
        {"--timeout", "12ms", "db"},
        {"--min-days", "-1", "db"},
        {"--format", "xml", "db"},
        {"--min-protocol", "SSLv3", "db"},
        {"--min-protocol", "TLSv1.4", "db"},
        {"--critical-days", "40", "db"},         // above --min-days 30
        {"--ca-file=", "db"},
        {"db:99999"},
    };
    for (const auto &args : bad) {
        auto o = parse(args);
        std::string joined;
        for (const auto &a : args) joined += a + " ";
        EXPECT_FALSE(o.ok()) << "accepted: " << joined;
        if (!o.ok()) {
            EXPECT_EQ(o.error().sqlstate, sqlstate::kInvalidParameter);
            EXPECT_FALSE(o.error().message.empty());
        }
    }
}

TEST(CliOptionsTest, HelpAndVersionNeedNoTarget) {
    auto h = parse({"--help"});
    ASSERT_TRUE(h.ok());
    EXPECT_TRUE(h.value().help);
    auto v = parse({"-V"});
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(v.value().version);
    // The help names every option the parser knows.
    std::string text = usage();
    for (const char *opt : {"--targets", "--min-days", "--critical-days", "--min-protocol", "--ca-file", "--sni",
                            "--timeout", "--jobs", "--format", "--help", "--version"})
        EXPECT_NE(text.find(opt), std::string::npos) << opt;
}

TEST(CliOptionsTest, DoubleDashEndsOptions) {
    auto o = parse({"--", "db", "[::1]:7"});
    ASSERT_TRUE(o.ok());
    ASSERT_EQ(o.value().targets.size(), 2u);
    EXPECT_EQ(o.value().targets[1].host, "::1");
}

TEST(CliOptionsTest, TargetsFile) {
    auto t = parse_targets_file("# fleet\n\ndb1\n  db2:6432   # replica\r\n[::1]:5433\n\t\n# end");
    ASSERT_TRUE(t.ok()) << t.error().message;
    ASSERT_EQ(t.value().size(), 3u);
    EXPECT_EQ(t.value()[0].host, "db1");
    EXPECT_EQ(t.value()[1].host, "db2");
    EXPECT_EQ(t.value()[1].port, 6432);
    EXPECT_EQ(t.value()[2].host, "::1");
    EXPECT_TRUE(parse_targets_file("").ok());
    EXPECT_TRUE(parse_targets_file("# only comments\n").value().empty());

    auto bad = parse_targets_file("db1\ndb2 db3\n");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message.rfind("line 2:", 0), 0u) << bad.error().message;
    auto badport = parse_targets_file("\n\ndb:x\n");
    ASSERT_FALSE(badport.ok());
    EXPECT_EQ(badport.error().message.rfind("line 3:", 0), 0u) << badport.error().message;
}

TEST(CliOptionsTest, DirectTlsIsAFlag) {
    auto plain = parse({"db"});
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain.value().direct_tls);  // off by default
    auto on = parse({"--direct-tls", "db"});
    ASSERT_TRUE(on.ok()) << on.error().message;
    EXPECT_TRUE(on.value().direct_tls);
    ASSERT_EQ(on.value().targets.size(), 1u);  // takes no value: "db" stays a target
    EXPECT_EQ(on.value().targets[0].host, "db");
    EXPECT_FALSE(parse({"--direct-tls=yes", "db"}).ok());
    EXPECT_NE(usage().find("--direct-tls"), std::string::npos);
}
