#include <gtest/gtest.h>

#include "target_policy.hpp"

using namespace tls_audit;

TEST(TargetPolicyTest, EmptyListAllowsEverything) {
    auto list = parse_allowed_hosts("  ");
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(list.value().empty());
    EXPECT_TRUE(host_allowed("anything.example", list.value()));
}

TEST(TargetPolicyTest, ExactNamesAndAddresses) {
    auto list = parse_allowed_hosts("DB1.example.com, 127.0.0.1,::1");
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(host_allowed("db1.example.com", list.value()));
    EXPECT_TRUE(host_allowed("DB1.EXAMPLE.COM", list.value()));
    EXPECT_TRUE(host_allowed("127.0.0.1", list.value()));
    EXPECT_TRUE(host_allowed("::1", list.value()));
    EXPECT_FALSE(host_allowed("db2.example.com", list.value()));
    EXPECT_FALSE(host_allowed("127.0.0.2", list.value()));
    EXPECT_FALSE(host_allowed("", list.value()));
}

TEST(TargetPolicyTest, WildcardsMatchSubdomainsOnly) {
    auto list = parse_allowed_hosts("*.postgres.example");
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE(host_allowed("a.postgres.example", list.value()));
    EXPECT_TRUE(host_allowed("a.b.postgres.example", list.value()));
    EXPECT_FALSE(host_allowed("postgres.example", list.value()));
    EXPECT_FALSE(host_allowed("evilpostgres.example", list.value()));
    EXPECT_FALSE(host_allowed("postgres.example.evil", list.value()));
}

TEST(TargetPolicyTest, BadListsAreErrors) {
    for (const char *bad : {"a,,b", "a, ,b", "*", "a b", "db.*.example", "x*.example", ","}) {
        auto list = parse_allowed_hosts(bad);
        EXPECT_FALSE(list.ok()) << bad;
        if (!list.ok()) {
            EXPECT_EQ(list.error().sqlstate, "22023") << bad;
        }
    }
}
