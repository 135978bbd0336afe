#include <gtest/gtest.h>

#include "probe/target_policy.hpp"

using namespace tls_audit;

TEST(TargetPolicyTest, EmptyListAllowsEverything) {
    auto list = parse_allowed_hosts("  ");
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(list.value().empty());
    EXPECT_TRUE(host_allowed("anything.example", 5432, list.value()));
}

TEST(TargetPolicyTest, ExactNamesAndAddresses) {
    auto list = parse_allowed_hosts("DB1.example.com, 127.0.0.1,::1");
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(host_allowed("db1.example.com", 5432, list.value()));
    EXPECT_TRUE(host_allowed("DB1.EXAMPLE.COM", 5432, list.value()));
    EXPECT_TRUE(host_allowed("127.0.0.1", 5432, list.value()));
    EXPECT_TRUE(host_allowed("::1", 5432, list.value()));
    EXPECT_FALSE(host_allowed("db2.example.com", 5432, list.value()));
    EXPECT_FALSE(host_allowed("127.0.0.2", 5432, list.value()));
    EXPECT_FALSE(host_allowed("", 5432, list.value()));
}

TEST(TargetPolicyTest, WildcardsMatchSubdomainsOnly) {
    auto list = parse_allowed_hosts("*.postgres.example");
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(host_allowed("a.postgres.example", 5432, list.value()));
    EXPECT_TRUE(host_allowed("a.b.postgres.example", 5432, list.value()));
    EXPECT_FALSE(host_allowed("postgres.example", 5432, list.value()));
    EXPECT_FALSE(host_allowed("evilpostgres.example", 5432, list.value()));
    EXPECT_FALSE(host_allowed("postgres.example.evil", 5432, list.value()));
}

TEST(TargetPolicyTest, BadListsAreErrors) {
    for (const char *bad : {"a,,b", "a, ,b", "*", "a b", "db.*.example", "x*.example", ",", "db:0", "db:65536",
                            "db:", ":5432", "db:54x", "db:+5432", "[::1", "[db]:5432", "[::1]5432", "[::1]:",
                            "*:5432", "a]b:1", "db:5432:1x"}) {
        auto list = parse_allowed_hosts(bad);
        EXPECT_FALSE(list.ok()) << bad;
        if (!list.ok()) {
            EXPECT_EQ(list.error().sqlstate, "22023") << bad;
        }
    }
}

TEST(TargetPolicyTest, PortsLimitAnEntry) {
    auto list = parse_allowed_hosts("db.example.com:5432, *.example.org:6432, 127.0.0.1, [::1]:5433, ::2, [::3]");
    ASSERT_TRUE(list.ok()) << list.error().message;
    ASSERT_EQ(list.value().size(), 6u);
    EXPECT_TRUE(host_allowed("db.example.com", 5432, list.value()));
    EXPECT_FALSE(host_allowed("db.example.com", 5433, list.value()));
    EXPECT_FALSE(host_allowed("db.example.com", 22, list.value()));
    EXPECT_TRUE(host_allowed("a.example.org", 6432, list.value()));
    EXPECT_FALSE(host_allowed("a.example.org", 5432, list.value()));
    // Without a port: every port, as before.
    EXPECT_TRUE(host_allowed("127.0.0.1", 1, list.value()));
    EXPECT_TRUE(host_allowed("127.0.0.1", 65535, list.value()));
    // IPv6: a port only in brackets; the target is written without them.
    EXPECT_TRUE(host_allowed("::1", 5433, list.value()));
    EXPECT_FALSE(host_allowed("::1", 5432, list.value()));
    EXPECT_TRUE(host_allowed("::2", 22, list.value()));
    EXPECT_TRUE(host_allowed("::3", 22, list.value()));
    EXPECT_EQ(list.value()[0].port, 5432);
    EXPECT_EQ(list.value()[3].host, "::1");
    EXPECT_EQ(to_string(list.value()[3]), "[::1]:5433");
    EXPECT_EQ(to_string(list.value()[4]), "::2");
    EXPECT_EQ(to_string(list.value()[1]), "*.example.org:6432");
}

TEST(TargetPolicyTest, PortErrorsSayWhatIsWrong) {
    auto list = parse_allowed_hosts("db.example.com:99999");
    ASSERT_FALSE(list.ok());
    EXPECT_NE(list.error().message.find("port must be a number from 1 to 65535"), std::string::npos)
        << list.error().message;
}

// Found by protocol_fuzz: "[:]" was taken as the IPv6 address ":", which
// printed back as ":" and no longer parsed. Only real IPv6 addresses pass.
TEST(TargetPolicyTest, OnlyRealIpv6AddressesInBrackets) {
    for (const char *bad : {"[:]", ":", "[1::2::3]", "1::2::3", "[::g]", "[:::]:5432"}) {
        auto list = parse_allowed_hosts(bad);
        ASSERT_FALSE(list.ok()) << bad;
        EXPECT_EQ(list.error().sqlstate, sqlstate::kInvalidParameter) << bad;
        if (bad[0] == '[') {
            EXPECT_NE(list.error().message.find("must be an IPv6 address"), std::string::npos)
                << bad << ": " << list.error().message;
        }
    }
    for (const char *good : {"[::1]", "::1", "[::1]:5432", "[fe80::1]:6432", "2001:db8::1", "[::ffff:127.0.0.1]"}) {
        auto list = parse_allowed_hosts(good);
        ASSERT_TRUE(list.ok()) << good << ": " << list.error().message;
        auto again = parse_allowed_hosts(to_string(list.value()[0]));
        ASSERT_TRUE(again.ok()) << good;
        EXPECT_EQ(again.value(), list.value()) << good;
    }
}
