// redact_conninfo_error() against libpq's own parser: connection strings that
// PQconninfoParse refuses, each holding a known secret in a password (or
// sslpassword) value, in every position and quoting libpq accepts or chokes
// on; the redacted message must never hold any part of the secret. The
// strings are generated from a fixed seed (the same run every time), so a
// failure prints the string that leaked and can be replayed.
#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "access/outbound.hpp"

using namespace tls_audit;

namespace {

// Every piece of the secret starts with this marker, which no keyword, libpq
// message or filler text holds: finding it in the output is a leak.
constexpr const char *kMarker = "zqx";

struct Parsed {
    bool ok;
    std::string error;  // libpq's message when not ok
};

Parsed parse(const std::string &conninfo) {
    char *err = nullptr;
    PQconninfoOption *options = PQconninfoParse(conninfo.c_str(), &err);
    Parsed p{options != nullptr, err != nullptr ? err : ""};
    if (options != nullptr) PQconninfoFree(options);
    if (err != nullptr) PQfreemem(err);
    return p;
}

// A secret value: marked words glued with the characters that derail a
// naive redactor (quotes, backslashes, blanks, '=', '&', '%', '@', ':').
std::string secret(std::mt19937 &rng) {
    static const std::vector<std::string> glue = {"\"", "\\\"", " ", "'", "\\", "=", "&", "%", "%2", "@", ":",
                                                  "/", "?", "\"\"", "\t", "]", "["};
    std::string s;
    const int words = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < words; ++i) {
        if (i > 0 || rng() % 2) s += glue[rng() % glue.size()];
        s += kMarker + std::to_string(rng() % 1000);
    }
    if (rng() % 2) s += glue[rng() % glue.size()];
    return s;
}

std::string filler(std::mt19937 &rng) {
    static const std::vector<std::string> items = {
        "host=db.example.com", "port=5432", "user=app", "dbname=prod", "sslmode=verify-full", "bogus=1",
        "host", "=", "'unterminated", "\"", "\\", "application_name='a b'", "port=", "=x", "key=\"q\""};
    return items[rng() % items.size()];
}

std::string keyword_value(std::mt19937 &rng) {
    const std::string key = rng() % 4 == 0 ? "sslpassword" : "password";
    const std::string value = secret(rng);
    switch (rng() % 3) {
    case 0:
        return key + "=" + value;  // unquoted, as typed
    case 1:
        return key + " = '" + value + (rng() % 3 ? "'" : "");  // single-quoted, maybe unterminated
    default:
        return key + "=\"" + value + "\"";
    }
}

std::string uri(std::mt19937 &rng) {
    std::string u = rng() % 2 ? "postgresql://" : "postgres://";
    u += "app:" + secret(rng) + "@";
    u += rng() % 2 ? "[::1" : "db.example.com";
    u += "/prod";
    if (rng() % 2) u += "?password=" + secret(rng) + (rng() % 2 ? "&=" : "&x");
    return u;
}

std::string conninfo(std::mt19937 &rng) {
    if (rng() % 4 == 0) return uri(rng);
    std::vector<std::string> parts;
    const int n = static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) parts.push_back(filler(rng));
    parts.insert(parts.begin() + static_cast<long>(rng() % (parts.size() + 1)), keyword_value(rng));
    std::string s;
    for (const auto &p : parts) s += (s.empty() ? "" : " ") + p;
    return s;
}

}  // namespace

TEST(ConninfoRedactionTest, TheIssueExampleLeaksNothing) {
    const Parsed p = parse("host=db password=correct\"horse battery\"staple sslmode=require");
    ASSERT_FALSE(p.ok);
    ASSERT_NE(p.error.find("battery"), std::string::npos) << "libpq no longer echoes the fragment: " << p.error;
    const std::string shown = redact_conninfo_error(p.error);
    for (const char *part : {"correct", "horse", "battery", "staple"})
        EXPECT_EQ(shown.find(part), std::string::npos) << part << " in: " << shown;
    EXPECT_NE(shown.find("connection info string"), std::string::npos) << shown;
}

TEST(ConninfoRedactionTest, RandomConnectionStringsNeverLeakTheSecret) {
    std::mt19937 rng(20261205);
    int refused = 0, echoed = 0;
    for (int i = 0; i < 20000; ++i) {
        const std::string s = conninfo(rng);
        const Parsed p = parse(s);
        if (p.ok) continue;
        ++refused;
        if (p.error.find(kMarker) != std::string::npos) ++echoed;
        const std::string shown = redact_conninfo_error(p.error);
        ASSERT_EQ(shown.find(kMarker), std::string::npos) << "conninfo: " << s << "\nlibpq: " << p.error
                                                          << "\nshown: " << shown;
        ASSERT_FALSE(shown.empty()) << s;
    }
    // The generator must really exercise the redactor: many refused strings
    // whose libpq message echoes part of the secret.
    EXPECT_GT(refused, 2000);
    EXPECT_GT(echoed, 500);
}

TEST(ConninfoRedactionTest, MessagesWithoutQuotesAreKept) {
    EXPECT_EQ(redact_conninfo_error("unterminated quoted string in connection info string\n"),
              "unterminated quoted string in connection info string");
    EXPECT_EQ(redact_conninfo_error("invalid connection option \"zqx\"\n"), "invalid connection option \"...\"");
    EXPECT_EQ(redact_conninfo_error("odd \"zqx"), "odd \"...\"");
    EXPECT_EQ(redact_conninfo_error("a \"x\" b \"zqx\"y\" c\nzqx second line"), "a \"...\" c");
    EXPECT_EQ(redact_conninfo_error(""), "");
}

// A fragment libpq echoes may hold a newline (a URI's query parameter here);
// the part of it after the newline must not survive the cut at the first line.
TEST(ConninfoRedactionTest, AFragmentWithANewlineLeaksNothing) {
    const Parsed p = parse("postgresql://db/prod?x" + std::string(kMarker) + "\nmore");
    ASSERT_FALSE(p.ok);
    ASSERT_NE(p.error.find(kMarker), std::string::npos) << "libpq no longer echoes the fragment: " << p.error;
    const std::string shown = redact_conninfo_error(p.error);
    EXPECT_EQ(shown.find(kMarker), std::string::npos) << shown;
    EXPECT_EQ(shown.find('\n'), std::string::npos) << shown;
    EXPECT_EQ(redact_conninfo_error("odd \"a\nzqx\" end\n"), "odd \"...\" end");
}
