// pg_tls_check's new options, the Prometheus format and the atomic --output.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "enumerate.hpp"
#include "format.hpp"
#include "options.hpp"
#include "output_file.hpp"

using namespace tls_audit;
using namespace tls_audit::cli;

TEST(CliEnumerateOptions, Parse) {
    auto o = parse_args({"--enumerate", "db:5433"});
    ASSERT_TRUE(o);
    EXPECT_TRUE(o.value().enumerate);
    auto p = parse_args({"--profile", "modern", "db"});
    ASSERT_TRUE(p);
    EXPECT_EQ(p.value().profile, "modern");
    EXPECT_TRUE(p.value().enumerate);  // implied
    auto bad = parse_args({"--profile=paranoid", "db"});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("unknown TLS profile \"paranoid\""), std::string::npos);
    auto f = parse_args({"--format", "prometheus", "--output", "/tmp/x.prom", "db"});
    ASSERT_TRUE(f);
    EXPECT_EQ(f.value().format, Format::Prometheus);
    EXPECT_EQ(f.value().output, "/tmp/x.prom");
    EXPECT_FALSE(parse_args({"--output=", "db"}));
    EXPECT_FALSE(parse_args({"--format", "xml", "db"}));
}

namespace {

TargetResult enumerated_result() {
    TargetResult r;
    r.target = {"127.0.0.1", 5432};
    TargetReport rep;
    ProtocolReport p12;
    p12.protocol = Protocol::TLSv1_2;
    p12.accepted = true;
    p12.cipher = "ECDHE-RSA-AES128-GCM-SHA256";
    rep.protocols.push_back(p12);
    ChainReport chain;
    CertInfo leaf;
    leaf.subject = "CN=\"quoted\"\\back";
    leaf.not_after = 1700000000 + 86400;
    chain.certificates.push_back(leaf);
    rep.chain = chain;
    r.report = rep;
    Enumeration e;
    ProtocolSuites s;
    s.protocol = Protocol::TLSv1_2;
    s.suites.push_back(*describe_suite("ECDHE-RSA-AES128-GCM-SHA256"));
    s.suites.push_back(*describe_suite("AES128-SHA"));
    s.server_preference = true;
    e.ciphers.protocols.push_back(s);
    e.groups.groups.push_back({Protocol::TLSv1_2, "P-256", GroupStatus::Supported, true, {}});
    e.groups.dhe_accepted = true;
    e.groups.dhe_bits = 1024;
    r.enumeration = e;
    return r;
}

}  // namespace

TEST(CliEnumerateFindings, WeakInsecureSmallDhe) {
    std::vector<cli::Finding> f;
    check_enumeration(enumerated_result().enumeration.value(), f);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].code, "cipher_weak");
    EXPECT_EQ(f[0].severity, Status::Warning);
    EXPECT_NE(f[0].message.find("AES128-SHA"), std::string::npos);
    EXPECT_EQ(f[1].code, "dhe_group_small");
}

// A bidirectional control in a label value is shown as "\u202E" (the
// backslash escaped as the text format wants), never passed through.
TEST(CliPrometheus, BidiControlsInLabelsAreVisible) {
    Options o;
    o.format = Format::Prometheus;
    std::vector<TargetResult> rs{enumerated_result()};
    rs[0].report->chain->certificates[0].subject = "CN=\xE2\x80\xAEgro.elpmaxe\xE2\x80\x8F";
    const std::string text = format_prometheus({rs, o, 1700000000});
    EXPECT_EQ(text.find("\xE2\x80\xAE"), std::string::npos);
    EXPECT_EQ(text.find("\xE2\x80\x8F"), std::string::npos);
    EXPECT_NE(text.find("subject=\"CN=\\\\u202Egro.elpmaxe\\\\u200F\"}"), std::string::npos) << text;
}

TEST(CliPrometheus, FamiliesLabelsValues) {
    Options o;
    o.format = Format::Prometheus;
    std::vector<TargetResult> rs{enumerated_result()};
    rs[0].status = Status::Warning;
    std::string text = format_prometheus({rs, o, 1700000000});
    EXPECT_NE(text.find("# TYPE tls_audit_probe_up gauge\ntls_audit_probe_up{target=\"127.0.0.1:5432\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("tls_audit_probe_status{target=\"127.0.0.1:5432\"} 1\n"), std::string::npos);
    // Escaped label values; exact integers.
    EXPECT_NE(text.find("subject=\"CN=\\\"quoted\\\"\\\\back\"} 86400\n"), std::string::npos) << text;
    EXPECT_NE(text.find("tls_audit_probe_last_run_timestamp_seconds 1700000000\n"), std::string::npos);
    EXPECT_NE(text.find("tls_audit_probe_cipher_suites{target=\"127.0.0.1:5432\",protocol=\"TLSv1.2\",strength=\"weak\"} 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("tls_audit_probe_dhe_bits{target=\"127.0.0.1:5432\"} 1024\n"), std::string::npos);
    // One HELP/TYPE block per family.
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find("# TYPE tls_audit_probe_cipher_suites gauge", at)) != std::string::npos; ++at) ++n;
    EXPECT_EQ(n, 1u);
}

TEST(CliOutputFile, AtomicReplace) {
    char dir[] = "/tmp/pg_tls_check_out.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string path = std::string(dir) + "/r.prom";
    ASSERT_FALSE(write_file_atomically(path, "first\n"));
    ASSERT_FALSE(write_file_atomically(path, "second\n"));
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    EXPECT_EQ(s.str(), "second\n");
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    auto err = write_file_atomically(std::string(dir) + "/missing/r.prom", "x");
    ASSERT_TRUE(err);
    EXPECT_EQ(err->sqlstate, sqlstate::kIoError);
    unlink(path.c_str());
    EXPECT_EQ(rmdir(dir), 0);  // nothing else left behind
}

// A group whose answer is unknown is said so in every format, never shown as
// unsupported: text and TAP name it, JSON has supported null and the status,
// Prometheus has no 0 sample for it.
TEST(CliEnumerateGroups, UndeterminedAndNotTestableAreShown) {
    TargetResult r = enumerated_result();
    GroupEnumeration &g = r.enumeration->groups;
    g.certificate_curve = "P-256";
    g.groups.push_back({Protocol::TLSv1_2, "x25519", GroupStatus::Undetermined, false, "picked P-256"});
    g.groups.push_back({Protocol::TLSv1_3, "P-256", GroupStatus::Supported, true, {}});
    g.groups.push_back({Protocol::TLSv1_3, "X25519MLKEM768", GroupStatus::NotTestable, false,
                        "not supported by this OpenSSL 3.0.99"});
    std::ostringstream text;
    write_enumeration_text(text, *r.enumeration);
    EXPECT_NE(text.str().find("undetermined: x25519 (the server picks its certificate's curve P-256)"),
              std::string::npos)
        << text.str();
    EXPECT_NE(text.str().find("X25519MLKEM768: not supported by this OpenSSL 3.0.99"), std::string::npos)
        << text.str();
    std::ostringstream tap;
    write_enumeration_tap(tap, *r.enumeration);
    EXPECT_NE(tap.str().find("# groups TLSv1.2 undetermined: x25519\n"), std::string::npos) << tap.str();
    EXPECT_NE(tap.str().find("# groups TLSv1.3 not supported by this OpenSSL 3.0.99: X25519MLKEM768\n"),
              std::string::npos)
        << tap.str();
    Options o;
    o.format = Format::Prometheus;
    std::string prom = format_prometheus({{r}, o, 1700000000});
    EXPECT_EQ(prom.find("group=\"x25519\""), std::string::npos) << prom;
    EXPECT_EQ(prom.find("group=\"X25519MLKEM768\""), std::string::npos) << prom;
    EXPECT_NE(prom.find("protocol=\"TLSv1.3\",group=\"P-256\"} 1\n"), std::string::npos) << prom;
}
