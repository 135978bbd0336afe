// Floor readiness aggregated from census entries: grouping, sums, order,
// the summary's counts and share.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "census/census_key.hpp"
#include "census/census_readiness.hpp"

using namespace tls_audit;

namespace {

CensusRecord record(const char *app, const char *transport, const char *protocol, std::int64_t connections,
                    std::int64_t last_seen, Outcome outcome = Outcome::Authenticated, const char *cipher = "C",
                    const char *reason = nullptr, const char *user = "alice") {
    CensusKeyFields f;
    f.usename = user;
    f.datname = "postgres";
    f.client_addr = "127.0.0.1";
    f.application_name = app;
    f.transport = transport;
    f.protocol = protocol;
    f.cipher = cipher;
    f.reason = reason;
    f.outcome = outcome;
    CensusRecord r;
    make_census_key(r.key, f);
    r.connections = connections;
    r.first_seen = 1;
    r.last_seen = last_seen;
    return r;
}

std::vector<const CensusRecord *> pointers(const std::vector<CensusRecord> &records) {
    std::vector<const CensusRecord *> out;
    for (const CensusRecord &r : records) out.push_back(&r);
    return out;
}

}  // namespace

TEST(CensusReadinessTest, GroupsByClientAndReasonMostConnectionsFirst) {
    const std::vector<CensusRecord> records = {
        record("old", "tls", "TLSv1.2", 3, 100, Outcome::Authenticated, "AES128"),
        record("old", "tls", "TLSv1.2", 4, 300, Outcome::Authenticated, "AES256"),  // same group, other cipher
        record("plain", "tcp", "", 10, 200),
        record("new", "tls", "TLSv1.3", 50, 400),                              // ready
        record("sock", "unix", "", 70, 400),                                   // does not matter
        record("bad", "tls", "TLSv1", 9, 400, Outcome::AuthFailed),            // does not matter
        record("", "tls", "", 2, 500, Outcome::TlsRejected, "", "unsupported protocol", ""),
    };
    const auto rows = floor_readiness(pointers(records), Protocol::TLSv1_3);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].application_name, "plain");
    EXPECT_EQ(rows[0].reason, "no TLS");
    EXPECT_EQ(rows[0].connections, 10);
    EXPECT_EQ(rows[0].last_seen, 200);
    EXPECT_EQ(rows[1].application_name, "old");
    EXPECT_EQ(rows[1].protocol, "TLSv1.2");
    EXPECT_EQ(rows[1].reason, "TLSv1.2 < TLSv1.3");
    EXPECT_EQ(rows[1].connections, 7);
    EXPECT_EQ(rows[1].last_seen, 300);
    EXPECT_EQ(rows[1].usename, "alice");
    EXPECT_EQ(rows[1].datname, "postgres");
    EXPECT_EQ(rows[1].client_addr, "127.0.0.1");
    EXPECT_EQ(rows[2].usename, "");
    EXPECT_EQ(rows[2].reason, "TLS handshake rejected: unsupported protocol");
    EXPECT_EQ(rows[2].connections, 2);

    // A lower floor: TLSv1.2 is ready now.
    const auto lower = floor_readiness(pointers(records), Protocol::TLSv1_2);
    ASSERT_EQ(lower.size(), 2u);
    EXPECT_EQ(lower[0].application_name, "plain");
    EXPECT_EQ(lower[1].reason, "TLS handshake rejected: unsupported protocol");
}

TEST(CensusReadinessTest, EqualConnectionsKeepGroupOrder) {
    const std::vector<CensusRecord> records = {
        record("b", "tcp", "", 5, 1),
        record("a", "tcp", "", 5, 1),
        record("c", "tls", "TLSv1.1", 5, 1),
    };
    const auto rows = floor_readiness(pointers(records), Protocol::TLSv1_2);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].application_name, "a");
    EXPECT_EQ(rows[1].application_name, "b");
    EXPECT_EQ(rows[2].application_name, "c");
}

TEST(CensusReadinessTest, Summary) {
    const std::vector<CensusRecord> records = {
        record("old", "tls", "TLSv1.2", 3, 1, Outcome::Authenticated, "AES128"),
        record("old", "tls", "TLSv1.2", 4, 1, Outcome::Authenticated, "AES256"),  // same client
        record("plain", "tcp", "", 10, 1),
        record("new", "tls", "TLSv1.3", 50, 1),
        record("sock", "unix", "", 13, 1),  // authenticated and ready (no TLS needed)
        record("bad", "tls", "TLSv1", 9, 1, Outcome::AuthFailed),
        record("", "tls", "", 2, 1, Outcome::TlsRejected, "", "unsupported protocol", ""),
    };
    const ReadinessSummary s = floor_readiness_summary(pointers(records), Protocol::TLSv1_3);
    EXPECT_EQ(s.total, 80);
    EXPECT_EQ(s.ready, 63);
    ASSERT_TRUE(s.ready_share.has_value());
    EXPECT_DOUBLE_EQ(*s.ready_share, 63.0 / 80.0);
    EXPECT_EQ(s.clients_not_ready, 2);
    EXPECT_EQ(s.rejected, 2);
}

TEST(CensusReadinessTest, EmptySummaryHasNoShare) {
    const ReadinessSummary s = floor_readiness_summary({}, Protocol::TLSv1_2);
    EXPECT_EQ(s.total, 0);
    EXPECT_EQ(s.ready, 0);
    EXPECT_FALSE(s.ready_share.has_value());
    EXPECT_EQ(s.clients_not_ready, 0);
    EXPECT_EQ(s.rejected, 0);
    EXPECT_TRUE(floor_readiness({}, Protocol::TLSv1_2).empty());
}
