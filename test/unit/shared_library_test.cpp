#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>

#include "base/shared_library.hpp"

using namespace tls_audit;

namespace {
// The C library is loaded in every process: opening it only adds a reference.
constexpr const char *kLibc = "libc.so.6";
}  // namespace

TEST(SharedLibraryTest, ALibraryThatDoesNotExistIsAnErrorNamingIt) {
    auto lib = SharedLibrary::open("libtls_audit_no_such_library.so.1");
    ASSERT_FALSE(lib.ok());
    EXPECT_EQ(lib.error().sqlstate, "58P01");
    EXPECT_NE(lib.error().message.find("\"libtls_audit_no_such_library.so.1\""), std::string::npos)
        << lib.error().message;
    // dlerror()'s words follow the name.
    EXPECT_NE(lib.error().message.find("cannot open shared object file"), std::string::npos) << lib.error().message;
}

TEST(SharedLibraryTest, AnEmptyNameIsRefused) {
    // dlopen(""), like dlopen(NULL), would hand back the main program.
    auto lib = SharedLibrary::open("");
    ASSERT_FALSE(lib.ok());
    EXPECT_EQ(lib.error().sqlstate, "22023");
}

TEST(SharedLibraryTest, ResolvesASymbolOfTheCLibrary) {
    auto lib = SharedLibrary::open(kLibc);
    ASSERT_TRUE(lib.ok()) << lib.error().message;
    EXPECT_EQ(lib.value().name(), kLibc);
    auto address = lib.value().symbol("strlen");
    ASSERT_TRUE(address.ok()) << address.error().message;
    auto *their_strlen = reinterpret_cast<std::size_t (*)(const char *)>(address.value());
    EXPECT_EQ(their_strlen("four"), 4u);
}

TEST(SharedLibraryTest, AMissingSymbolIsAnErrorNamingItAndTheLibrary) {
    auto lib = SharedLibrary::open(kLibc);
    ASSERT_TRUE(lib.ok()) << lib.error().message;
    auto address = lib.value().symbol("tls_audit_no_such_symbol");
    ASSERT_FALSE(address.ok());
    EXPECT_EQ(address.error().sqlstate, "42883");
    EXPECT_NE(address.error().message.find("\"tls_audit_no_such_symbol\""), std::string::npos)
        << address.error().message;
    EXPECT_NE(address.error().message.find(kLibc), std::string::npos) << address.error().message;
}

TEST(SharedLibraryTest, AMovedFromLibraryHoldsNothing) {
    auto lib = SharedLibrary::open(kLibc);
    ASSERT_TRUE(lib.ok()) << lib.error().message;
    SharedLibrary moved = std::move(lib).value();
    EXPECT_TRUE(moved.symbol("strlen").ok());
    // The moved-from object has given its handle away: no symbol, no dlclose.
    EXPECT_FALSE(lib.value().symbol("strlen").ok());
}
