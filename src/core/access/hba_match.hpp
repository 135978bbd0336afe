// pg_hba.conf as an access matrix: the rows of pg_hba_file_rules with their
// meaning spelled out, PostgreSQL's own first-match decision for one
// connection attempt (hba.c check_hba()), lines that can never match because
// an earlier line takes every connection they could match, and the paths by
// which a client reaches the server over TCP without encryption or with a
// weak method.
//
// Pure decisions: the glue reads pg_hba_file_rules, the roles and their
// memberships, the host's interfaces and supplies a regular-expression
// matcher (PostgreSQL 16+ accepts "/regex" user and database entries, run
// with PostgreSQL's own regex engine); nothing here resolves host names.
#pragma once

#include "base/pure_cpp.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

TLS_AUDIT_AREA(access);

namespace tls_audit::hba {

// How a client reaches the server.
enum class Transport { Unix, Tcp, Tls, Gss };
const char *transport_name(Transport t);  // "unix", "tcp", "tls", "gss"
std::optional<Transport> parse_transport(std::string_view name);

// An IPv4 or IPv6 address (IPv4 in the first 4 bytes).
struct IpAddress {
    int family = 4;  // 4 or 6
    std::array<std::uint8_t, 16> bytes{};
    int length() const { return family == 4 ? 4 : 16; }
    bool operator==(const IpAddress &o) const { return family == o.family && bytes == o.bytes; }
};
// A numeric address ("127.0.0.1", "::1"; a "/32" or "/128" suffix is
// accepted); nullopt for anything else.
std::optional<IpAddress> parse_ip(std::string_view text);
std::string format_ip(const IpAddress &a);

// An address with a netmask (bitwise, as check_ip() compares).
struct IpNet {
    IpAddress addr;
    IpAddress mask;
    bool contains(const IpAddress &a) const;
    bool contains(const IpNet &other) const;  // every address of other
};
IpNet host_net(const IpAddress &a);  // the single address

// One network interface address of this host (samehost / samenet).
struct Interface {
    IpAddress addr;
    IpAddress mask;
};
// getifaddrs() of the calling process (empty when it fails).
std::vector<Interface> local_interfaces();

// One row of pg_hba_file_rules.
struct Rule {
    int order = 0;             // rule_number (16+) or line_number (15): the order the server tries lines
    int line_number = 0;
    std::string file_name;     // 16+; empty before
    std::string type;          // empty for a line PostgreSQL could not parse
    std::vector<std::string> databases;
    std::vector<std::string> roles;
    std::string address;       // IP, host name, all, samehost, samenet; empty for local
    std::string netmask;
    std::string auth_method;
    std::vector<std::string> options;  // e.g. clientcert=verify-full
    std::string error;         // pg_hba_file_rules.error
    // The line is in the server's hba_file itself (always before 16); false
    // for a line of an included file, which findings then name by its path.
    bool main_file = true;
    // A line with an error still takes part when PostgreSQL could parse it
    // (e.g. "hostssl record cannot match because SSL is disabled"); a line
    // without a type could not be parsed.
    bool active() const { return !type.empty(); }
};

// What the glue knows about this server.
struct Environment {
    std::set<std::string> roles;      // every role name
    std::set<std::string> databases;  // every database name
    // Role -> every role it is a member of, directly or through other roles
    // (pg_auth_members followed upward, superuser-ness ignored, as hba.c's
    // is_member() / is_member_of_role_nosuper()). A role counts as member of
    // itself without being listed.
    std::map<std::string, std::set<std::string>> member_of;
    bool regex_entries = false;  // 16+: "/regex" user and database entries
    bool gss_supported = false;  // server built with GSSAPI
    bool ssl = true;             // ssl = on (hostssl can match)
    std::vector<Interface> interfaces;
    // Regular expression match with PostgreSQL's engine (pattern without
    // the leading '/'); unset: such entries never match (and are noted).
    std::function<bool(const std::string &pattern, const std::string &subject)> regex_match;
};

// Spelled-out meaning of a line.
std::string address_scope(const Rule &r, const Environment &env);  // local, loopback, private, public, any
bool tls_required(const Rule &r);         // hostssl
bool encryption_required(const Rule &r);  // hostssl, hostgssenc
std::string client_cert(const Rule &r);   // none, verify-ca, verify-full, cert-auth
std::string auth_strength(std::string_view method);  // none, weak, strong, reject
// The role entries with groups shown as "+name (N members)".
std::vector<std::string> describe_roles(const Rule &r, const Environment &env);

// The members of group `name` (including itself when it exists), as +name matches.
std::set<std::string> group_members(const std::string &name, const Environment &env);

// The earlier line that matches every connection `rules[index]` could match
// (order of `rules`), or nullopt. Conservative: a shadow is reported only
// when it can be proved entry by entry.
std::optional<std::size_t> shadowed_by(const std::vector<Rule> &rules, std::size_t index,
                                       const Environment &env);

// One connection attempt.
struct Request {
    std::string role;
    std::string database;  // ignored for physical replication
    std::optional<IpAddress> address;  // nullopt for a unix socket
    Transport transport = Transport::Tcp;
    bool replication = false;  // physical replication (replication=true)
};

struct Decision {
    // "allowed" (the line's method decides), "rejected" (a reject line),
    // "no matching line" (refused), "depends on DNS" (a host-name line would
    // decide if the client's address resolves to it).
    std::string outcome;
    std::optional<std::size_t> rule;  // index into the rules; nullopt for no matching line
    // For "depends on DNS": where the decision goes when the name does not match.
    std::optional<std::size_t> otherwise;
    std::string otherwise_outcome;
    std::string detail;
};

// Bad requests (unknown role or database, transport and address that do not
// fit) give an Error with SQLSTATE 22023 / 42704.
Expected<Decision> decide(const std::vector<Rule> &rules, const Request &request, const Environment &env);

// A way in without encryption, or with a method weaker than scram.
struct PlaintextPath {
    std::size_t rule = 0;       // index into the rules
    Transport transport = Transport::Tcp;  // tcp (no encryption) or tls/gss (weak method)
    std::string scope;          // address_scope of the line
    std::string reason;         // "no encryption", "weak method", "no encryption, weak method"
    std::vector<std::size_t> earlier;  // earlier lines that take part of these connections first
};
// Every line (in first-match order) that admits TCP connections without
// encryption, or encrypted ones with a method weaker than scram, unless an
// earlier line takes every such connection.
std::vector<PlaintextPath> plaintext_paths(const std::vector<Rule> &rules, const Environment &env);

// Everything the matrix needs: the rules in the server's order and what the
// glue knows about roles, databases, interfaces and the server's build.
struct Matrix {
    std::vector<Rule> rules;
    Environment env;
};

// "pg_hba.conf line 3", or "FILE line 3" for a line of an included file.
std::string rule_object(const Rule &r);
std::string rule_text(const Rule &r);  // "host all all 0.0.0.0/0 md5"-like

}  // namespace tls_audit::hba
