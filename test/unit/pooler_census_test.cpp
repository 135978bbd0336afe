// The census of a pooler's clients (src/core/census/pooler_census.hpp):
// which SHOW CLIENTS rows count, the key each gets, and the set that counts
// each client connection once however many samples list it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/protocol.hpp"
#include "census/census_key.hpp"
#include "census/pooler_census.hpp"
#include "pooler/pooler_connections.hpp"

using namespace tls_audit;

namespace {

const std::vector<std::string> kColumns = {"type", "user", "database", "state", "addr", "port", "connect_time",
                                           "ptr", "tls", "application_name"};

std::vector<PoolerCell> row(const char *ptr, const char *connect_time, const char *tls, const char *app,
                            const char *database = "app", const char *addr = "10.0.0.7") {
    return {"C", "alice", database, "active", addr, "50000", connect_time, ptr, tls, app};
}

std::vector<PoolerConnection> sample(const std::vector<std::vector<PoolerCell>> &rows) {
    auto r = pooler_connections(kColumns, rows);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : std::vector<PoolerConnection>{};
}

std::vector<std::string> apps(const std::vector<const PoolerConnection *> &fresh) {
    std::vector<std::string> out;
    out.reserve(fresh.size());
    for (const PoolerConnection *c : fresh) out.push_back(c->application_name);
    return out;
}

constexpr const char *kT1 = "2026-12-06 05:00:00 UTC";
constexpr const char *kT2 = "2026-12-06 05:00:07 UTC";
constexpr const char *kTls12 = "TLSv1.2/ECDHE-ECDSA-AES256-GCM-SHA384/ECDH=prime256v1";
constexpr const char *kTls13 = "TLSv1.3/TLS_AES_256_GCM_SHA384/ECDH=X25519";

}  // namespace

TEST(PoolerCensusTest, KeyCarriesTheParsedTlsAndThePoolerName) {
    const auto s = sample({row("0x1", kT1, kTls12, "billing")});
    ASSERT_EQ(s.size(), 1u);
    CensusKey k;
    pooler_census_key(s[0], "edge", k);
    EXPECT_STREQ(k.usename, "alice");
    EXPECT_STREQ(k.datname, "app");
    EXPECT_STREQ(k.client_addr, "10.0.0.7");
    EXPECT_STREQ(k.application_name, "billing");
    EXPECT_STREQ(k.transport, "tls");
    EXPECT_STREQ(k.protocol, "TLSv1.2");
    EXPECT_STREQ(k.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
    EXPECT_EQ(k.key_exchange_group, static_cast<std::uint8_t>(CensusGroup::Secp256r1));
    EXPECT_STREQ(k.source, "edge");
    EXPECT_EQ(k.outcome, static_cast<std::uint8_t>(Outcome::Authenticated));
    // What pgbouncer does not show stays unknown.
    EXPECT_EQ(k.auth_method, static_cast<std::uint8_t>(AuthMethod::Unknown));
    EXPECT_EQ(k.hba_line, 0);
    EXPECT_EQ(k.alpn, 0);
    EXPECT_EQ(k.client_cert_verified, 0);
    EXPECT_EQ(k.extended_master_secret, 0);
    EXPECT_TRUE(census_key_canonical(k));
    // Floor readiness judges it like a connection to the server itself.
    EXPECT_EQ(readiness_reason(k, Protocol::TLSv1_3), std::optional<std::string>("TLSv1.2 < TLSv1.3"));
    EXPECT_EQ(readiness_reason(k, Protocol::TLSv1_2), std::nullopt);
}

TEST(PoolerCensusTest, PlaintextAndSocketClients) {
    const auto s = sample({row("0x1", kT1, "", "plain"), row("0x2", kT1, "", "local", "app", "unix")});
    CensusKey plain, local;
    pooler_census_key(s[0], "edge", plain);
    pooler_census_key(s[1], "edge", local);
    EXPECT_STREQ(plain.transport, "tcp");
    EXPECT_STREQ(plain.protocol, "");
    EXPECT_EQ(plain.key_exchange_group, 0);
    EXPECT_EQ(readiness_reason(plain, Protocol::TLSv1_3), std::optional<std::string>("no TLS"));
    EXPECT_STREQ(local.transport, "unix");
    EXPECT_STREQ(local.client_addr, "") << "no numeric address for a socket";
    EXPECT_EQ(readiness_reason(local, Protocol::TLSv1_3), std::nullopt);
}

TEST(PoolerCensusTest, LongNamesAreCutLikeEveryKey) {
    const std::string app(300, 'a');
    const auto s = sample({row("0x1", kT1, kTls13, app.c_str())});
    CensusKey k;
    pooler_census_key(s[0], std::string(100, 'p'), k);
    EXPECT_EQ(std::string(k.application_name), std::string(kCensusAppLen - 1, 'a'));
    EXPECT_EQ(std::string(k.source), std::string(kCensusSourceLen - 1, 'p'));
    EXPECT_TRUE(census_key_canonical(k));
}

TEST(PoolerCensusTest, WhatIsNotCounted) {
    const auto s = sample({row("0x1", kT1, "", "console", "pgbouncer"),   // the admin console (us among them)
                           row("0x2", kT1, "-/-", "handshaking"),          // TLS handshake not finished
                           row("0x3", kT1, "garbage", "unreadable"),       // tls column not pgbouncer's
                           row("", kT1, kTls13, "no ptr"),                 // no identity
                           row("0x4", kT1, kTls13, "counted")});
    ASSERT_EQ(s.size(), 5u);
    EXPECT_FALSE(pooler_client_countable(s[0]));
    EXPECT_FALSE(pooler_client_countable(s[1]));
    EXPECT_FALSE(pooler_client_countable(s[2]));
    EXPECT_FALSE(pooler_client_countable(s[3]));
    EXPECT_TRUE(pooler_client_countable(s[4]));
    PoolerSeenSet seen;
    EXPECT_EQ(apps(seen.new_connections(s)), std::vector<std::string>{"counted"});
    EXPECT_EQ(seen.size(), 1u);
}

TEST(PoolerCensusTest, EachConnectionCountsOnceAcrossSamples) {
    PoolerSeenSet seen;
    const auto first = sample({row("0x1", kT1, kTls12, "a"), row("0x2", kT1, kTls13, "b")});
    EXPECT_EQ(apps(seen.new_connections(first)), (std::vector<std::string>{"a", "b"}));
    // The same two connections, sample after sample: nothing new.
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(seen.new_connections(first).empty()) << i;
    // A third connection joins: only it.
    const auto second = sample({row("0x1", kT1, kTls12, "a"), row("0x2", kT1, kTls13, "b"), row("0x3", kT2, kTls12, "c")});
    EXPECT_EQ(apps(seen.new_connections(second)), std::vector<std::string>{"c"});
    EXPECT_EQ(seen.size(), 3u);
}

TEST(PoolerCensusTest, AReusedPtrWithAnotherConnectTimeIsANewConnection) {
    PoolerSeenSet seen;
    EXPECT_EQ(seen.new_connections(sample({row("0x1", kT1, kTls12, "a")})).size(), 1u);
    // "a" left; pgbouncer gave its slot to a new client.
    EXPECT_EQ(apps(seen.new_connections(sample({row("0x1", kT2, kTls12, "a")}))), std::vector<std::string>{"a"});
    // The same ptr and connect_time listed twice in one sample counts once.
    // pgbouncer 1.21+: the id tells connections apart within one second.
    const std::vector<std::string> with_id = {"type", "user", "database", "addr", "port", "connect_time", "ptr", "tls", "id"};
    auto one = [&](const char *id) {
        auto r = pooler_connections(with_id, {{"C", "alice", "app", "10.0.0.7", "1", kT1, "0x1", kTls12, id}});
        EXPECT_TRUE(r.ok());
        return r.value();
    };
    PoolerSeenSet ids;
    EXPECT_EQ(ids.new_connections(one("17")).size(), 1u);
    EXPECT_EQ(ids.new_connections(one("17")).size(), 0u);
    EXPECT_EQ(ids.new_connections(one("18")).size(), 1u);
    PoolerSeenSet twice;
    EXPECT_EQ(twice.new_connections(sample({row("0x9", kT1, kTls12, "x"), row("0x9", kT1, kTls12, "x")})).size(), 1u);
}

TEST(PoolerCensusTest, TheSetHoldsOnlyTheLastSample) {
    PoolerSeenSet seen;
    std::vector<std::vector<PoolerCell>> rows;
    std::vector<std::string> ptrs;
    rows.reserve(1000);
    ptrs.reserve(1000);
    for (int i = 0; i < 1000; ++i) ptrs.push_back("0x" + std::to_string(1000 + i));
    for (const std::string &p : ptrs) rows.push_back(row(p.c_str(), kT1, kTls13, "many"));
    EXPECT_EQ(seen.new_connections(sample(rows)).size(), 1000u);
    EXPECT_EQ(seen.size(), 1000u);
    // Every one of them closed: the set is empty again (bounded by one sample).
    EXPECT_TRUE(seen.new_connections({}).empty());
    EXPECT_EQ(seen.size(), 0u);
    // Closed connections never come back; had one come back it would count again.
    EXPECT_EQ(seen.new_connections(sample({rows[0]})).size(), 1u);
    seen.clear();
    EXPECT_EQ(seen.size(), 0u);
}
