// When the census counts a connection that had no application_name in its
// startup packet: the timing at authentication and the deferred
// count's decisions, for the clients the rule is made for.
#include <gtest/gtest.h>

#include "census/census_attribution.hpp"

using namespace tls_audit;

TEST(CensusTiming, StartupNameWalsenderAndFailuresCountAtAuthentication) {
    EXPECT_EQ(census_timing(true, false, "psql"), CensusTiming::AtAuthentication);
    EXPECT_EQ(census_timing(true, true, nullptr), CensusTiming::AtAuthentication);
    EXPECT_EQ(census_timing(true, true, ""), CensusTiming::AtAuthentication);
    EXPECT_EQ(census_timing(false, false, nullptr), CensusTiming::AtAuthentication);
    EXPECT_EQ(census_timing(false, false, ""), CensusTiming::AtAuthentication);
}

TEST(CensusTiming, AuthenticatedWithoutNameIsDeferred) {
    EXPECT_EQ(census_timing(true, false, nullptr), CensusTiming::Deferred);
    EXPECT_EQ(census_timing(true, false, ""), CensusTiming::Deferred);
}

TEST(CensusNameSet, EmptyAndNullAreNoName) {
    EXPECT_FALSE(census_name_set(nullptr));
    EXPECT_FALSE(census_name_set(""));
    EXPECT_TRUE(census_name_set("x"));
}

TEST(CensusDeferral, NothingOwedBeforeStart) {
    CensusDeferral d;
    EXPECT_FALSE(d.pending());
    EXPECT_FALSE(d.transaction_end(true, true, true));
    EXPECT_FALSE(d.exit());
}

// pgjdbc's default startup: SET extra_float_digits = 3, then
// SET application_name = '...', each its own transaction, then the
// application's query.
TEST(CensusDeferral, PgjdbcCountedWithItsNameAtTheSecondSet) {
    CensusDeferral d;
    d.start();
    EXPECT_TRUE(d.pending());
    EXPECT_FALSE(d.transaction_end(true, false, false));  // SET extra_float_digits
    EXPECT_TRUE(d.pending());
    EXPECT_TRUE(d.transaction_end(true, false, true));  // SET application_name
    EXPECT_FALSE(d.pending());
    // Counted once: later transactions and exit owe nothing.
    EXPECT_FALSE(d.transaction_end(true, true, true));
    EXPECT_FALSE(d.exit());
}

// pgjdbc with groupStartupParameters: both SETs in one transaction.
TEST(CensusDeferral, GroupedSetsCountedAtTheirCommit) {
    CensusDeferral d;
    d.start();
    EXPECT_TRUE(d.transaction_end(true, false, true));
    EXPECT_FALSE(d.exit());
}

// A client that never sets a name is counted with none at its first
// statement that is more than SET/SHOW.
TEST(CensusDeferral, FirstWorkCountsWithoutName) {
    CensusDeferral d;
    d.start();
    EXPECT_FALSE(d.transaction_end(true, false, false));  // SET search_path
    EXPECT_TRUE(d.transaction_end(true, true, false));    // SELECT 1
    EXPECT_FALSE(d.pending());
}

// Setting the name after the first query is too late: the session was
// counted under the name it did its first work with.
TEST(CensusDeferral, NameSetAfterFirstWorkIsNotTheCensusName) {
    CensusDeferral d;
    d.start();
    EXPECT_TRUE(d.transaction_end(true, true, false));
    EXPECT_FALSE(d.transaction_end(true, false, true));
}

TEST(CensusDeferral, BoundedNumberOfSetOnlyTransactions) {
    CensusDeferral d;
    d.start();
    for (int i = 1; i < kCensusDeferredTransactions; ++i) {
        EXPECT_FALSE(d.transaction_end(true, false, false)) << i;
        EXPECT_EQ(d.transactions(), i);
    }
    EXPECT_TRUE(d.transaction_end(true, false, false));
    EXPECT_FALSE(d.pending());
}

// An aborted transaction's SETs are being rolled back when it ends: it
// decides nothing, even with work or a name, but counts toward the bound.
TEST(CensusDeferral, AbortDecidesNothing) {
    CensusDeferral d;
    d.start();
    EXPECT_FALSE(d.transaction_end(false, true, true));
    EXPECT_TRUE(d.pending());
    for (int i = 2; i <= kCensusDeferredTransactions + 3; ++i) EXPECT_FALSE(d.transaction_end(false, true, true));
    EXPECT_TRUE(d.pending());
    // The bound is reached: the next commit decides, whatever it did.
    EXPECT_TRUE(d.transaction_end(true, false, false));
}

TEST(CensusDeferral, ExitMakesTheOwedCountOnce) {
    CensusDeferral d;
    d.start();
    EXPECT_FALSE(d.transaction_end(true, false, false));
    EXPECT_TRUE(d.exit());
    EXPECT_FALSE(d.pending());
    EXPECT_FALSE(d.exit());
    EXPECT_FALSE(d.transaction_end(true, true, true));
}

TEST(CensusDeferral, StartAgainResetsTheBound) {
    CensusDeferral d;
    d.start();
    for (int i = 1; i < kCensusDeferredTransactions; ++i) d.transaction_end(false, false, false);
    d.start();
    EXPECT_EQ(d.transactions(), 0);
    EXPECT_FALSE(d.transaction_end(true, false, false));
}
