// Post-quantum readiness over the connection census (src/core/census/pq_readiness.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "census/pq_readiness.hpp"

using namespace tls_audit;

namespace {

CensusRecord record(const char *app, const char *transport, const char *protocol, const char *group,
                    std::int64_t connections, Outcome outcome = Outcome::Authenticated) {
    CensusKeyFields f;
    f.usename = "alice";
    f.datname = "app";
    f.client_addr = "10.0.0.7";
    f.application_name = app;
    f.transport = transport;
    f.protocol = protocol;
    f.outcome = outcome;
    f.key_exchange_group = census_group(group);
    CensusRecord r;
    make_census_key(r.key, f);
    r.connections = connections;
    r.last_seen = connections * 10;
    return r;
}

std::vector<const CensusRecord *> pointers(const std::vector<CensusRecord> &records) {
    std::vector<const CensusRecord *> out;
    for (const CensusRecord &r : records) out.push_back(&r);
    return out;
}

}  // namespace

TEST(CensusGroup, NamesAsOpenSslNamesThem) {
    for (const char *name : {"x25519", "secp256r1", "secp384r1", "secp521r1", "x448", "ffdhe2048", "ffdhe8192",
                             "X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024"}) {
        const CensusGroup g = census_group(name);
        ASSERT_NE(census_group_name(static_cast<std::uint8_t>(g)), nullptr) << name;
        EXPECT_STREQ(census_group_name(static_cast<std::uint8_t>(g)), name);
    }
    EXPECT_EQ(census_group("X25519"), CensusGroup::X25519);        // case as some versions print it
    EXPECT_EQ(census_group("prime256v1"), CensusGroup::Secp256r1);  // the NID's short name
    EXPECT_EQ(census_group(""), CensusGroup::Unknown);
    EXPECT_EQ(census_group("0x11ec"), CensusGroup::Unknown);        // a group OpenSSL could not name
    EXPECT_EQ(census_group("brainpoolP256r1"), CensusGroup::OtherClassic);
    EXPECT_EQ(census_group("X448MLKEM1024"), CensusGroup::OtherHybrid);
    EXPECT_STREQ(census_group_name(static_cast<std::uint8_t>(CensusGroup::OtherHybrid)), "other hybrid");
    EXPECT_EQ(census_group_name(0), nullptr);
    EXPECT_EQ(census_group_name(12), nullptr);
    EXPECT_EQ(census_group_name(255), nullptr);
    EXPECT_TRUE(census_group_hybrid(static_cast<std::uint8_t>(CensusGroup::X25519MLKEM768)));
    EXPECT_FALSE(census_group_hybrid(static_cast<std::uint8_t>(CensusGroup::X25519)));
    // The key stores it and stays canonical.
    CensusRecord r = record("a", "tls", "TLSv1.3", "SecP384r1MLKEM1024", 1);
    EXPECT_TRUE(census_key_canonical(r.key));
    EXPECT_STREQ(census_group_name(r.key.key_exchange_group), "SecP384r1MLKEM1024");
}

TEST(PqReadiness, HybridAndNotToldApart) {
    const std::vector<CensusRecord> records = {
        record("psql18", "tls", "TLSv1.3", "X25519MLKEM768", 5),
        record("restricted", "tls", "TLSv1.3", "x25519", 3),
        record("old-jdbc", "tls", "TLSv1.2", "secp256r1", 7),
        record("local", "unix", "", "", 2),
        record("before-1.2", "tls", "TLSv1.3", "", 4),
        record("failed", "tls", "TLSv1.3", "x25519", 9, Outcome::AuthFailed),
    };
    auto rows = pq_readiness(pointers(records));
    ASSERT_EQ(rows.size(), 5u);  // the failed login gives no row
    // Not ready first, most connections first.
    EXPECT_EQ(rows[0].application_name, "old-jdbc");
    EXPECT_FALSE(rows[0].hybrid);
    EXPECT_EQ(rows[0].protocol, "TLSv1.2");
    EXPECT_EQ(rows[0].key_exchange_group, "secp256r1");
    EXPECT_EQ(rows[0].reason, "TLSv1.2: hybrid post-quantum groups need TLS 1.3");
    EXPECT_EQ(rows[0].connections, 7);
    EXPECT_EQ(rows[0].last_seen, 70);
    EXPECT_EQ(rows[1].application_name, "before-1.2");
    EXPECT_EQ(rows[1].reason, "key-exchange group not recorded");
    EXPECT_EQ(rows[1].key_exchange_group, "");
    EXPECT_EQ(rows[2].application_name, "restricted");
    EXPECT_NE(rows[2].reason.find("classic key exchange x25519"), std::string::npos) << rows[2].reason;
    EXPECT_EQ(rows[3].application_name, "local");
    EXPECT_EQ(rows[3].reason, "no TLS (unix)");
    EXPECT_EQ(rows[4].application_name, "psql18");
    EXPECT_TRUE(rows[4].hybrid);
    EXPECT_EQ(rows[4].reason, "");
    EXPECT_EQ(rows[4].key_exchange_group, "X25519MLKEM768");

    auto s = pq_readiness_summary(pointers(records));
    EXPECT_EQ(s.total, 21);
    EXPECT_EQ(s.hybrid, 5);
    ASSERT_TRUE(s.hybrid_share);
    EXPECT_DOUBLE_EQ(*s.hybrid_share, 5.0 / 21.0);
    EXPECT_EQ(s.tls12, 7);
    EXPECT_EQ(s.no_tls, 2);
    EXPECT_EQ(s.unknown, 4);
    EXPECT_EQ(s.clients_not_ready, 4);
}

TEST(PqReadiness, SameClientAddsUp) {
    const std::vector<CensusRecord> records = {
        record("app", "tls", "TLSv1.3", "X25519MLKEM768", 2),
        record("app", "tls", "TLSv1.3", "X25519MLKEM768", 3),
    };
    auto rows = pq_readiness(pointers(records));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].connections, 5);
    EXPECT_EQ(rows[0].last_seen, 30);
    EXPECT_TRUE(pq_readiness({}).empty());
    auto empty = pq_readiness_summary({});
    EXPECT_EQ(empty.total, 0);
    EXPECT_FALSE(empty.hybrid_share);
}
