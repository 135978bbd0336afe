// Authentication methods: names, the census byte, which methods are weaker
// than a target, the auth_readiness() aggregation and the check
// weak_auth_in_use.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "access/auth_method.hpp"
#include "census/auth_readiness.hpp"
#include "census/census_key.hpp"
#include "checks/checks_auth.hpp"

using namespace tls_audit;

TEST(AuthMethodTest, NamesRoundTrip) {
    for (int raw = 1; raw <= 15; ++raw) {
        const char *name = auth_method_name(static_cast<std::uint8_t>(raw));
        ASSERT_NE(name, nullptr) << raw;
        EXPECT_EQ(static_cast<int>(parse_auth_method(name)), raw) << name;
        EXPECT_TRUE(valid_auth_method(static_cast<std::uint8_t>(raw)));
    }
    EXPECT_STREQ(auth_method_name(AuthMethod::ScramSha256), "scram-sha-256");
    EXPECT_STREQ(auth_method_name(AuthMethod::Cert), "cert");
    EXPECT_EQ(auth_method_name(AuthMethod::Unknown), nullptr);
    EXPECT_EQ(auth_method_name(std::uint8_t{16}), nullptr);
    EXPECT_TRUE(valid_auth_method(0));
    EXPECT_FALSE(valid_auth_method(16));
    EXPECT_FALSE(valid_auth_method(255));
    EXPECT_EQ(parse_auth_method("SCRAM-SHA-256"), AuthMethod::Unknown);  // hba_authname() is lower case
    EXPECT_EQ(parse_auth_method(""), AuthMethod::Unknown);
    EXPECT_EQ(parse_auth_method(nullptr), AuthMethod::Unknown);
}

TEST(AuthMethodTest, NumbersAreStable) {
    // Stored in the census file: a renumbering would misread old files.
    EXPECT_EQ(static_cast<int>(AuthMethod::Trust), 1);
    EXPECT_EQ(static_cast<int>(AuthMethod::Md5), 3);
    EXPECT_EQ(static_cast<int>(AuthMethod::ScramSha256), 5);
    EXPECT_EQ(static_cast<int>(AuthMethod::Cert), 11);
    EXPECT_EQ(static_cast<int>(AuthMethod::Oauth), 15);
}

TEST(AuthMethodTest, Md5LineWithScramSecretIsScram) {
    EXPECT_EQ(effective_password_method(AuthMethod::Md5, true), AuthMethod::ScramSha256);
    EXPECT_EQ(effective_password_method(AuthMethod::Md5, false), AuthMethod::Md5);
    EXPECT_EQ(effective_password_method(AuthMethod::Password, true), AuthMethod::Password);
    EXPECT_EQ(effective_password_method(AuthMethod::Trust, true), AuthMethod::Trust);
}

TEST(AuthMethodTest, Targets) {
    EXPECT_EQ(parse_auth_target("scram-sha-256"), AuthMethod::ScramSha256);
    EXPECT_EQ(parse_auth_target("md5"), AuthMethod::Md5);
    EXPECT_EQ(parse_auth_target("password"), AuthMethod::Password);
    EXPECT_FALSE(parse_auth_target("cert"));
    EXPECT_FALSE(parse_auth_target("trust"));
    EXPECT_FALSE(parse_auth_target("SCRAM"));
    EXPECT_FALSE(parse_auth_target(""));
    EXPECT_STREQ(valid_auth_target_names(), "password, md5, scram-sha-256");
}

TEST(AuthMethodTest, Weakness) {
    const auto scram = AuthMethod::ScramSha256;
    EXPECT_EQ(auth_weakness(AuthMethod::Md5, "tls", scram), "md5 < scram-sha-256");
    EXPECT_EQ(auth_weakness(AuthMethod::Md5, "unix", scram), "md5 < scram-sha-256");
    EXPECT_EQ(auth_weakness(AuthMethod::Password, "tcp", scram), "password < scram-sha-256");
    EXPECT_EQ(auth_weakness(AuthMethod::Trust, "tcp", scram), "trust over TCP");
    EXPECT_EQ(auth_weakness(AuthMethod::Trust, "tls", scram), "trust over TCP");
    EXPECT_EQ(auth_weakness(AuthMethod::Trust, "gss", scram), "trust over TCP");
    EXPECT_FALSE(auth_weakness(AuthMethod::Trust, "unix", scram));
    EXPECT_FALSE(auth_weakness(AuthMethod::ScramSha256, "tcp", scram));
    for (AuthMethod m : {AuthMethod::Cert, AuthMethod::Gss, AuthMethod::Peer, AuthMethod::Ldap, AuthMethod::Pam,
                         AuthMethod::Reject, AuthMethod::Unknown, AuthMethod::Oauth})
        EXPECT_FALSE(auth_weakness(m, "tls", scram)) << static_cast<int>(m);
    // Lower targets.
    EXPECT_FALSE(auth_weakness(AuthMethod::Md5, "tls", AuthMethod::Md5));
    EXPECT_EQ(auth_weakness(AuthMethod::Password, "tls", AuthMethod::Md5), "password < md5");
    EXPECT_FALSE(auth_weakness(AuthMethod::Password, "tls", AuthMethod::Password));
    EXPECT_EQ(auth_weakness(AuthMethod::Trust, "tcp", AuthMethod::Password), "trust over TCP");
}

TEST(AuthMethodTest, CensusKeyCarriesTheAuthFields) {
    CensusKeyFields f;
    f.usename = "alice";
    f.transport = "tls";
    f.auth_method = AuthMethod::ScramSha256;
    f.hba_line = 12;
    f.client_cert_verified = CensusFlag::Yes;
    f.extended_master_secret = CensusFlag::No;
    CensusKey k;
    make_census_key(k, f);
    EXPECT_EQ(k.auth_method, 5);
    EXPECT_EQ(k.hba_line, 12);
    EXPECT_EQ(k.client_cert_verified, 2);
    EXPECT_EQ(k.extended_master_secret, 1);
    EXPECT_TRUE(census_key_canonical(k));
    EXPECT_STREQ(census_flag_name(k.client_cert_verified), "true");
    EXPECT_STREQ(census_flag_name(k.extended_master_secret), "false");
    EXPECT_EQ(census_flag_name(0), nullptr);
    EXPECT_EQ(census_flag_name(3), nullptr);

    f.hba_line = 70000;  // saturates
    make_census_key(k, f);
    EXPECT_EQ(k.hba_line, 65535);
    f.hba_line = -1;
    make_census_key(k, f);
    EXPECT_EQ(k.hba_line, 0);

    // A 1.0 key (those bytes were zero padding) is still canonical: all unknown.
    CensusKeyFields old;
    old.usename = "bob";
    old.transport = "tcp";
    make_census_key(k, old);
    EXPECT_EQ(k.auth_method, 0);
    EXPECT_EQ(k.hba_line, 0);
    EXPECT_EQ(k.client_cert_verified, 0);
    EXPECT_EQ(k.extended_master_secret, 0);
    EXPECT_TRUE(census_key_canonical(k));
}

namespace {
CensusRecord record(const char *user, const char *app, const char *transport, AuthMethod method,
                    std::int64_t connections, std::int64_t last_seen, Outcome outcome = Outcome::Authenticated,
                    int hba_line = 1) {
    CensusKeyFields f;
    f.usename = user;
    f.datname = "postgres";
    f.client_addr = std::strcmp(transport, "unix") == 0 ? "" : "127.0.0.1";
    f.application_name = app;
    f.transport = transport;
    f.outcome = outcome;
    f.auth_method = method;
    f.hba_line = hba_line;
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

TEST(AuthReadinessTest, GroupsWeakClientsMostConnectionsFirst) {
    const std::vector<CensusRecord> records = {
        record("m", "app", "tls", AuthMethod::Md5, 3, 100, Outcome::Authenticated, 4),
        record("m", "app", "tcp", AuthMethod::Md5, 4, 300, Outcome::Authenticated, 5),  // same group
        record("p", "app", "tls", AuthMethod::Password, 10, 200),
        record("t", "app", "tcp", AuthMethod::Trust, 1, 50),
        record("t", "app", "unix", AuthMethod::Trust, 70, 400),     // local trust: not weak
        record("s", "app", "tls", AuthMethod::ScramSha256, 50, 400),  // strong
        record("c", "app", "tls", AuthMethod::Cert, 50, 400),         // outside the ladder
        record("u", "app", "tls", AuthMethod::Unknown, 5, 400),       // 1.0 entry
        record("m", "app", "tls", AuthMethod::Md5, 9, 500, Outcome::AuthFailed),  // not authenticated
    };
    const auto rows = auth_readiness(pointers(records), AuthMethod::ScramSha256);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].usename, "p");
    EXPECT_EQ(rows[0].auth_method, "password");
    EXPECT_EQ(rows[0].reason, "password < scram-sha-256");
    EXPECT_EQ(rows[0].connections, 10);
    EXPECT_EQ(rows[1].usename, "m");
    EXPECT_EQ(rows[1].connections, 7);
    EXPECT_EQ(rows[1].last_seen, 300);
    EXPECT_EQ(rows[1].client_addr, "127.0.0.1");
    EXPECT_EQ(rows[2].usename, "t");
    EXPECT_EQ(rows[2].reason, "trust over TCP");

    const auto md5_rows = auth_readiness(pointers(records), AuthMethod::Md5);
    ASSERT_EQ(md5_rows.size(), 2u);
    EXPECT_EQ(md5_rows[0].usename, "p");
    EXPECT_EQ(md5_rows[1].usename, "t");
    EXPECT_TRUE(auth_readiness({}, AuthMethod::ScramSha256).empty());
}

// A login the role floor refused (enforce_floor = on) authenticated but never
// got a session: weak_auth_in_use must not count it; one admitted under
// enforce_floor = log did get a session and counts.
TEST(AuthReadinessTest, LoginsRefusedByTheRoleFloorAreNotInUse) {
    std::vector<CensusRecord> records = {
        record("refused", "app", "tls", AuthMethod::Md5, 3, 100, Outcome::PolicyViolation),
        record("logged", "app", "tls", AuthMethod::Md5, 2, 100, Outcome::PolicyViolation),
    };
    std::strcpy(records[0].key.reason, kFloorRefusedReason);
    EXPECT_FALSE(census_login_admitted(records[0].key));
    EXPECT_TRUE(census_login_admitted(records[1].key));
    const auto rows = auth_readiness(pointers(records), AuthMethod::ScramSha256);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].usename, "logged");
    EXPECT_EQ(rows[0].connections, 2);
}

TEST(ChecksAuthTest, WeakAuthInUse) {
    auto ok = check_weak_auth_in_use({}, 30);
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(ok[0].check, "weak_auth_in_use");
    EXPECT_EQ(ok[0].severity, Severity::Ok);
    EXPECT_NE(ok[0].message.find("30 days"), std::string::npos);

    WeakAuthFacts md5{"alice", "app", "10.0.0.1", "etl", "md5", "md5 < scram-sha-256", 3, 0};
    WeakAuthFacts trust{"bob", "db", "", "", "trust", "trust over TCP", 1, 86400};
    auto found = check_weak_auth_in_use({md5, trust}, 7);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].severity, Severity::Warning);
    EXPECT_EQ(found[0].object, "alice@app from 10.0.0.1 (etl)");
    EXPECT_EQ(found[0].message, "3 connections authenticated with md5 < scram-sha-256, last seen 1970-01-01 00:00:00 UTC");
    EXPECT_NE(found[0].hint.find("password_encryption"), std::string::npos);
    EXPECT_EQ(found[1].object, "bob@db");
    EXPECT_NE(found[1].message.find("1 connection authenticated with trust over TCP"), std::string::npos);
    EXPECT_NE(found[1].hint.find("client certificate"), std::string::npos);
}

// census_incomplete: evicted authenticated entries make every readiness
// answer incomplete, so an empty one must not read as "everyone is ready".
TEST(ChecksAuthTest, CensusIncomplete) {
    auto ok = check_census_incomplete(CensusCompleteness{true, ""});
    ASSERT_EQ(ok.size(), 1u);
    EXPECT_EQ(ok[0].check, "census_incomplete");
    EXPECT_EQ(ok[0].severity, Severity::Ok);
    auto bad = check_census_incomplete(CensusCompleteness{false, "2026-01-02 03:04:05+00"});
    ASSERT_EQ(bad.size(), 1u);
    EXPECT_EQ(bad[0].severity, Severity::Warning);
    EXPECT_NE(bad[0].message.find("since 2026-01-02 03:04:05+00"), std::string::npos) << bad[0].message;
    EXPECT_NE(bad[0].message.find("floor_readiness()"), std::string::npos);
    EXPECT_NE(bad[0].hint.find("tls_audit.census_max"), std::string::npos);
    EXPECT_EQ(check_census_incomplete(CensusCompleteness{false, ""})[0].severity, Severity::Warning);
}
