// What the core reads from a pooler's admin-console connection and answers
// beyond the connections themselves: SHOW CONFIG's rows, whether the pooler
// serves TLS, the password test, where its certificate is probed, and
// pg_tls_check's --pooler [NAME=]CONNINFO.
#include <gtest/gtest.h>

#include "pooler/pooler_config.hpp"
#include "pooler/pooler_conninfo.hpp"
#include "pooler/pooler_setting.hpp"

using namespace tls_audit;

namespace {

ConnOptions options(std::vector<std::pair<std::string, std::optional<std::string>>> kv) {
    ConnOptions out;
    for (auto &[k, v] : kv) out.push_back(ConnOption{k, v});
    return out;
}

}  // namespace

TEST(PoolerConfigRowsTest, ColumnsFoundByName) {
    // pgbouncer 1.18 prints key, value, default, changeable; the order is not relied on.
    auto rows = pooler_config_rows({"changeable", "value", "key", "default"},
                                   {{PoolerCell{"yes"}, PoolerCell{"prefer"}, PoolerCell{"client_tls_sslmode"},
                                     PoolerCell{"disable"}},
                                    {PoolerCell{"no"}, PoolerCell{}, PoolerCell{"server_tls_ca_file"}, PoolerCell{}}});
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    ASSERT_EQ(rows.value().size(), 2u);
    EXPECT_EQ(rows.value()[0].key, "client_tls_sslmode");
    EXPECT_EQ(rows.value()[0].value, "prefer");
    EXPECT_EQ(rows.value()[0].default_value, "disable");
    EXPECT_EQ(rows.value()[1].value, "");  // NULL reads as empty
    PoolerConfig c = pooler_config_from_config_rows(rows.value());
    EXPECT_EQ(c.client.sslmode, "prefer");
    EXPECT_EQ(c.server.sslmode, "prefer");  // pgbouncer's default, as no row sets it
    EXPECT_TRUE(pooler_serves_tls(c));
}

TEST(PoolerConfigRowsTest, WithoutDefaultColumn) {
    auto rows = pooler_config_rows({"key", "value"}, {{PoolerCell{"client_tls_sslmode"}, PoolerCell{"DISABLE"}}});
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(rows.value()[0].default_value, "");
    // pgbouncer reads the mode case-insensitively.
    EXPECT_FALSE(pooler_serves_tls(pooler_config_from_config_rows(rows.value())));
}

TEST(PoolerConfigRowsTest, ShortRowReadsEmpty) {
    auto rows = pooler_config_rows({"key", "value"}, {{PoolerCell{"client_tls_sslmode"}}});
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(rows.value()[0].value, "");
}

TEST(PoolerConfigRowsTest, MissingColumnsRefused) {
    auto rows = pooler_config_rows({"name", "setting"}, {});
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.error().sqlstate, std::string(sqlstate::kDataCorrupted));
    EXPECT_NE(rows.error().message.find("no key and value columns"), std::string::npos);
}

TEST(PoolerConfigRowsTest, TooManyRowsRefused) {
    std::vector<std::vector<PoolerCell>> many(kMaxPoolerRows + 1, {PoolerCell{"k"}, PoolerCell{"v"}});
    auto rows = pooler_config_rows({"key", "value"}, many);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(rows.error().sqlstate, std::string(sqlstate::kProgramLimit));
}

TEST(PoolerConninfoTest, Password) {
    EXPECT_TRUE(pooler_conninfo_has_password(options({{"host", "h"}, {"password", "s3cret"}})));
    EXPECT_FALSE(pooler_conninfo_has_password(options({{"host", "h"}, {"password", ""}})));
    EXPECT_FALSE(pooler_conninfo_has_password(options({{"host", "h"}, {"password", std::nullopt}})));
    EXPECT_FALSE(pooler_conninfo_has_password(options({{"passfile", "/x"}})));
}

TEST(PoolerOptionTest, NamedAndUnnamed) {
    auto named = parse_pooler_option(" edge = host=h port=6432 dbname=pgbouncer ", 1, {});
    ASSERT_TRUE(named.ok());
    EXPECT_EQ(named.value().name, "edge");
    EXPECT_EQ(named.value().conninfo, "host=h port=6432 dbname=pgbouncer");
    auto bare = parse_pooler_option("host=h port=6432 dbname=pgbouncer", 2, {});
    ASSERT_TRUE(bare.ok());
    EXPECT_EQ(bare.value().name, "pooler2");
    EXPECT_EQ(bare.value().conninfo, "host=h port=6432 dbname=pgbouncer");
    auto uri = parse_pooler_option("postgresql://h:6432/pgbouncer?sslmode=require", 3, {});
    ASSERT_TRUE(uri.ok());
    EXPECT_EQ(uri.value().name, "pooler3");
    auto no_equals = parse_pooler_option("edge", 4, {});
    ASSERT_TRUE(no_equals.ok());  // libpq refuses it, with its own words
    EXPECT_EQ(no_equals.value().conninfo, "edge");
}

TEST(PoolerOptionTest, LibpqKeywordIsNoName) {
    // sslcrl is a libpq keyword the built-in list does not have: the caller's libpq decides.
    auto guessed = parse_pooler_option("sslcrl=/etc/crl.pem host=h", 1, {});
    ASSERT_TRUE(guessed.ok());
    EXPECT_EQ(guessed.value().name, "sslcrl");
    auto known = parse_pooler_option("sslcrl=/etc/crl.pem host=h", 1, {"host", "sslcrl"});
    ASSERT_TRUE(known.ok());
    EXPECT_EQ(known.value().name, "pooler1");
    EXPECT_EQ(known.value().conninfo, "sslcrl=/etc/crl.pem host=h");
}

TEST(PoolerOptionTest, Refusals) {
    auto empty = parse_pooler_option("   ", 1, {});
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().sqlstate, std::string(sqlstate::kInvalidParameter));
    auto no_conninfo = parse_pooler_option("edge=  ", 2, {});
    ASSERT_FALSE(no_conninfo.ok());
    EXPECT_NE(no_conninfo.error().message.find("--pooler 2"), std::string::npos);
    EXPECT_NE(no_conninfo.error().message.find("empty connection string"), std::string::npos);
    auto huge = parse_pooler_option("edge=host=" + std::string(kMaxPoolersSettingLength, 'h'), 3, {});
    ASSERT_FALSE(huge.ok());
    EXPECT_EQ(huge.error().message.find("hhhh"), std::string::npos);  // never echoed
}
