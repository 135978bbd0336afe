// The pgbouncer facts of src/core/pooler: its tls column, tls_audit.poolers,
// SHOW CONFIG's TLS settings and its tls_protocols syntax.
#include <gtest/gtest.h>

#include "pooler/pooler_config.hpp"
#include "pooler/pooler_conninfo.hpp"
#include "pooler/pooler_connections.hpp"
#include "pooler/pooler_setting.hpp"
#include "pooler/pooler_tls.hpp"

using namespace tls_audit;

namespace {

PoolerTls tls_of(const char *column) {
    auto r = parse_pooler_tls(column);
    EXPECT_TRUE(r.ok()) << column << ": " << (r.ok() ? "" : r.error().message);
    if (!r.ok() || !r.value()) {
        ADD_FAILURE() << column << " gave no TLS facts";
        return {};
    }
    return *r.value();
}

std::string error_of(std::string_view column) {
    auto r = parse_pooler_tls(column);
    EXPECT_FALSE(r.ok()) << column;
    return r.ok() ? std::string() : r.error().message;
}

}  // namespace

TEST(PoolerTlsTest, EmptyIsPlaintext) {
    auto r = parse_pooler_tls("");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.value().has_value());
}

TEST(PoolerTlsTest, TlsV13WithCurve) {
    // What pgbouncer 1.18 and 1.24 print for a TLS 1.3 client with X25519.
    PoolerTls t = tls_of("TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519");
    EXPECT_EQ(t.protocol, "TLSv1.3");
    EXPECT_EQ(t.cipher, "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(t.key_exchange_group, "x25519");
    EXPECT_EQ(t.ocsp, "");
}

TEST(PoolerTlsTest, TlsV12WithoutKeyExchange) {
    PoolerTls t = tls_of("TLSv1.2/ECDHE-ECDSA-AES256-GCM-SHA384");
    EXPECT_EQ(t.protocol, "TLSv1.2");
    EXPECT_EQ(t.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
    EXPECT_EQ(t.key_exchange_group, "");
}

TEST(PoolerTlsTest, CurveNamesAsSessionsNameThem) {
    EXPECT_EQ(tls_of("TLSv1.2/ECDHE-RSA-AES128-GCM-SHA256/ECDH=prime256v1").key_exchange_group, "secp256r1");
    EXPECT_EQ(tls_of("TLSv1.3/TLS_AES_128_GCM_SHA256/ECDH=secp384r1").key_exchange_group, "secp384r1");
    EXPECT_EQ(tls_of("TLSv1.3/TLS_AES_128_GCM_SHA256/ECDH=X448").key_exchange_group, "x448");
    EXPECT_EQ(group_from_curve_name("secp521r1"), "secp521r1");
}

TEST(PoolerTlsTest, FiniteFieldDh) {
    EXPECT_EQ(tls_of("TLSv1.2/DHE-RSA-AES256-GCM-SHA384/DH=2048").key_exchange_group, "DH-2048");
    EXPECT_EQ(tls_of("TLSv1.2/DHE-RSA-AES256-GCM-SHA384/DH=?").key_exchange_group, "DH");
}

TEST(PoolerTlsTest, OcspResultKeptWhole) {
    PoolerTls t = tls_of("TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519/OCSP=good/2026-01-01");
    EXPECT_EQ(t.key_exchange_group, "x25519");
    EXPECT_EQ(t.ocsp, "good/2026-01-01");
}

TEST(PoolerTlsTest, UnfinishedHandshake) {
    PoolerTls t = tls_of("-/-");
    EXPECT_EQ(t.protocol, "");
    EXPECT_EQ(t.cipher, "");
}

TEST(PoolerTlsTest, RefusesWhatIsNotPgbouncersFormat) {
    EXPECT_NE(error_of("TLSv1.3").find("no PROTOCOL/CIPHER"), std::string::npos);
    EXPECT_NE(error_of("hello/world").find("not a TLS version"), std::string::npos);
    EXPECT_NE(error_of("TLSv1.3/TLS AES/ECDH=X25519").find("not a cipher name"), std::string::npos);
    EXPECT_NE(error_of("TLSv1.3/TLS_AES_256_GCM_SHA384/KX=X25519").find("unknown field"), std::string::npos);
    EXPECT_NE(error_of("TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519/DH=2048").find("more than one"),
              std::string::npos);
    EXPECT_NE(error_of("TLSv1.2/X/DH=12x").find("unknown field"), std::string::npos);
    EXPECT_NE(error_of(std::string(300, 'T')).find("longer than"), std::string::npos);
    // Control characters of a broken column are not echoed.
    const std::string msg = error_of(std::string("TLSv1.3/\x01\x1b[2J", 11));
    EXPECT_EQ(msg.find('\x1b'), std::string::npos);
    EXPECT_EQ(msg.find('\x01'), std::string::npos);
}

// tls_audit.poolers

TEST(PoolersSettingTest, EmptyMeansNone) {
    for (const char *v : {"", "   ", "\t\n"}) {
        auto r = parse_poolers_setting(v);
        ASSERT_TRUE(r.ok()) << v;
        EXPECT_TRUE(r.value().empty());
    }
}

TEST(PoolersSettingTest, NamedEntries) {
    auto r = parse_poolers_setting(" edge = host=127.0.0.1 port=6432 dbname=pgbouncer ; batch_2=host=/run/pgb;");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r.value().size(), 2u);
    EXPECT_EQ(r.value()[0].name, "edge");
    EXPECT_EQ(r.value()[0].conninfo, "host=127.0.0.1 port=6432 dbname=pgbouncer");
    EXPECT_EQ(r.value()[1].name, "batch_2");
    EXPECT_EQ(r.value()[1].conninfo, "host=/run/pgb");
}

TEST(PoolersSettingTest, SemicolonInsideQuotesStaysInTheEntry) {
    auto r = parse_poolers_setting("a=host=h application_name='x;y' ;b=host=h2 options='-c a=\\'1;2\\''");
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r.value().size(), 2u);
    EXPECT_EQ(r.value()[0].conninfo, "host=h application_name='x;y'");
    EXPECT_EQ(r.value()[1].conninfo, "host=h2 options='-c a=\\'1;2\\''");
}

TEST(PoolersSettingTest, RefusesBadValuesWithoutEchoingConnectionStrings) {
    struct Case {
        const char *value;
        const char *expect;
    };
    for (const Case &c : {Case{"edge", "entry 1 has no NAME="},
                          Case{"Edge=host=h", "entry 1 has no valid name"},
                          Case{"1st=host=h", "entry 1 has no valid name"},
                          Case{"host=h password=secret", "entry 1 starts with the connection keyword \"host\""},
                          Case{"a=host=h;user=me password=secret", "entry 2 starts with the connection keyword"},
                          Case{"a=host=h;;b=host=h", "entry 2 is empty"},
                          Case{";a=host=h", "entry 1 is empty"},
                          Case{"a=   ", "entry 1 (\"a\") has an empty connection string"},
                          Case{"a=host=h;a=host=h2", "entry 2 (\"a\") repeats a name"},
                          Case{"a=host=h password='sec;ret", "a single quote is not closed"}}) {
        auto r = parse_poolers_setting(c.value);
        ASSERT_FALSE(r.ok()) << c.value;
        EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << c.value << ": " << r.error().message;
        EXPECT_EQ(r.error().sqlstate, "22023");
        EXPECT_EQ(r.error().message.find("secret"), std::string::npos) << r.error().message;
        EXPECT_EQ(r.error().message.find("sec;ret"), std::string::npos) << r.error().message;
    }
}

TEST(PoolersSettingTest, Limits) {
    std::string many;
    for (std::size_t i = 0; i <= kMaxPoolers; ++i) many += "p" + std::to_string(i) + "=host=h;";
    auto r = parse_poolers_setting(many);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("one too many"), std::string::npos) << r.error().message;
    auto huge = parse_poolers_setting("a=host=" + std::string(kMaxPoolersSettingLength, 'h'));
    ASSERT_FALSE(huge.ok());
    EXPECT_NE(huge.error().message.find("longer than"), std::string::npos);
    EXPECT_FALSE(parse_poolers_setting("a=host=h;" + std::string(64, 'n') + "=host=h").ok());
}

// Where the served certificate is probed (from the parsed connection string).

TEST(PoolerCertTargetTest, HostPortAndTheSystemStore) {
    auto t = pooler_cert_target({{"host", "10.0.0.5"}, {"port", "6432"}, {"dbname", "pgbouncer"}});
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t.value().address, "10.0.0.5");
    EXPECT_EQ(t.value().name, "");
    EXPECT_EQ(t.value().port, 6432);
    EXPECT_EQ(t.value().ca_file, "");
    auto no_port = pooler_cert_target({{"host", "pooler.example"}});
    ASSERT_TRUE(no_port.ok());
    EXPECT_EQ(no_port.value().port, 5432);
}

TEST(PoolerCertTargetTest, HostaddrConnectsHostIsMatched) {
    auto t = pooler_cert_target({{"host", "pooler.example,b.example"}, {"hostaddr", "10.0.0.5,10.0.0.6"},
                                 {"port", "6432,6433"}});
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t.value().address, "10.0.0.5");  // the first of each list, as libpq tries it first
    EXPECT_EQ(t.value().name, "pooler.example");
    EXPECT_EQ(t.value().port, 6432);
}

TEST(PoolerCertTargetTest, Sslrootcert) {
    auto file = pooler_cert_target({{"host", "h"}, {"sslrootcert", "/etc/ssl/pooler-ca.crt"}});
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file.value().ca_file, "/etc/ssl/pooler-ca.crt");
    auto system = pooler_cert_target({{"host", "h"}, {"sslrootcert", "system"}});
    ASSERT_TRUE(system.ok());
    EXPECT_EQ(system.value().ca_file, "");  // libpq 16's keyword for the system store
}

TEST(PoolerCertTargetTest, RefusesWhatCannotBeProbed) {
    struct Case {
        ConnOptions options;
        const char *expect;
    };
    for (const Case &c : {Case{{{"host", "/run/pgbouncer"}}, "unix socket"},
                          Case{{{"host", "@abstract"}}, "unix socket"},
                          Case{{{"dbname", "pgbouncer"}}, "unix socket"},  // libpq's default: a socket
                          Case{{{"host", ""}}, "unix socket"},
                          Case{{{"host", "h"}, {"port", "0"}}, "not a port number"},
                          Case{{{"host", "h"}, {"port", "65536"}}, "not a port number"},
                          Case{{{"host", "h"}, {"port", "99999999999999999999"}}, "not a port number"},
                          Case{{{"host", "h"}, {"port", "64x"}}, "not a port number"},
                          Case{{{"host", "h"}, {"port", "-1"}}, "not a port number"}}) {
        auto t = pooler_cert_target(c.options);
        ASSERT_FALSE(t.ok()) << c.expect;
        EXPECT_EQ(t.error().sqlstate, "22023");
        EXPECT_NE(t.error().message.find(c.expect), std::string::npos) << t.error().message;
    }
}

// SHOW CONFIG

TEST(PoolerConfigTest, DefaultsForKeysAnOlderPoolerLacks) {
    PoolerConfig c = pooler_config_from_rows({{"listen_port", "6432"}, {"client_tls_sslmode", "require"}});
    EXPECT_EQ(c.client.sslmode, "require");
    EXPECT_EQ(c.client.protocols, "secure");
    EXPECT_EQ(c.client.ciphers, "default");
    EXPECT_EQ(c.server.sslmode, "prefer");
    EXPECT_EQ(c.server.protocols, "secure");
}

TEST(PoolerConfigTest, ReadsBothLegs) {
    PoolerConfig c = pooler_config_from_rows({{"client_tls_protocols", "tlsv1.3"},
                                              {"client_tls13_ciphers", "TLS_AES_256_GCM_SHA384"},
                                              {"server_tls_sslmode", "verify-full"},
                                              {"server_tls_ciphers", "HIGH"},
                                              {"server_tls_ca_file", "/etc/ca.crt"},
                                              {"client_tls_cert_file", "/etc/pgb.crt"}});
    EXPECT_EQ(c.client.protocols, "tlsv1.3");
    EXPECT_EQ(c.client.tls13_ciphers, "TLS_AES_256_GCM_SHA384");
    EXPECT_EQ(c.client.cert_file, "/etc/pgb.crt");
    EXPECT_EQ(c.server.sslmode, "verify-full");
    EXPECT_EQ(c.server.ciphers, "HIGH");
    EXPECT_EQ(c.server.ca_file, "/etc/ca.crt");
    EXPECT_TRUE(is_pooler_tls_setting("client_tls_sslmode"));
    EXPECT_TRUE(is_pooler_tls_setting("server_tls13_ciphers"));
    EXPECT_FALSE(is_pooler_tls_setting("listen_port"));
    EXPECT_FALSE(is_pooler_tls_setting("client_idle_timeout"));
}

TEST(PoolerConfigTest, ProtocolsAsPgbouncerReadsThem) {
    auto names = [](const char *v) {
        auto r = parse_pooler_protocols(v);
        EXPECT_TRUE(r.ok()) << v;
        std::string out;
        if (r.ok())
            for (Protocol p : r.value()) out += std::string(out.empty() ? "" : ",") + protocol_name(p);
        return out;
    };
    EXPECT_EQ(names("secure"), "TLSv1.2,TLSv1.3");
    EXPECT_EQ(names("default"), "TLSv1.2,TLSv1.3");
    EXPECT_EQ(names("all"), "TLSv1,TLSv1.1,TLSv1.2,TLSv1.3");
    EXPECT_EQ(names("TLSv1.3"), "TLSv1.3");
    EXPECT_EQ(names("tlsv1.0, tlsv1.2"), "TLSv1,TLSv1.2");
    EXPECT_EQ(names("tlsv1.1:tlsv1.2"), "TLSv1.1,TLSv1.2");
    EXPECT_EQ(names("!tlsv1.0"), "TLSv1.1,TLSv1.2,TLSv1.3");
    EXPECT_EQ(names("all,!tlsv1.0,!tlsv1.1"), "TLSv1.2,TLSv1.3");
    for (const char *bad : {"", "tlsv1.4", "sslv3", "secure,,", "legacy"}) {
        auto r = parse_pooler_protocols(bad);
        EXPECT_FALSE(r.ok()) << bad;
    }
}

TEST(PoolerConfigTest, CipherKeywords) {
    EXPECT_EQ(pooler_cipher_list("default"), "DEFAULT");
    EXPECT_EQ(pooler_cipher_list("Secure"), "DEFAULT");
    EXPECT_EQ(pooler_cipher_list("fast"), "DEFAULT");
    EXPECT_EQ(pooler_cipher_list("HIGH:!aNULL"), "HIGH:!aNULL");
}

// SHOW CLIENTS / SHOW SERVERS rows

TEST(PoolerConnectionsTest, ReadsColumnsByName) {
    // pgbouncer 1.18's columns (1.21+ adds replication, prepared_statements, id).
    const std::vector<std::string> cols = {"type", "user", "database", "state", "addr", "port", "local_addr",
                                           "local_port", "connect_time", "request_time", "wait", "wait_us",
                                           "close_needed", "ptr", "link", "remote_pid", "tls", "application_name"};
    auto row = [](const char *addr, const char *port, const char *tls, const char *app) {
        return std::vector<PoolerCell>{"C", "alice", "app", "active", addr, port, "127.0.0.1", "6432",
                                       "2026-12-06 02:00:00 UTC", "2026-12-06 02:00:01 UTC", "0", "0", "0",
                                       "0x55d0c0a0", "", "0", tls, app};
    };
    auto r = pooler_connections(cols, {row("127.0.0.1", "50000", "TLSv1.2/ECDHE-RSA-AES256-GCM-SHA384/ECDH=prime256v1",
                                           "billing"),
                                       row("::1", "50001", "", "psql"), row("unix", "6432", "", ""),
                                       row("10.0.0.1", "x", "garbage", "")});
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto &c = r.value();
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c[0].user, "alice");
    EXPECT_EQ(c[0].database, "app");
    EXPECT_EQ(c[0].state, "active");
    EXPECT_EQ(c[0].address, std::optional<std::string>("127.0.0.1"));
    EXPECT_EQ(c[0].port, std::optional<int>(50000));
    EXPECT_EQ(c[0].ptr, "0x55d0c0a0");
    EXPECT_EQ(c[0].connect_time, "2026-12-06 02:00:00 UTC");
    EXPECT_EQ(c[0].application_name, "billing");
    EXPECT_EQ(c[0].transport, "tls");
    ASSERT_TRUE(c[0].tls.has_value());
    EXPECT_EQ(c[0].tls->protocol, "TLSv1.2");
    EXPECT_EQ(c[0].tls->key_exchange_group, "secp256r1");
    EXPECT_EQ(c[1].transport, "tcp");
    EXPECT_FALSE(c[1].tls.has_value());
    EXPECT_EQ(c[1].address, std::optional<std::string>("::1"));
    EXPECT_EQ(c[2].transport, "unix");
    EXPECT_FALSE(c[2].address.has_value());
    EXPECT_FALSE(c[3].port.has_value());
    EXPECT_EQ(c[3].transport, "tls");
    EXPECT_FALSE(c[3].tls.has_value());
    EXPECT_NE(c[3].tls_error.find("unrecognised pgbouncer tls column"), std::string::npos);
}

TEST(PoolerConnectionsTest, RefusesAnAnswerWithoutItsColumns) {
    auto r = pooler_connections({"type", "user", "database", "addr", "port"}, {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("no column \"tls\""), std::string::npos) << r.error().message;
    std::vector<std::vector<PoolerCell>> many(kMaxPoolerRows + 1);
    auto big = pooler_connections({"type", "user", "database", "addr", "port", "tls"}, many);
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().sqlstate, "54000");
    EXPECT_EQ(numeric_address("db.example"), std::nullopt);
}
