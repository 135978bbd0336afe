// The control mapping: every row names a cited framework and known checks,
// ids are unique, and the per-check lookup follows the rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "checks/controls.hpp"
#include "checks/checks.hpp"

using namespace tls_audit;

TEST(Controls, RowsAreWellFormed) {
    std::set<std::string> keys;
    const auto &names = check_names();
    for (const Control &c : controls()) {
        EXPECT_TRUE(keys.insert(control_key(c)).second) << "duplicate " << control_key(c);
        EXPECT_FALSE(control_source(c).empty()) << control_key(c) << " has no framework row";
        const Framework *f = find_framework(c.prefix);
        ASSERT_NE(f, nullptr) << c.prefix;
        EXPECT_STREQ(f->key, c.framework);
        EXPECT_FALSE(c.checks.empty()) << control_key(c);
        EXPECT_GT(std::string(c.title).size(), 5u);
        for (const char *check : c.checks)
            EXPECT_NE(std::find(names.begin(), names.end(), check), names.end())
                << control_key(c) << " names unknown check " << check;
    }
}

TEST(Controls, LookupByCheck) {
    const auto &min = controls_for_check("min_protocol");
    EXPECT_NE(std::find(min.begin(), min.end(), "CIS-PG-17:6.9"), min.end());
    EXPECT_NE(std::find(min.begin(), min.end(), "PCI-DSS-4.0:4.2.1"), min.end());
    EXPECT_NE(std::find(min.begin(), min.end(), "NIST-800-52r2:3.1"), min.end());
    const auto &key = controls_for_check("server_key_permissions");
    ASSERT_EQ(key.size(), 1u);
    EXPECT_EQ(key[0], "STIG-CD-PG16:V-261894");
    EXPECT_TRUE(controls_for_check("no_such_check").empty());
    EXPECT_TRUE(controls_for_check("settings_not_applied").empty());
}

TEST(Controls, FrameworkByKeyOrPrefix) {
    ASSERT_NE(find_framework("cis"), nullptr);
    EXPECT_STREQ(find_framework("cis")->key, "CIS");
    ASSERT_NE(find_framework("pci-dss-4.0"), nullptr);
    EXPECT_STREQ(find_framework("pci-dss-4.0")->key, "PCI-DSS");
    EXPECT_EQ(find_framework("BSI"), nullptr);
    EXPECT_EQ(find_framework(""), nullptr);
}
