#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

#include "base/error.hpp"

using namespace tls_audit;

namespace {
template <class F> Error describe(F &&throw_it) {
    try {
        throw_it();
    } catch (...) {
        return describe_current_exception();
    }
    ADD_FAILURE() << "nothing was thrown";
    return {};
}
}  // namespace

TEST(ErrorTest, CoreErrorKeepsSqlstateMessageAndHint) {
    Error e = describe([] { throw CoreError(make_error(sqlstate::kInvalidParameter, "bad thing", "do this")); });
    EXPECT_EQ(e.sqlstate, "22023");
    EXPECT_EQ(e.message, "bad thing");
    EXPECT_EQ(e.hint, "do this");
}

TEST(ErrorTest, BadAllocBecomesOutOfMemory) {
    Error e = describe([] { throw std::bad_alloc(); });
    EXPECT_EQ(e.sqlstate, "53200");
    EXPECT_EQ(e.message, "out of memory");
}

TEST(ErrorTest, StdExceptionBecomesInternalError) {
    Error e = describe([] { throw std::logic_error("oops"); });
    EXPECT_EQ(e.sqlstate, "XX000");
    EXPECT_EQ(e.message, "internal error: oops");
}

TEST(ErrorTest, UnknownExceptionBecomesInternalError) {
    Error e = describe([] { throw 42; });
    EXPECT_EQ(e.sqlstate, "XX000");
    EXPECT_EQ(e.message, "internal error: unknown exception");
}

TEST(ErrorTest, ExpectedHoldsValueOrError) {
    Expected<int> good(7);
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(good.value(), 7);
    Expected<int> bad(make_error(sqlstate::kIoError, "disk"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().sqlstate, "58030");
    EXPECT_THROW(std::move(bad).take(), CoreError);
}
