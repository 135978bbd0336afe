// pg_hba.conf as an access matrix: first match as hba.c decides it,
// shadowed lines, address scopes and the plaintext paths.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "access/hba_match.hpp"

using namespace tls_audit::hba;

namespace {


Rule line(int n, std::string type, std::vector<std::string> dbs, std::vector<std::string> roles,
          std::string address, std::string netmask, std::string method, std::vector<std::string> options = {}) {
    Rule r;
    r.order = n;
    r.line_number = n;
    r.type = std::move(type);
    r.databases = std::move(dbs);
    r.roles = std::move(roles);
    r.address = std::move(address);
    r.netmask = std::move(netmask);
    r.auth_method = std::move(method);
    r.options = std::move(options);
    return r;
}

Environment env() {
    Environment e;
    e.roles = {"alice", "bob", "carol", "admins", "staff", "postgres", "repl"};
    e.databases = {"postgres", "app", "alice", "admins"};
    // carol -> staff -> admins; bob -> admins
    e.member_of["carol"] = {"staff", "admins"};
    e.member_of["staff"] = {"admins"};
    e.member_of["bob"] = {"admins"};
    e.ssl = true;
    e.regex_entries = true;
    e.regex_match = [](const std::string &p, const std::string &s) { return std::regex_search(s, std::regex(p)); };
    e.interfaces = {{*parse_ip("127.0.0.1"), *parse_ip("255.0.0.0")},
                    {*parse_ip("10.1.2.3"), *parse_ip("255.255.255.0")},
                    {*parse_ip("::1"), *parse_ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}};
    return e;
}

Request tcp(std::string role, std::string db, const char *addr, Transport t = Transport::Tcp) {
    Request q;
    q.role = std::move(role);
    q.database = std::move(db);
    q.address = parse_ip(addr);
    q.transport = t;
    return q;
}

// The line number decide() picks, 0 for no matching line, -1 for an error.
int first(const std::vector<Rule> &rules, const Request &q, const Environment &e = env()) {
    auto d = decide(rules, q, e);
    if (!d.ok()) return -1;
    return d.value().rule ? rules[*d.value().rule].line_number : 0;
}

const char *kAll4 = "0.0.0.0";
const char *kZero4 = "0.0.0.0";
const char *kHost4 = "255.255.255.255";

}  // namespace

TEST(HbaAddress, ParsesAndMatches) {
    ASSERT_TRUE(parse_ip("127.0.0.1"));
    ASSERT_TRUE(parse_ip("::1"));
    EXPECT_TRUE(parse_ip("10.0.0.1/32"));
    EXPECT_FALSE(parse_ip("10.0.0.0/8"));  // a network is not one client
    EXPECT_FALSE(parse_ip("300.1.1.1"));
    EXPECT_FALSE(parse_ip("localhost"));
    EXPECT_FALSE(parse_ip(""));
    IpNet ten{*parse_ip("10.0.0.0"), *parse_ip("255.0.0.0")};
    EXPECT_TRUE(ten.contains(*parse_ip("10.200.3.4")));
    EXPECT_FALSE(ten.contains(*parse_ip("11.0.0.1")));
    EXPECT_FALSE(ten.contains(*parse_ip("::ffff:10.0.0.1")));  // hba compares families strictly
    IpNet ten24{*parse_ip("10.1.2.0"), *parse_ip("255.255.255.0")};
    EXPECT_TRUE(ten.contains(ten24));
    EXPECT_FALSE(ten24.contains(ten));
    EXPECT_EQ(format_ip(*parse_ip("::1")), "::1");
}

TEST(HbaMeaning, ScopesStrengthsAndCerts) {
    const Environment e = env();
    EXPECT_EQ(address_scope(line(1, "local", {"all"}, {"all"}, "", "", "peer"), e), "local");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "127.0.0.1", kHost4, "trust"), e), "loopback");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "127.0.0.0", "255.0.0.0", "trust"), e), "loopback");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "trust"), e),
              "loopback");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "10.0.0.0", "255.0.0.0", "md5"), e), "private");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "192.168.1.0", "255.255.255.0", "md5"), e), "private");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "172.0.0.0", "255.0.0.0", "md5"), e), "public");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "fd00::", "ff00::", "md5"), e), "private");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, kAll4, kZero4, "md5"), e), "any");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "all", "", "md5"), e), "any");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "8.8.8.8", kHost4, "md5"), e), "public");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "db.example.com", "", "md5"), e), "public");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "localhost", "", "md5"), e), "loopback");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "samehost", "", "md5"), e), "loopback");
    EXPECT_EQ(address_scope(line(1, "host", {"all"}, {"all"}, "samenet", "", "md5"), e), "private");

    EXPECT_EQ(auth_strength("trust"), "none");
    EXPECT_EQ(auth_strength("md5"), "weak");
    EXPECT_EQ(auth_strength("password"), "weak");
    EXPECT_EQ(auth_strength("scram-sha-256"), "strong");
    EXPECT_EQ(auth_strength("cert"), "strong");
    EXPECT_EQ(auth_strength("reject"), "reject");

    EXPECT_EQ(client_cert(line(1, "hostssl", {"all"}, {"all"}, "all", "", "cert", {"clientcert=verify-full"})), "cert-auth");
    EXPECT_EQ(client_cert(line(1, "hostssl", {"all"}, {"all"}, "all", "", "scram-sha-256", {"clientcert=verify-ca"})),
              "verify-ca");
    EXPECT_EQ(client_cert(line(1, "hostssl", {"all"}, {"all"}, "all", "", "scram-sha-256")), "none");
    EXPECT_TRUE(tls_required(line(1, "hostssl", {"all"}, {"all"}, "all", "", "md5")));
    EXPECT_FALSE(tls_required(line(1, "hostgssenc", {"all"}, {"all"}, "all", "", "md5")));
    EXPECT_TRUE(encryption_required(line(1, "hostgssenc", {"all"}, {"all"}, "all", "", "md5")));
    EXPECT_FALSE(encryption_required(line(1, "host", {"all"}, {"all"}, "all", "", "md5")));

    const auto roles = describe_roles(line(1, "host", {"all"}, {"+admins", "+nobody", "alice"}, "all", "", "md5"), e);
    ASSERT_EQ(roles.size(), 3U);
    EXPECT_EQ(roles[0], "+admins (4 members)");  // admins, bob, carol, staff
    EXPECT_EQ(roles[1], "+nobody (no such role)");
    EXPECT_EQ(roles[2], "alice");
}

TEST(HbaDecide, FirstMatchByTransport) {
    const std::vector<Rule> rules = {
        line(1, "hostnossl", {"all"}, {"all"}, "127.0.0.1", kHost4, "reject"),
        line(2, "hostssl", {"all"}, {"all"}, "127.0.0.0", "255.0.0.0", "scram-sha-256"),
        line(3, "host", {"all"}, {"all"}, "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "md5"),
        line(4, "local", {"all"}, {"all"}, "", "", "peer"),
    };
    EXPECT_EQ(first(rules, tcp("alice", "app", "127.0.0.1")), 1);
    EXPECT_EQ(first(rules, tcp("alice", "app", "127.0.0.1", Transport::Tls)), 2);
    EXPECT_EQ(first(rules, tcp("alice", "app", "127.0.0.2")), 0);
    EXPECT_EQ(first(rules, tcp("alice", "app", "127.0.0.2", Transport::Tls)), 2);
    EXPECT_EQ(first(rules, tcp("alice", "app", "::1")), 3);
    EXPECT_EQ(first(rules, tcp("alice", "app", "::1", Transport::Tls)), 3);
    Request unix_q;
    unix_q.role = "alice";
    unix_q.database = "app";
    unix_q.transport = Transport::Unix;
    EXPECT_EQ(first(rules, unix_q), 4);

    auto d = decide(rules, tcp("alice", "app", "127.0.0.1"), env());
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.value().outcome, "rejected");
    d = decide(rules, tcp("alice", "app", "127.0.0.2"), env());
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.value().outcome, "no matching line");
    d = decide(rules, tcp("alice", "app", "127.0.0.2", Transport::Tls), env());
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.value().outcome, "allowed");
}

TEST(HbaDecide, SslOffAndGss) {
    Environment e = env();
    e.ssl = false;
    const std::vector<Rule> rules = {line(1, "hostssl", {"all"}, {"all"}, "all", "", "md5"),
                                     line(2, "hostgssenc", {"all"}, {"all"}, "all", "", "gss"),
                                     line(3, "hostnogssenc", {"all"}, {"all"}, "all", "", "md5")};
    EXPECT_EQ(first(rules, tcp("alice", "app", "10.0.0.1"), e), 3);
    EXPECT_EQ(first(rules, tcp("alice", "app", "10.0.0.1", Transport::Tls), e), -1);  // impossible transport
    EXPECT_EQ(first(rules, tcp("alice", "app", "10.0.0.1", Transport::Gss), e), -1);
    e.gss_supported = true;
    EXPECT_EQ(first(rules, tcp("alice", "app", "10.0.0.1", Transport::Gss), e), 2);
}

TEST(HbaDecide, DatabaseKeywords) {
    const std::vector<Rule> rules = {
        line(1, "host", {"sameuser"}, {"all"}, "all", "", "md5"),
        line(2, "host", {"samerole"}, {"all"}, "all", "", "scram-sha-256"),
        line(3, "host", {"replication"}, {"repl"}, "all", "", "scram-sha-256"),
        line(4, "host", {"app", "/^post"}, {"all"}, "all", "", "password"),
    };
    EXPECT_EQ(first(rules, tcp("alice", "alice", "10.0.0.1")), 1);
    EXPECT_EQ(first(rules, tcp("bob", "admins", "10.0.0.1")), 2);    // bob is in admins
    EXPECT_EQ(first(rules, tcp("carol", "admins", "10.0.0.1")), 2);  // through staff
    EXPECT_EQ(first(rules, tcp("alice", "admins", "10.0.0.1")), 0);
    EXPECT_EQ(first(rules, tcp("admins", "admins", "10.0.0.1")), 1);  // sameuser first
    EXPECT_EQ(first(rules, tcp("alice", "app", "10.0.0.1")), 4);
    EXPECT_EQ(first(rules, tcp("alice", "postgres", "10.0.0.1")), 4);  // regex
    Request r = tcp("repl", "", "10.0.0.1");
    r.replication = true;
    EXPECT_EQ(first(rules, r), 3);
    r.role = "alice";
    EXPECT_EQ(first(rules, r), 0);  // only "replication" matches physical replication; "all" does not
    // Before 16 "/^post" is a plain name.
    Environment e15 = env();
    e15.regex_entries = false;
    EXPECT_EQ(first(rules, tcp("alice", "postgres", "10.0.0.1"), e15), 0);
    // The keyword "all" matches every database but not replication.
    const std::vector<Rule> all = {line(1, "host", {"all"}, {"all"}, "all", "", "md5")};
    r.role = "repl";
    EXPECT_EQ(first(all, r), 0);
}

TEST(HbaDecide, RoleEntries) {
    const std::vector<Rule> rules = {
        line(1, "host", {"all"}, {"+admins"}, "all", "", "scram-sha-256"),
        line(2, "host", {"all"}, {"/^al"}, "all", "", "md5"),
        line(3, "host", {"all"}, {"+nosuchgroup", "postgres"}, "all", "", "trust"),
    };
    EXPECT_EQ(first(rules, tcp("bob", "app", "10.0.0.1")), 1);
    EXPECT_EQ(first(rules, tcp("carol", "app", "10.0.0.1")), 1);   // indirect member
    EXPECT_EQ(first(rules, tcp("admins", "app", "10.0.0.1")), 1);  // +g matches g itself
    EXPECT_EQ(first(rules, tcp("alice", "app", "10.0.0.1")), 2);
    EXPECT_EQ(first(rules, tcp("postgres", "app", "10.0.0.1")), 3);  // superuser: not a member of admins
    EXPECT_EQ(first(rules, tcp("repl", "app", "10.0.0.1")), 0);
}

TEST(HbaDecide, HostNamesAndSameHost) {
    const std::vector<Rule> rules = {
        line(1, "host", {"all"}, {"all"}, "db.example.com", "", "scram-sha-256"),
        line(2, "host", {"all"}, {"all"}, "samehost", "", "trust"),
        line(3, "host", {"all"}, {"all"}, "samenet", "", "md5"),
    };
    auto d = decide(rules, tcp("alice", "app", "10.1.2.3"), env());
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d.value().outcome, "depends on DNS");
    EXPECT_EQ(*d.value().rule, 0U);
    ASSERT_TRUE(d.value().otherwise);
    EXPECT_EQ(*d.value().otherwise, 1U);  // samehost: 10.1.2.3 is this host
    EXPECT_NE(d.value().detail.find("db.example.com"), std::string::npos);
    EXPECT_NE(d.value().detail.find("samehost covers"), std::string::npos);
    d = decide(rules, tcp("alice", "app", "10.1.2.77"), env());
    EXPECT_EQ(*d.value().otherwise, 2U);  // samenet
    d = decide(rules, tcp("alice", "app", "10.1.3.1"), env());
    EXPECT_EQ(d.value().outcome, "depends on DNS");
    EXPECT_FALSE(d.value().otherwise);
    EXPECT_EQ(d.value().otherwise_outcome, "no matching line");
}

TEST(HbaDecide, BadRequests) {
    const std::vector<Rule> rules = {line(1, "host", {"all"}, {"all"}, "all", "", "md5")};
    auto d = decide(rules, tcp("nosuchrole", "app", "10.0.0.1"), env());
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().sqlstate, "42704");
    d = decide(rules, tcp("alice", "nosuchdb", "10.0.0.1"), env());
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().sqlstate, "42704");
    Request q = tcp("alice", "app", "10.0.0.1");
    q.address.reset();
    EXPECT_FALSE(decide(rules, q, env()).ok());
    q = tcp("alice", "app", "10.0.0.1", Transport::Unix);
    EXPECT_FALSE(decide(rules, q, env()).ok());
    q = tcp("", "app", "10.0.0.1");
    EXPECT_EQ(decide(rules, q, env()).error().sqlstate, "22023");
    q = tcp("alice", "", "10.0.0.1");
    EXPECT_EQ(decide(rules, q, env()).error().sqlstate, "22023");
    EXPECT_FALSE(parse_transport("ssl"));
    EXPECT_EQ(*parse_transport("TLS"), Transport::Tls);
}

TEST(HbaDecide, ErrorLines) {
    std::vector<Rule> rules = {line(1, "host", {"all"}, {"all"}, "all", "", "md5")};
    rules[0].type.clear();  // could not be parsed: never matches
    rules[0].error = "invalid authentication method";
    rules.push_back(line(2, "hostssl", {"all"}, {"all"}, "all", "", "scram-sha-256"));
    rules[1].error = "hostssl record cannot match because SSL is disabled";  // still loaded
    EXPECT_EQ(first(rules, tcp("alice", "app", "10.0.0.1", Transport::Tls)), 2);
    EXPECT_EQ(first(rules, tcp("alice", "app", "10.0.0.1")), 0);
}

TEST(HbaShadow, WholeLineCovered) {
    const Environment e = env();
    const std::vector<Rule> rules = {
        line(1, "host", {"all"}, {"all"}, "10.0.0.0", "255.0.0.0", "md5"),
        line(2, "hostssl", {"all"}, {"all"}, "10.1.0.0", "255.255.0.0", "scram-sha-256"),  // inside 1
        line(3, "hostssl", {"all"}, {"all"}, "0.0.0.0", "0.0.0.0", "scram-sha-256"),      // wider
        line(4, "host", {"app"}, {"+admins"}, "10.2.0.0", "255.255.0.0", "trust"),
        line(5, "host", {"replication"}, {"all"}, "10.0.0.0", "255.0.0.0", "md5"),  // "all" is no replication
        line(6, "hostnossl", {"app"}, {"bob"}, "10.3.0.0", "255.255.0.0", "md5"),
        line(7, "host", {"app"}, {"+staff"}, "all", "", "md5"),  // staff + carol; 3 has all but hostssl only
        line(8, "host", {"all"}, {"+nosuchgroup"}, "10.0.0.0", "255.0.0.0", "md5"),  // matches nobody
    };
    EXPECT_EQ(*shadowed_by(rules, 1, e), 0U);
    EXPECT_FALSE(shadowed_by(rules, 2, e));
    EXPECT_EQ(*shadowed_by(rules, 3, e), 0U);
    EXPECT_FALSE(shadowed_by(rules, 4, e));
    EXPECT_EQ(*shadowed_by(rules, 5, e), 0U);
    EXPECT_FALSE(shadowed_by(rules, 6, e));
    EXPECT_FALSE(shadowed_by(rules, 7, e));
    EXPECT_FALSE(shadowed_by(rules, 0, e));
}

TEST(HbaShadow, GroupsNamesAndTransports) {
    const Environment e = env();
    const std::vector<Rule> rules = {
        line(1, "host", {"app"}, {"+admins"}, "all", "", "scram-sha-256"),
        line(2, "hostssl", {"app"}, {"bob", "carol"}, "127.0.0.1", kHost4, "md5"),  // members of admins
        line(3, "host", {"app"}, {"alice"}, "all", "", "md5"),
        line(4, "hostnossl", {"app"}, {"alice"}, "127.0.0.1", kHost4, "md5"),  // 3 covers tcp
        line(5, "host", {"app"}, {"/^ali"}, "all", "", "md5"),                // regex: not proved
        line(6, "host", {"postgres", "app"}, {"alice"}, "samehost", "", "md5"),
        line(7, "host", {"all"}, {"all"}, "samenet", "", "md5"),
        line(8, "host", {"app"}, {"repl"}, "samehost", "", "md5"),  // 7: samenet covers samehost
        line(9, "host", {"all"}, {"all"}, "db.example.com", "", "md5"),
        line(10, "hostssl", {"all"}, {"all"}, ".example.com", "", "md5"),
        line(11, "hostssl", {"all"}, {"all"}, "DB.EXAMPLE.COM", "", "md5"),
    };
    EXPECT_EQ(*shadowed_by(rules, 1, e), 0U);
    EXPECT_EQ(*shadowed_by(rules, 3, e), 2U);
    EXPECT_FALSE(shadowed_by(rules, 4, e));
    EXPECT_FALSE(shadowed_by(rules, 5, e));
    EXPECT_EQ(*shadowed_by(rules, 7, e), 6U);
    EXPECT_FALSE(shadowed_by(rules, 9, e));  // the suffix comes after the single name
    EXPECT_EQ(*shadowed_by(rules, 10, e), 8U);
}

TEST(HbaPlaintext, FirstMatchOrder) {
    const Environment e = env();
    const std::vector<Rule> rules = {
        line(1, "local", {"all"}, {"all"}, "", "", "trust"),
        line(2, "host", {"all"}, {"all"}, "127.0.0.1", kHost4, "scram-sha-256"),
        line(3, "host", {"app"}, {"alice"}, "10.0.0.0", "255.0.0.0", "scram-sha-256"),  // before the hostssl
        line(4, "hostssl", {"all"}, {"all"}, "all", "", "scram-sha-256"),
        line(5, "hostssl", {"all"}, {"all"}, "192.168.0.0", "255.255.0.0", "md5"),  // shadowed by 4
        line(6, "hostnossl", {"all"}, {"all"}, "all", "", "reject"),
        line(7, "host", {"all"}, {"all"}, "all", "", "md5"),  // tcp: taken by 6; tls: taken by 4
    };
    const auto paths = plaintext_paths(rules, e);
    ASSERT_EQ(paths.size(), 2U);
    EXPECT_EQ(rules[paths[0].rule].line_number, 2);
    EXPECT_EQ(paths[0].scope, "loopback");
    EXPECT_EQ(paths[0].transport, Transport::Tcp);
    EXPECT_EQ(paths[0].reason, "no encryption");
    EXPECT_EQ(rules[paths[1].rule].line_number, 3);
    EXPECT_EQ(paths[1].scope, "private");
    EXPECT_TRUE(paths[1].earlier.empty());
}

TEST(HbaPlaintext, WeakMethodOverTlsAndPartialCover) {
    const Environment e = env();
    const std::vector<Rule> rules = {
        line(1, "host", {"all"}, {"all"}, "10.0.0.0", "255.0.0.0", "reject"),
        line(2, "host", {"all"}, {"all"}, "0.0.0.0", "0.0.0.0", "md5"),
        line(3, "hostssl", {"all"}, {"all"}, "::", "::", "trust"),
    };
    const auto paths = plaintext_paths(rules, e);
    ASSERT_EQ(paths.size(), 3U);
    EXPECT_EQ(rules[paths[0].rule].line_number, 2);
    EXPECT_EQ(paths[0].transport, Transport::Tcp);
    EXPECT_EQ(paths[0].reason, "no encryption, weak method");
    EXPECT_EQ(paths[0].scope, "any");
    ASSERT_EQ(paths[0].earlier.size(), 1U);  // the reject line takes 10/8 first
    EXPECT_EQ(paths[0].earlier[0], 0U);
    EXPECT_EQ(paths[1].transport, Transport::Tls);
    EXPECT_EQ(paths[1].reason, "weak method");
    EXPECT_EQ(rules[paths[2].rule].line_number, 3);
    EXPECT_EQ(paths[2].transport, Transport::Tls);
}

TEST(HbaText, ObjectsAndLines) {
    Rule r = line(7, "host", {"app", "postgres"}, {"+admins"}, "10.0.0.0", "255.0.0.0", "md5");
    EXPECT_EQ(rule_object(r), "pg_hba.conf line 7");
    EXPECT_EQ(rule_text(r), "host app,postgres +admins 10.0.0.0/8 md5");
    r.file_name = "/etc/pg/pg_hba.conf";  // 16+: the main file is named too
    EXPECT_EQ(rule_object(r), "pg_hba.conf line 7");
    r.file_name = "/etc/pg/hba_extra.conf";
    r.main_file = false;  // an included file
    EXPECT_EQ(rule_object(r), "/etc/pg/hba_extra.conf line 7");
    r.netmask = "255.0.255.0";  // not contiguous: printed as is
    EXPECT_EQ(rule_text(r), "host app,postgres +admins 10.0.0.0 255.0.255.0 md5");
}

TEST(HbaInterfaces, LoopbackIsListed) {
    bool loopback = false;
    for (const auto &i : local_interfaces())
        if (i.addr == *parse_ip("127.0.0.1")) loopback = true;
    EXPECT_TRUE(loopback);
}
