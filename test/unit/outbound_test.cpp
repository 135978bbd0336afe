// The decisions about an outbound link (src/core/access/outbound.hpp): effective
// sslmode and its source, server verification, loopback classification
// without DNS, stored passwords.
#include <gtest/gtest.h>

#include <string>

#include "access/outbound.hpp"

using namespace tls_audit;

namespace {

ConnOptions opts(std::initializer_list<std::pair<const char *, const char *>> kv) {
    ConnOptions out;
    // PQconninfoParse reports every keyword; unset ones have no value.
    for (const char *k : {"host", "hostaddr", "port", "sslmode", "sslrootcert", "sslcert", "password", "service"})
        out.push_back(ConnOption{k, std::nullopt});
    for (const auto &[k, v] : kv) {
        bool replaced = false;
        for (auto &o : out)
            if (o.keyword == k) {
                o.value = v;
                replaced = true;
            }
        if (!replaced) out.push_back(ConnOption{k, std::string(v)});
    }
    return out;
}

ConnDefaults defaults(int libpq = 180000) {
    ConnDefaults d;
    d.compiled = {{"sslmode", "prefer"}, {"channel_binding", "prefer"}, {"ssl_min_protocol_version", "TLSv1.2"}};
    d.default_socket_dir = "/var/run/postgresql";
    d.default_root_cert = "/var/lib/postgresql/.postgresql/root.crt";
    d.libpq_version = libpq;
    return d;
}

bool has_note(const LinkAssessment &a, const std::string &part) {
    for (const auto &n : a.notes)
        if (n.find(part) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST(Outbound, LoopbackHosts) {
    EXPECT_TRUE(is_loopback_host("127.0.0.1"));
    EXPECT_TRUE(is_loopback_host("127.255.3.4"));
    EXPECT_TRUE(is_loopback_host("::1"));
    EXPECT_TRUE(is_loopback_host("[::1]"));
    EXPECT_TRUE(is_loopback_host("::ffff:127.0.0.1"));
    EXPECT_TRUE(is_loopback_host("localhost"));
    EXPECT_TRUE(is_loopback_host("LocalHost"));
    EXPECT_TRUE(is_loopback_host("/var/run/postgresql"));
    EXPECT_TRUE(is_loopback_host("@abstract"));
    EXPECT_FALSE(is_loopback_host(""));
    EXPECT_FALSE(is_loopback_host("128.0.0.1"));
    EXPECT_FALSE(is_loopback_host("10.0.0.1"));
    EXPECT_FALSE(is_loopback_host("::2"));
    EXPECT_FALSE(is_loopback_host("::ffff:10.0.0.1"));
    EXPECT_FALSE(is_loopback_host("localhost.example.org"));  // a name: never resolved
    EXPECT_FALSE(is_loopback_host("db.example.org"));
}

TEST(Outbound, UnsetSslmodeIsLibpqDefault) {
    const auto a = assess_link(opts({{"host", "db.example.org"}}), defaults());
    EXPECT_EQ(a.sslmode, "prefer");
    EXPECT_EQ(a.sslmode_source, SettingSource::LibpqDefault);
    EXPECT_TRUE(has_note(a, "not set"));
    EXPECT_FALSE(a.verifies_server);
    EXPECT_FALSE(a.loopback_only);
    EXPECT_EQ(a.host, "db.example.org");
}

TEST(Outbound, LibpqWithoutSslDefaultsToDisable) {
    ConnDefaults d = defaults();
    d.compiled = {{"sslmode", "disable"}};
    EXPECT_EQ(assess_link(opts({{"host", "h"}}), d).sslmode, "disable");
}

TEST(Outbound, SslmodeFromConninfoBeatsEnvironment) {
    ConnDefaults d = defaults();
    d.environment = {{"sslmode", "require"}};
    auto a = assess_link(opts({{"host", "h"}, {"sslmode", "verify-full"}}), d);
    EXPECT_EQ(a.sslmode, "verify-full");
    EXPECT_EQ(a.sslmode_source, SettingSource::ConnectionString);
    EXPECT_TRUE(a.verifies_server);
    EXPECT_TRUE(a.checks_host_name);
    a = assess_link(opts({{"host", "h"}}), d);
    EXPECT_EQ(a.sslmode, "require");
    EXPECT_EQ(a.sslmode_source, SettingSource::Environment);
    EXPECT_TRUE(has_note(a, "PGSSLMODE"));
}

TEST(Outbound, VerifyCaDoesNotCheckHostName) {
    const auto a = assess_link(opts({{"host", "h"}, {"sslmode", "verify-ca"}}), defaults());
    EXPECT_TRUE(a.verifies_server);
    EXPECT_FALSE(a.checks_host_name);
    EXPECT_TRUE(has_note(a, "host name"));
}

TEST(Outbound, SystemRootsImplyVerifyFullFromLibpq16) {
    auto a = assess_link(opts({{"host", "h"}, {"sslrootcert", "system"}}), defaults(160000));
    EXPECT_EQ(a.sslmode, "verify-full");
    EXPECT_EQ(a.sslrootcert, "system");
    EXPECT_FALSE(a.sslrootcert_default);
    a = assess_link(opts({{"host", "h"}, {"sslrootcert", "system"}}), defaults(150010));
    EXPECT_EQ(a.sslmode, "prefer");
    EXPECT_TRUE(has_note(a, "libpq 16"));
}

TEST(Outbound, RequiresslIsHonoured) {
    const auto a = assess_link(opts({{"host", "h"}, {"requiressl", "1"}}), defaults(150000));
    EXPECT_EQ(a.sslmode, "require");
}

TEST(Outbound, DefaultRootCert) {
    const auto a = assess_link(opts({{"host", "h"}, {"sslmode", "verify-full"}}), defaults());
    EXPECT_TRUE(a.sslrootcert_default);
    EXPECT_EQ(a.sslrootcert, "/var/lib/postgresql/.postgresql/root.crt");
}

TEST(Outbound, ServiceFileIsNotRead) {
    auto a = assess_link(opts({{"service", "upstream"}}), defaults());
    EXPECT_EQ(a.service, "upstream");
    EXPECT_EQ(a.sslmode, "prefer");
    EXPECT_TRUE(has_note(a, "service file"));
    ConnDefaults d = defaults();
    d.environment = {{"service", "envsvc"}};
    a = assess_link(opts({{"host", "h"}}), d);
    EXPECT_EQ(a.service, "envsvc");
    // A link that sets sslmode itself is not affected by the service file.
    a = assess_link(opts({{"service", "upstream"}, {"sslmode", "verify-full"}}), defaults());
    EXPECT_TRUE(a.service.empty());
}

TEST(Outbound, HostsAndLoopback) {
    auto a = assess_link(opts({}), defaults());
    EXPECT_EQ(a.host, "/var/run/postgresql");
    EXPECT_TRUE(a.loopback_only);
    EXPECT_TRUE(a.unix_socket_only);
    a = assess_link(opts({{"host", "127.0.0.1,::1"}, {"port", "5432,5433"}}), defaults());
    EXPECT_TRUE(a.loopback_only);
    EXPECT_FALSE(a.unix_socket_only);
    EXPECT_EQ(a.port, "5432,5433");
    a = assess_link(opts({{"host", "127.0.0.1,10.1.2.3"}}), defaults());
    EXPECT_FALSE(a.loopback_only);
    // hostaddr decides where the connection goes, whatever the host name says.
    a = assess_link(opts({{"host", "localhost"}, {"hostaddr", "192.0.2.7"}}), defaults());
    EXPECT_FALSE(a.loopback_only);
    EXPECT_EQ(a.host, "localhost (hostaddr 192.0.2.7)");
    a = assess_link(opts({{"host", "db.example.org"}, {"hostaddr", "127.0.0.1"}}), defaults());
    EXPECT_TRUE(a.loopback_only);
    // PGHOST of the server's environment applies when the link has no host.
    ConnDefaults d = defaults();
    d.environment = {{"host", "10.9.9.9"}};
    EXPECT_FALSE(assess_link(opts({}), d).loopback_only);
}

TEST(Outbound, Passwords) {
    EXPECT_TRUE(assess_link(opts({{"host", "h"}, {"password", "s3cret"}}), defaults()).password_in_conninfo);
    EXPECT_FALSE(assess_link(opts({{"host", "h"}, {"password", ""}}), defaults()).password_in_conninfo);
    EXPECT_FALSE(assess_link(opts({{"host", "h"}}), defaults()).password_in_conninfo);
    ConnDefaults d = defaults();
    d.environment = {{"password", "x"}};
    const auto a = assess_link(opts({{"host", "h"}}), d);
    EXPECT_FALSE(a.password_in_conninfo);
    EXPECT_TRUE(a.password_in_environment);
    for (const auto &n : a.notes) EXPECT_EQ(n.find("x\""), std::string::npos);
    EXPECT_TRUE(is_secret_keyword("password"));
    EXPECT_TRUE(is_secret_keyword("sslpassword"));
    EXPECT_FALSE(is_secret_keyword("sslmode"));
}

TEST(Outbound, OtherTlsOptions) {
    const auto a = assess_link(opts({{"host", "h"},
                                     {"sslcert", "/c.crt"},
                                     {"sslnegotiation", "direct"},
                                     {"ssl_min_protocol_version", "TLSv1.3"},
                                     {"channel_binding", "require"}}),
                               defaults());
    EXPECT_TRUE(a.sslcert_present);
    EXPECT_EQ(a.sslnegotiation, "direct");
    EXPECT_EQ(a.ssl_min_protocol_version, "TLSv1.3");
    EXPECT_EQ(a.channel_binding, "require");
    const auto b = assess_link(opts({{"host", "h"}}), defaults());
    EXPECT_FALSE(b.sslcert_present);
    EXPECT_EQ(b.ssl_min_protocol_version, "TLSv1.2");
    EXPECT_EQ(b.channel_binding, "prefer");
    EXPECT_EQ(b.sslnegotiation, "");
}
