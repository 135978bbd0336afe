#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "access/role_floor.hpp"

using namespace tls_audit;

namespace {

RoleFloorList parse_ok(const char *text) {
    auto parsed = parse_role_floors(text);
    EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error().message);
    return parsed.ok() ? parsed.value() : RoleFloorList{};
}

std::string parse_error(const char *text) {
    auto parsed = parse_role_floors(text);
    EXPECT_FALSE(parsed.ok()) << text;
    if (parsed.ok()) return "";
    EXPECT_EQ(parsed.error().sqlstate, "22023");
    EXPECT_NE(parsed.error().hint.find("name=protocol"), std::string::npos);
    return parsed.error().message;
}

// Membership from a set of group names.
bool member_of(const char *group, void *context) {
    const auto *groups = static_cast<const std::set<std::string> *>(context);
    return groups->count(group) != 0;
}

struct Counting {
    std::set<std::string> groups;
    int asked = 0;
};
bool counting_member(const char *group, void *context) {
    auto *c = static_cast<Counting *>(context);
    ++c->asked;
    return c->groups.count(group) != 0;
}

}  // namespace

TEST(RoleFloorTest, ParsesTheIssueExample) {
    const RoleFloorList l = parse_ok("etl=TLSv1.3, +reporting=TLSv1.3, legacy_app=TLSv1.2, *=TLSv1.2");
    ASSERT_EQ(l.count, 4u);
    EXPECT_TRUE(l.has_groups);
    EXPECT_STREQ(l.entries[0].name, "etl");
    EXPECT_EQ(l.entries[0].scope, FloorScope::Role);
    EXPECT_EQ(l.entries[0].floor, Protocol::TLSv1_3);
    EXPECT_STREQ(l.entries[1].name, "reporting");
    EXPECT_EQ(l.entries[1].scope, FloorScope::Group);
    EXPECT_EQ(l.entries[2].floor, Protocol::TLSv1_2);
    EXPECT_EQ(l.entries[3].scope, FloorScope::Default);
    EXPECT_STREQ(l.entries[3].name, "");
    EXPECT_EQ(format_role_floors(l), "etl=TLSv1.3, +reporting=TLSv1.3, legacy_app=TLSv1.2, *=TLSv1.2");
}

TEST(RoleFloorTest, EmptyAndBlankAreEmptyLists) {
    EXPECT_EQ(parse_ok("").count, 0u);
    EXPECT_EQ(parse_ok("  \t ").count, 0u);
    EXPECT_FALSE(parse_ok("").has_groups);
}

TEST(RoleFloorTest, BlanksCaseOfProtocolsAndQuotedNames) {
    const RoleFloorList l = parse_ok(" a = tlsv1.1 ,+ \"Big, Team\"=TLSv1.3,\"x\"\"y\"=TLSv1 , \"*\"=TLSv1.2");
    ASSERT_EQ(l.count, 4u);
    EXPECT_STREQ(l.entries[0].name, "a");
    EXPECT_EQ(l.entries[0].floor, Protocol::TLSv1_1);
    // "+ " then a quoted name: the blank is not part of the name.
    EXPECT_STREQ(l.entries[1].name, "Big, Team");
    EXPECT_EQ(l.entries[1].scope, FloorScope::Group);
    EXPECT_STREQ(l.entries[2].name, "x\"y");
    EXPECT_EQ(l.entries[2].floor, Protocol::TLSv1);
    // A quoted * is a role named *, not the default.
    EXPECT_EQ(l.entries[3].scope, FloorScope::Role);
    EXPECT_STREQ(l.entries[3].name, "*");
    // The canonical form reads back to the same list.
    const std::string canonical = format_role_floors(l);
    EXPECT_EQ(canonical, "a=TLSv1.1, +\"Big, Team\"=TLSv1.3, \"x\"\"y\"=TLSv1, \"*\"=TLSv1.2");
    const RoleFloorList again = parse_ok(canonical.c_str());
    EXPECT_EQ(format_role_floors(again), canonical);
}

TEST(RoleFloorTest, NamesAreCaseSensitive) {
    const RoleFloorList l = parse_ok("ETL=TLSv1.3");
    EXPECT_EQ(resolve_role_floor(l, "etl", nullptr, nullptr), nullptr);
    EXPECT_NE(resolve_role_floor(l, "ETL", nullptr, nullptr), nullptr);
}

// Entries that match no role: a case variant, a group that does not exist,
// a renamed role; `*` never counts; the roles' own case is kept in the hint.
TEST(RoleFloorTest, UnmatchedEntriesNamedWithTheirCaseVariant) {
    const RoleFloorList l = parse_ok("ETL_TEAM=TLSv1.3, ghost=TLSv1.3, +ghosts=TLSv1.2, etl=TLSv1.3, "
                                     "\"Mixed\"=TLSv1.3, *=TLSv1.2");
    const std::vector<std::string> roles = {"postgres", "etl_team", "etl_renamed", "Mixed", "GHOSTS"};
    const auto u = unmatched_role_floors(l, roles);
    ASSERT_EQ(u.size(), 4u);
    EXPECT_EQ(u[0].name, "ETL_TEAM");
    EXPECT_EQ(u[0].case_variant, "etl_team");
    EXPECT_EQ(u[1].name, "ghost");
    EXPECT_EQ(u[1].case_variant, "");
    EXPECT_EQ(u[1].entry, "ghost=TLSv1.3");
    EXPECT_EQ(u[2].name, "ghosts");
    EXPECT_EQ(u[2].case_variant, "GHOSTS");
    EXPECT_EQ(u[2].entry.substr(0, 1), "+");
    EXPECT_EQ(u[3].name, "etl");  // renamed: etl_renamed is not etl
    EXPECT_EQ(u[3].case_variant, "");
    const std::string line = describe_unmatched_role_floors(u);
    EXPECT_NE(line.find("ghost=TLSv1.3"), std::string::npos) << line;
    EXPECT_NE(line.find("(role etl_team differs only in case)"), std::string::npos) << line;

    EXPECT_TRUE(unmatched_role_floors(parse_ok("*=TLSv1.3"), {}).empty());
    EXPECT_TRUE(unmatched_role_floors(parse_ok(""), {"a"}).empty());
    EXPECT_TRUE(unmatched_role_floors(parse_ok("etl_team=TLSv1.3, +etl_team=TLSv1.2"), roles).empty());
    EXPECT_EQ(describe_unmatched_role_floors({}), "");
}

TEST(RoleFloorTest, ErrorsNameTheItem) {
    std::string m = parse_error("etl=TLSv1.3, reporting TLSv1.3");
    EXPECT_NE(m.find("entry 2 \"reporting TLSv1.3\""), std::string::npos) << m;
    EXPECT_NE(m.find("expected name=protocol"), std::string::npos) << m;

    m = parse_error("etl=TLSv1.4");
    EXPECT_NE(m.find("entry 1 \"etl=TLSv1.4\""), std::string::npos) << m;
    EXPECT_NE(m.find("unknown protocol \"TLSv1.4\""), std::string::npos) << m;

    m = parse_error("etl=");
    EXPECT_NE(m.find("missing protocol"), std::string::npos) << m;
    m = parse_error("=TLSv1.2");
    EXPECT_NE(m.find("empty role name"), std::string::npos) << m;
    m = parse_error("+=TLSv1.2");
    EXPECT_NE(m.find("empty role name"), std::string::npos) << m;
    m = parse_error("a=TLSv1.2,,b=TLSv1.2");
    EXPECT_NE(m.find("entry 2"), std::string::npos) << m;
    EXPECT_NE(m.find("empty item"), std::string::npos) << m;
    m = parse_error("a=TLSv1.2,");
    EXPECT_NE(m.find("empty item"), std::string::npos) << m;
    m = parse_error("a=SSLv3");
    EXPECT_NE(m.find("SSLv3 is not a floor"), std::string::npos) << m;
    m = parse_error("a=TLSv1.2, a=TLSv1.3");
    EXPECT_NE(m.find("duplicate entry for a"), std::string::npos) << m;
    m = parse_error("*=TLSv1.2, *=TLSv1.3");
    EXPECT_NE(m.find("* is given twice"), std::string::npos) << m;
    m = parse_error("\"open=TLSv1.2");
    EXPECT_NE(m.find("unterminated"), std::string::npos) << m;
    m = parse_error("a\"b\"=TLSv1.2");
    EXPECT_NE(m.find("quote"), std::string::npos) << m;
    m = parse_error("*x=TLSv1.2");
    EXPECT_NE(m.find("expected name=protocol"), std::string::npos) << m;
    m = parse_error(("r" + std::string(64, 'x') + "=TLSv1.2").c_str());
    EXPECT_NE(m.find("longer than 63 bytes"), std::string::npos) << m;
    // A role and a group of the same name are different entries.
    EXPECT_EQ(parse_ok("a=TLSv1.2, +a=TLSv1.3").count, 2u);
}

TEST(RoleFloorTest, BoundedNumberOfItems) {
    std::string text;
    for (std::size_t i = 0; i < kRoleFloorMaxEntries; ++i) text += (i ? ",r" : "r") + std::to_string(i) + "=TLSv1.2";
    EXPECT_EQ(parse_ok(text.c_str()).count, kRoleFloorMaxEntries);
    const std::string m = parse_error((text + ",one_more=TLSv1.2").c_str());
    EXPECT_NE(m.find("more than 64 items"), std::string::npos) << m;
    EXPECT_NE(m.find("one_more"), std::string::npos) << m;
}

TEST(RoleFloorTest, MostSpecificEntryWins) {
    const RoleFloorList l = parse_ok("etl=TLSv1.3, +reporting=TLSv1.3, legacy_app=TLSv1.2, *=TLSv1.2");
    std::set<std::string> groups{"reporting"};
    // The role's own entry beats its group.
    const RoleFloorEntry *e = resolve_role_floor(l, "legacy_app", member_of, &groups);
    ASSERT_NE(e, nullptr);
    EXPECT_STREQ(e->name, "legacy_app");
    EXPECT_EQ(e->floor, Protocol::TLSv1_2);
    // A member of the group without an entry of its own.
    e = resolve_role_floor(l, "analyst", member_of, &groups);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->scope, FloorScope::Group);
    EXPECT_EQ(e->floor, Protocol::TLSv1_3);
    // Everyone else: *.
    std::set<std::string> none;
    e = resolve_role_floor(l, "analyst", member_of, &none);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->scope, FloorScope::Default);
    // Without a membership predicate no group applies.
    e = resolve_role_floor(l, "analyst", nullptr, nullptr);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->scope, FloorScope::Default);
    // * may come first; the role entry still wins.
    const RoleFloorList l2 = parse_ok("*=TLSv1.3, old=TLSv1.1");
    EXPECT_EQ(resolve_role_floor(l2, "old", nullptr, nullptr)->floor, Protocol::TLSv1_1);
    EXPECT_EQ(resolve_role_floor(l2, "new", nullptr, nullptr)->floor, Protocol::TLSv1_3);
    // No entry applies.
    const RoleFloorList l3 = parse_ok("etl=TLSv1.3");
    EXPECT_EQ(resolve_role_floor(l3, "other", member_of, &groups), nullptr);
    EXPECT_EQ(resolve_role_floor(l3, "", member_of, &groups), nullptr);
}

TEST(RoleFloorTest, SeveralGroupsTheHighestFloorApplies) {
    const RoleFloorList l = parse_ok("+low=TLSv1.1, +high=TLSv1.3, +mid=TLSv1.2");
    std::set<std::string> groups{"low", "mid"};
    EXPECT_EQ(resolve_role_floor(l, "u", member_of, &groups)->floor, Protocol::TLSv1_2);
    groups.insert("high");
    EXPECT_EQ(resolve_role_floor(l, "u", member_of, &groups)->floor, Protocol::TLSv1_3);
}

TEST(RoleFloorTest, MembershipAskedOnlyWhenNeeded) {
    const RoleFloorList l = parse_ok("etl=TLSv1.3, +reporting=TLSv1.2, +admins=TLSv1.3");
    Counting c;
    c.groups = {"admins"};
    EXPECT_EQ(resolve_role_floor(l, "etl", counting_member, &c)->scope, FloorScope::Role);
    EXPECT_EQ(c.asked, 0);
    EXPECT_EQ(resolve_role_floor(l, "bob", counting_member, &c)->floor, Protocol::TLSv1_3);
    EXPECT_EQ(c.asked, 2);
    const RoleFloorList no_groups = parse_ok("etl=TLSv1.3, *=TLSv1.2");
    c.asked = 0;
    EXPECT_EQ(resolve_role_floor(no_groups, "bob", counting_member, &c)->scope, FloorScope::Default);
    EXPECT_EQ(c.asked, 0);
}

TEST(RoleFloorTest, Decisions) {
    const RoleFloorList l = parse_ok("etl=TLSv1.3");
    const RoleFloorEntry *e = &l.entries[0];
    EXPECT_EQ(decide_role_floor(e, "tls", "TLSv1.3"), FloorDecision::Ok);
    EXPECT_EQ(decide_role_floor(e, "tls", "TLSv1.2"), FloorDecision::BelowFloor);
    EXPECT_EQ(decide_role_floor(e, "tls", "TLSv1.1"), FloorDecision::BelowFloor);
    EXPECT_EQ(decide_role_floor(e, "tls", "weird"), FloorDecision::BelowFloor);
    EXPECT_EQ(decide_role_floor(e, "tls", nullptr), FloorDecision::BelowFloor);
    EXPECT_EQ(decide_role_floor(e, "tcp", nullptr), FloorDecision::NoTls);
    EXPECT_EQ(decide_role_floor(e, "gss", nullptr), FloorDecision::NoTls);
    EXPECT_EQ(decide_role_floor(e, "unix", nullptr), FloorDecision::UnixSocket);
    EXPECT_EQ(decide_role_floor(nullptr, "unix", nullptr), FloorDecision::UnixSocket);
    EXPECT_EQ(decide_role_floor(nullptr, "tcp", nullptr), FloorDecision::NoFloor);
    EXPECT_EQ(decide_role_floor(nullptr, "tls", "TLSv1"), FloorDecision::NoFloor);
    EXPECT_EQ(decide_role_floor(e, nullptr, nullptr), FloorDecision::NoFloor);
    EXPECT_EQ(decide_role_floor(e, "", nullptr), FloorDecision::NoFloor);
    EXPECT_TRUE(floor_violated(FloorDecision::BelowFloor));
    EXPECT_TRUE(floor_violated(FloorDecision::NoTls));
    EXPECT_FALSE(floor_violated(FloorDecision::Ok));
    EXPECT_FALSE(floor_violated(FloorDecision::UnixSocket));
    EXPECT_FALSE(floor_violated(FloorDecision::NoFloor));
}

TEST(RoleFloorTest, ReasonTexts) {
    const RoleFloorList l = parse_ok("etl=TLSv1.3, +reporting=TLSv1.3, *=TLSv1.2");
    EXPECT_EQ(floor_reason(FloorDecision::BelowFloor, l.entries[0], "TLSv1.2"), "TLSv1.2 < TLSv1.3 (role etl)");
    EXPECT_EQ(floor_reason(FloorDecision::NoTls, l.entries[1], ""), "no TLS (group reporting)");
    EXPECT_EQ(floor_reason(FloorDecision::BelowFloor, l.entries[2], "TLSv1.1"), "TLSv1.1 < TLSv1.2 (all roles)");
    EXPECT_EQ(floor_reason(FloorDecision::BelowFloor, l.entries[2], "odd"), "unknown protocol odd < TLSv1.2 (all roles)");
    EXPECT_FALSE(floor_reason(FloorDecision::Ok, l.entries[0], "TLSv1.3").has_value());
    EXPECT_FALSE(floor_reason(FloorDecision::UnixSocket, l.entries[0], "").has_value());
    // The fixed-buffer form truncates and always terminates.
    char small[8];
    floor_reason(FloorDecision::BelowFloor, l.entries[0], "TLSv1.2", small, sizeof small);
    EXPECT_STREQ(small, "TLSv1.2");
    char none[1] = {'x'};
    floor_reason(FloorDecision::Ok, l.entries[0], "TLSv1.3", none, sizeof none);
    EXPECT_STREQ(none, "");
    char which[80];
    describe_floor_entry(l.entries[1], which, sizeof which);
    EXPECT_STREQ(which, "group reporting");
}

// --- role_floor_readiness: the census through the per-role floors ----------
#include "census/census_key.hpp"
#include "census/role_floor_readiness.hpp"

namespace {

CensusRecord record(const char *user, const char *app, const char *transport, const char *protocol,
                    Outcome outcome, std::int64_t connections, std::int64_t last_seen) {
    CensusKeyFields f;
    f.usename = user;
    f.datname = "db";
    f.client_addr = std::strcmp(transport, "unix") == 0 ? "" : "10.0.0.1";
    f.application_name = app;
    f.transport = transport;
    f.protocol = protocol;
    f.outcome = outcome;
    CensusRecord r;
    make_census_key(r.key, f);
    r.connections = connections;
    r.last_seen = last_seen;
    return r;
}

struct Lookup {
    RoleFloorList list;
    std::set<std::string> reporting_members;
    int calls = 0;
};
// Members of "reporting": the users in reporting_members.
const RoleFloorEntry *lookup(const char *user, void *context) {
    auto *l = static_cast<Lookup *>(context);
    ++l->calls;
    std::set<std::string> groups;
    if (l->reporting_members.count(user) != 0) groups.insert("reporting");
    return resolve_role_floor(l->list, user, member_of, &groups);
}

}  // namespace

TEST(RoleFloorTest, SessionReasonUsesTheEntryElseTheFallback) {
    const RoleFloorList l = parse_ok("etl=TLSv1.3, *=TLSv1.2");
    // An entry applies: its floor, named in the reason, whatever the fallback.
    EXPECT_EQ(session_floor_reason(&l.entries[0], "tls", "TLSv1.2", Protocol::TLSv1), "TLSv1.2 < TLSv1.3 (role etl)");
    EXPECT_EQ(session_floor_reason(&l.entries[1], "tcp", "", Protocol::TLSv1), "no TLS (all roles)");
    EXPECT_FALSE(session_floor_reason(&l.entries[0], "tls", "TLSv1.3", Protocol::TLSv1_3).has_value());
    EXPECT_FALSE(session_floor_reason(&l.entries[0], "unix", "", Protocol::TLSv1_3).has_value());
    // No entry: tls_audit.min_protocol's rule.
    EXPECT_EQ(session_floor_reason(nullptr, "tls", "TLSv1.2", Protocol::TLSv1_3), "TLSv1.2 < TLSv1.3");
    EXPECT_EQ(session_floor_reason(nullptr, "tcp", "", Protocol::TLSv1), "no TLS");
    EXPECT_FALSE(session_floor_reason(nullptr, "tls", "TLSv1.3", Protocol::TLSv1_2).has_value());
}

TEST(RoleFloorReadinessTest, ListsClientsBelowTheirRolesFloor) {
    Lookup l;
    l.list = parse_ok("etl=TLSv1.3, +reporting=TLSv1.3, legacy=TLSv1.1, *=TLSv1.2");
    l.reporting_members = {"analyst"};
    const std::vector<CensusRecord> records = {
        record("etl", "a", "tls", "TLSv1.2", Outcome::Authenticated, 3, 100),
        record("etl", "a", "tls", "TLSv1.2", Outcome::PolicyViolation, 2, 200),  // added up with the line above
        record("etl", "b", "tls", "TLSv1.3", Outcome::Authenticated, 9, 100),    // at the floor
        record("etl", "c", "unix", "", Outcome::Authenticated, 9, 100),          // never affected
        record("legacy", "d", "tls", "TLSv1.1", Outcome::Authenticated, 1, 100), // its own entry
        record("other", "e", "tls", "TLSv1.1", Outcome::Authenticated, 4, 100),  // *: below
        record("other", "f", "tcp", "", Outcome::Authenticated, 1, 300),         // no TLS
        record("other", "g", "tls", "TLSv1", Outcome::AuthFailed, 7, 100),       // not authenticated
        record("other", "h", "tls", "TLSv1", Outcome::StartupFailed, 7, 100),
        record("analyst", "i", "tls", "TLSv1.2", Outcome::Authenticated, 2, 100),  // +reporting
    };
    std::vector<const CensusRecord *> ptrs;
    for (const auto &r : records) ptrs.push_back(&r);
    const auto rows = role_floor_readiness(ptrs, lookup, &l);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].usename, "etl");
    EXPECT_EQ(rows[0].connections, 5);
    EXPECT_EQ(rows[0].last_seen, 200);
    EXPECT_EQ(rows[0].role_floor, "TLSv1.3");
    EXPECT_EQ(rows[0].reason, "TLSv1.2 < TLSv1.3 (role etl)");
    EXPECT_EQ(rows[1].usename, "other");
    EXPECT_EQ(rows[1].connections, 4);
    EXPECT_EQ(rows[1].reason, "TLSv1.1 < TLSv1.2 (all roles)");
    EXPECT_EQ(rows[2].usename, "analyst");
    EXPECT_EQ(rows[2].reason, "TLSv1.2 < TLSv1.3 (group reporting)");
    EXPECT_EQ(rows[3].reason, "no TLS (all roles)");
    EXPECT_EQ(rows[3].protocol, "");
    // No entry at all: no rows.
    Lookup empty;
    EXPECT_TRUE(role_floor_readiness(ptrs, lookup, &empty).empty());
}

TEST(RoleFloorReadinessTest, SkipsClientsOfAPooler) {
    // A pooler's client below the floor: its TLS ends at the pooler, the
    // floor never judges it (the pooler's own connection is judged instead).
    Lookup l;
    l.list = parse_ok("*=TLSv1.3");
    CensusRecord direct = record("etl", "a", "tls", "TLSv1.2", Outcome::Authenticated, 3, 100);
    CensusRecord pooled = direct;
    copy_census_field(pooled.key.source, sizeof pooled.key.source, "edge");
    const std::vector<const CensusRecord *> ptrs = {&direct, &pooled};
    const auto rows = role_floor_readiness(ptrs, lookup, &l);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].connections, 3);
}

// floor_violation_possible answers exactly "could the resolved entry be
// violated?": whenever it says no, every membership gives a non-violating
// decision; whenever it says yes, some membership gives a violation.
TEST(RoleFloorTest, ViolationPossibleMatchesEveryMembership) {
    const char *lists[] = {"etl=TLSv1.3, +ops=TLSv1.2, *=TLSv1.2", "+ops=TLSv1.3, *=TLSv1.2", "+ops=TLSv1.1, *=TLSv1.3",
                           "+ops=TLSv1.3, +dev=TLSv1.2", "etl=TLSv1.2", "*=TLSv1.3", "etl=TLSv1.1, +ops=TLSv1.3"};
    const char *roles[] = {"etl", "analyst", ""};
    const std::pair<const char *, const char *> sessions[] = {
        {"tls", "TLSv1.3"}, {"tls", "TLSv1.2"}, {"tls", "TLSv1.1"}, {"tls", "SSLv3"}, {"tcp", nullptr},
        {"gss", nullptr},   {"unix", nullptr},  {"", nullptr}};
    const std::vector<std::set<std::string>> memberships{{}, {"ops"}, {"dev"}, {"ops", "dev"}};
    for (const char *text : lists) {
        const RoleFloorList l = parse_ok(text);
        for (const char *role : roles)
            for (const auto &[transport, protocol] : sessions) {
                bool violated_somewhere = false;
                for (std::set<std::string> groups : memberships) {
                    const RoleFloorEntry *e = resolve_role_floor(l, role, member_of, &groups);
                    violated_somewhere =
                        violated_somewhere || floor_violated(decide_role_floor(e, transport, protocol));
                }
                EXPECT_EQ(floor_violation_possible(l, role, transport, protocol), violated_somewhere)
                    << text << " role '" << role << "' " << transport << " " << (protocol ? protocol : "-");
            }
    }
    // The bench's list: a TLSv1.3 session of a role without an entry needs no lookup.
    const RoleFloorList bench = parse_ok("etl=TLSv1.3, +ops=TLSv1.2, *=TLSv1.2");
    EXPECT_FALSE(floor_violation_possible(bench, "postgres", "tls", "TLSv1.3"));
    EXPECT_TRUE(floor_violation_possible(bench, "postgres", "tls", "TLSv1.1"));
    EXPECT_TRUE(floor_violation_possible(bench, "etl", "tls", "TLSv1.2"));
}
