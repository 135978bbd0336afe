// pg_hba.conf as an access matrix (hba_match.hpp): the rules' meaning, the
// first-match decision, shadowed lines and plaintext paths. The IP address
// parsing and the host's interfaces are in hba_address.cpp.
#include "access/hba_match.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace tls_audit::hba {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

bool contains(const std::vector<std::string> &v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// The transports a line can match, as a bit set over Transport.
unsigned bit(Transport t) { return 1U << static_cast<unsigned>(t); }

unsigned possible_transports(const Environment &env) {
    unsigned all = bit(Transport::Unix) | bit(Transport::Tcp);
    if (env.ssl) all |= bit(Transport::Tls);
    if (env.gss_supported) all |= bit(Transport::Gss);
    return all;
}

// hba.c check_hba(): local matches unix sockets only; host any TCP
// connection; hostssl only TLS; hostnossl anything but TLS; hostgssenc only
// GSSAPI-encrypted; hostnogssenc anything but GSSAPI-encrypted.
unsigned rule_transports(const Rule &r, const Environment &env) {
    unsigned t = 0;
    if (r.type == "local") t = bit(Transport::Unix);
    else if (r.type == "host") t = bit(Transport::Tcp) | bit(Transport::Tls) | bit(Transport::Gss);
    else if (r.type == "hostssl") t = bit(Transport::Tls);
    else if (r.type == "hostnossl") t = bit(Transport::Tcp) | bit(Transport::Gss);
    else if (r.type == "hostgssenc") t = bit(Transport::Gss);
    else if (r.type == "hostnogssenc") t = bit(Transport::Tcp) | bit(Transport::Tls);
    return t & possible_transports(env);
}

bool is_regex(const std::string &token, const Environment &env) {
    return env.regex_entries && !token.empty() && token[0] == '/';
}

bool regex_matches(const std::string &token, const std::string &subject, const Environment &env) {
    if (!env.regex_match) return false;
    return env.regex_match(token.substr(1), subject);
}

// hba.c is_member(): the role exists, the group exists, and the role is the
// group or a member of it (superuser-ness ignored).
bool is_member(const std::string &role, const std::string &group, const Environment &env) {
    if (env.roles.count(role) == 0 || env.roles.count(group) == 0) return false;
    if (role == group) return true;
    auto it = env.member_of.find(role);
    return it != env.member_of.end() && it->second.count(group) != 0;
}

bool is_group_token(const std::string &token) { return !token.empty() && token[0] == '+'; }

// hba.c check_db().
bool check_db(const std::string &db, const std::string &role, bool replication, const Rule &r,
              const Environment &env) {
    for (const auto &tok : r.databases) {
        if (replication) {
            if (tok == "replication") return true;
            continue;
        }
        if (tok == "all") return true;
        if (tok == "sameuser") {
            if (db == role) return true;
        } else if (tok == "samegroup" || tok == "samerole") {
            if (is_member(role, db, env)) return true;
        } else if (tok == "replication") {
            continue;
        } else if (is_regex(tok, env)) {
            if (regex_matches(tok, db, env)) return true;
        } else if (tok == db) {
            return true;
        }
    }
    return false;
}

// hba.c check_role().
bool check_role(const std::string &role, const Rule &r, const Environment &env) {
    for (const auto &tok : r.roles) {
        if (is_group_token(tok)) {
            if (is_member(role, tok.substr(1), env)) return true;
        } else if (is_regex(tok, env)) {
            if (regex_matches(tok, role, env)) return true;
        } else if (tok == "all" || tok == role) {
            return true;
        }
    }
    return false;
}

enum class AddressKind { None, All, SameHost, SameNet, HostName, Net };

struct Address {
    AddressKind kind = AddressKind::None;
    IpNet net;
    std::string name;
};

Address rule_address(const Rule &r) {
    Address a;
    if (r.type == "local" || r.address.empty()) return a;
    if (r.address == "all") {
        a.kind = AddressKind::All;
    } else if (r.address == "samehost") {
        a.kind = AddressKind::SameHost;
    } else if (r.address == "samenet") {
        a.kind = AddressKind::SameNet;
    } else if (auto ip = parse_ip(r.address)) {
        a.kind = AddressKind::Net;
        a.net = host_net(*ip);
        if (!r.netmask.empty()) {
            if (auto mask = parse_ip(r.netmask); mask && mask->family == ip->family) a.net.mask = *mask;
        }
    } else {
        a.kind = AddressKind::HostName;
        a.name = r.address;
    }
    return a;
}

enum class Match { No, Yes, Dns };

// hba.c check_hba()'s address test for a TCP client.
Match address_matches(const Address &a, const IpAddress &client, const Environment &env) {
    switch (a.kind) {
    case AddressKind::None: return Match::No;
    case AddressKind::All: return Match::Yes;
    case AddressKind::SameHost:
        for (const auto &i : env.interfaces)
            if (i.addr == client) return Match::Yes;
        return Match::No;
    case AddressKind::SameNet:
        for (const auto &i : env.interfaces)
            if (IpNet{i.addr, i.mask}.contains(client)) return Match::Yes;
        return Match::No;
    case AddressKind::HostName: return Match::Dns;
    case AddressKind::Net: return a.net.contains(client) ? Match::Yes : Match::No;
    }
    return Match::No;
}

// hba.c hostname_match(): a leading dot matches a suffix.
bool hostname_covers(const std::string &pattern, const std::string &name) {
    if (iequals(pattern, name)) return true;
    if (!pattern.empty() && pattern[0] == '.' && name.size() > pattern.size())
        return iequals(name.substr(name.size() - pattern.size()), pattern);
    return false;
}

// Does every client address of b also match a? (Conservative.)
bool address_covers(const Address &a, const Address &b) {
    if (b.kind == AddressKind::None) return a.kind == AddressKind::None;
    switch (a.kind) {
    case AddressKind::None: return false;
    case AddressKind::All: return true;
    case AddressKind::SameHost: return b.kind == AddressKind::SameHost;
    case AddressKind::SameNet: return b.kind == AddressKind::SameHost || b.kind == AddressKind::SameNet;
    case AddressKind::HostName: return b.kind == AddressKind::HostName && hostname_covers(a.name, b.name);
    case AddressKind::Net: return b.kind == AddressKind::Net && a.net.contains(b.net);
    }
    return false;
}

// Could some client address match both? (For listing earlier lines.)
bool address_overlaps(const Address &a, const Address &b) {
    if (a.kind == AddressKind::Net && b.kind == AddressKind::Net) {
        if (a.net.addr.family != b.net.addr.family) return false;
        for (int i = 0; i < a.net.addr.length(); ++i) {
            const std::uint8_t m = a.net.mask.bytes[i] & b.net.mask.bytes[i];
            if ((a.net.addr.bytes[i] & m) != (b.net.addr.bytes[i] & m)) return false;
        }
        return true;
    }
    return a.kind != AddressKind::None && b.kind != AddressKind::None;
}

// Is every connection with role `name` matched by a's role entries?
bool role_name_covered(const Rule &a, const std::string &name, const Environment &env) {
    for (const auto &tok : a.roles) {
        if (tok == "all") return true;
        if (is_group_token(tok)) {
            if (is_member(name, tok.substr(1), env)) return true;
        } else if (is_regex(tok, env)) {
            if (regex_matches(tok, name, env)) return true;
        } else if (tok == name) {
            return true;
        }
    }
    return false;
}

// Does a match every role b's entries match? b_empty: b's entries match no
// role at all (only groups that do not exist).
bool roles_covered(const Rule &a, const Rule &b, const Environment &env, bool &b_empty) {
    b_empty = true;
    const bool a_all = contains(a.roles, "all");
    for (const auto &tok : b.roles) {
        if (is_group_token(tok)) {
            const auto members = group_members(tok.substr(1), env);
            if (members.empty()) continue;  // a group that does not exist matches nobody
            b_empty = false;
            if (a_all || contains(a.roles, tok)) continue;
            for (const auto &m : members)
                if (!role_name_covered(a, m, env)) return false;
        } else {
            b_empty = false;
            if (a_all) continue;
            if (tok == "all") return false;
            if (is_regex(tok, env)) {
                if (!contains(a.roles, tok)) return false;
                continue;
            }
            if (!role_name_covered(a, tok, env)) return false;
        }
    }
    return true;
}

bool databases_covered(const Rule &a, const Rule &b, const Environment &env) {
    const bool a_all = contains(a.databases, "all");
    for (const auto &tok : b.databases) {
        if (tok == "replication") {
            if (!contains(a.databases, "replication")) return false;
            continue;
        }
        if (a_all) continue;
        if (tok == "all") return false;
        if (tok == "sameuser") {
            if (!contains(a.databases, "sameuser")) return false;
        } else if (tok == "samerole" || tok == "samegroup") {
            if (!contains(a.databases, "samerole") && !contains(a.databases, "samegroup")) return false;
        } else if (is_regex(tok, env)) {
            if (!contains(a.databases, tok)) return false;
        } else {
            bool found = false;
            for (const auto &at : a.databases) {
                if (at == "all" || at == "sameuser" || at == "samerole" || at == "samegroup" || at == "replication")
                    continue;
                if (is_regex(at, env) ? regex_matches(at, tok, env) : at == tok) found = true;
            }
            if (!found) return false;
        }
    }
    return true;
}

// Does a match every connection b matches, over the transports `mask`?
bool covers(const Rule &a, const Rule &b, unsigned mask, const Environment &env) {
    const unsigned tb = rule_transports(b, env) & mask;
    if (tb == 0) return false;
    if ((rule_transports(a, env) & tb) != tb) return false;
    if (!address_covers(rule_address(a), rule_address(b))) return false;
    bool b_empty = true;
    if (!roles_covered(a, b, env, b_empty) || b_empty) return false;
    return databases_covered(a, b, env);
}

bool roles_may_overlap(const Rule &a, const Rule &b, const Environment &env) {
    if (contains(a.roles, "all") || contains(b.roles, "all")) return true;
    for (const auto &tok : b.roles) {
        if (is_regex(tok, env)) return true;
        if (is_group_token(tok)) {
            for (const auto &m : group_members(tok.substr(1), env))
                if (role_name_covered(a, m, env)) return true;
        } else if (role_name_covered(a, tok, env)) {
            return true;
        }
    }
    // Groups and regular expressions of a against b's names are covered
    // above; two groups with a common member too.
    for (const auto &tok : a.roles)
        if (is_regex(tok, env)) return true;
    return false;
}

bool is_private4(const IpNet &n) {
    static const std::pair<const char *, const char *> blocks[] = {
        {"10.0.0.0", "255.0.0.0"},     {"172.16.0.0", "255.240.0.0"}, {"192.168.0.0", "255.255.0.0"},
        {"169.254.0.0", "255.255.0.0"}, {"100.64.0.0", "255.192.0.0"},
    };
    for (const auto &[a, m] : blocks)
        if (IpNet{*parse_ip(a), *parse_ip(m)}.contains(n)) return true;
    return false;
}

bool is_private6(const IpNet &n) {
    static const std::pair<const char *, const char *> blocks[] = {
        {"fc00::", "fe00::"},  // unique local fc00::/7
        {"fe80::", "ffc0::"},  // link-local fe80::/10
    };
    for (const auto &[a, m] : blocks)
        if (IpNet{*parse_ip(a), *parse_ip(m)}.contains(n)) return true;
    return false;
}

std::string net_scope(const IpNet &n) {
    bool zero = true;
    for (int i = 0; i < n.mask.length(); ++i)
        if (n.mask.bytes[i] != 0) zero = false;
    if (zero) return "any";
    if (n.addr.family == 4) {
        if (IpNet{*parse_ip("127.0.0.0"), *parse_ip("255.0.0.0")}.contains(n)) return "loopback";
        return is_private4(n) ? "private" : "public";
    }
    if (host_net(*parse_ip("::1")).contains(n)) return "loopback";
    return is_private6(n) ? "private" : "public";
}

int prefix_length(const IpAddress &mask) {
    int bits = 0;
    bool ended = false;
    for (int i = 0; i < mask.length(); ++i)
        for (int b = 7; b >= 0; --b) {
            const bool set = (mask.bytes[i] >> b) & 1U;
            if (set && ended) return -1;
            if (set) ++bits;
            else ended = true;
        }
    return bits;
}

std::string join(const std::vector<std::string> &v, const char *sep) {
    std::string out;
    for (const auto &s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------

const char *transport_name(Transport t) {
    switch (t) {
    case Transport::Unix: return "unix";
    case Transport::Tcp: return "tcp";
    case Transport::Tls: return "tls";
    case Transport::Gss: return "gss";
    }
    return "unknown";
}

std::optional<Transport> parse_transport(std::string_view name) {
    for (Transport t : {Transport::Unix, Transport::Tcp, Transport::Tls, Transport::Gss})
        if (iequals(name, transport_name(t))) return t;
    return std::nullopt;
}

std::string address_scope(const Rule &r, const Environment &env) {
    if (r.type == "local") return "local";
    const Address a = rule_address(r);
    switch (a.kind) {
    case AddressKind::None:  // no address column: any client
    case AddressKind::All: return "any";
    case AddressKind::SameHost: return "loopback";  // only this host's own addresses
    case AddressKind::SameNet: {
        std::string worst = "loopback";
        for (const auto &i : env.interfaces) {
            const std::string s = net_scope(IpNet{i.addr, i.mask});
            if (s == "public" || s == "any") return "public";
            if (s == "private") worst = s;
        }
        return worst;
    }
    case AddressKind::HostName: return iequals(a.name, "localhost") ? "loopback" : "public";
    case AddressKind::Net: return net_scope(a.net);
    }
    return "any";
}

bool tls_required(const Rule &r) { return r.type == "hostssl"; }
bool encryption_required(const Rule &r) { return r.type == "hostssl" || r.type == "hostgssenc"; }

std::string client_cert(const Rule &r) {
    if (r.auth_method == "cert") return "cert-auth";
    if (contains(r.options, "clientcert=verify-full")) return "verify-full";
    if (contains(r.options, "clientcert=verify-ca")) return "verify-ca";
    return "none";
}

std::string auth_strength(std::string_view m) {
    if (m == "trust") return "none";
    if (m == "reject") return "reject";
    // The client sends its password in clear text (password, ldap, radius,
    // pam, bsd), md5's hash is as good as the password, ident's answer comes
    // from the client's own host.
    if (m == "password" || m == "md5" || m == "ldap" || m == "radius" || m == "pam" || m == "bsd" || m == "ident")
        return "weak";
    return "strong";  // scram-sha-256, cert, gss, sspi, peer, oauth
}

std::set<std::string> group_members(const std::string &name, const Environment &env) {
    std::set<std::string> out;
    if (env.roles.count(name) == 0) return out;
    out.insert(name);
    for (const auto &[role, groups] : env.member_of)
        if (groups.count(name) != 0 && env.roles.count(role) != 0) out.insert(role);
    return out;
}

std::vector<std::string> describe_roles(const Rule &r, const Environment &env) {
    std::vector<std::string> out;
    for (const auto &tok : r.roles) {
        if (is_group_token(tok)) {
            const auto n = static_cast<long>(group_members(tok.substr(1), env).size());
            out.push_back(tok + (env.roles.count(tok.substr(1)) == 0
                                     ? std::string(" (no such role)")
                                     : " (" + std::to_string(n) + (n == 1 ? " member)" : " members)")));
        } else {
            out.push_back(tok);
        }
    }
    return out;
}

std::optional<std::size_t> shadowed_by(const std::vector<Rule> &rules, std::size_t index, const Environment &env) {
    if (index >= rules.size() || !rules[index].active()) return std::nullopt;
    for (std::size_t j = 0; j < index; ++j)
        if (rules[j].active() && covers(rules[j], rules[index], ~0U, env)) return j;
    return std::nullopt;
}

Expected<Decision> decide(const std::vector<Rule> &rules, const Request &q, const Environment &env) {
    constexpr const char *kUndefined = "42704";
    if (q.role.empty()) return make_error(sqlstate::kInvalidParameter, "role must not be empty");
    if (env.roles.count(q.role) == 0)
        return make_error(kUndefined, "role \"" + q.role + "\" does not exist",
                          "The server refuses a login as a role that does not exist after pg_hba.conf "
                          "matched; name an existing role.");
    if (!q.replication) {
        if (q.database.empty())
            return make_error(sqlstate::kInvalidParameter, "database must be given unless replication is true");
        if (env.databases.count(q.database) == 0)
            return make_error(kUndefined, "database \"" + q.database + "\" does not exist",
                              "Name an existing database (or pass replication => true for a physical "
                              "replication connection).");
    }
    if (q.transport == Transport::Unix && q.address)
        return make_error(sqlstate::kInvalidParameter, "a unix-socket connection has no client address",
                          "Pass NULL as the address with transport 'unix'.");
    if (q.transport != Transport::Unix && !q.address)
        return make_error(sqlstate::kInvalidParameter,
                          std::string("transport '") + transport_name(q.transport) + "' needs a client address",
                          "Pass the client's address, or use transport 'unix' for a unix socket.");
    if (q.transport == Transport::Tls && !env.ssl)
        return make_error(sqlstate::kInvalidParameter, "transport 'tls' is impossible: ssl is off on this server");
    if (q.transport == Transport::Gss && !env.gss_supported)
        return make_error(sqlstate::kInvalidParameter,
                          "transport 'gss' is impossible: this server is built without GSSAPI");

    Decision d;
    std::vector<std::size_t> dns_lines;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const Rule &r = rules[i];
        if (!r.active()) continue;
        if ((rule_transports(r, env) & bit(q.transport)) == 0) continue;
        Match m = Match::Yes;
        if (q.transport != Transport::Unix) m = address_matches(rule_address(r), *q.address, env);
        if (m == Match::No) continue;
        if (!check_db(q.database, q.role, q.replication, r, env)) continue;
        if (!check_role(q.role, r, env)) continue;
        if (m == Match::Dns) {
            dns_lines.push_back(i);
            continue;
        }
        const std::string outcome = r.auth_method == "reject" ? "rejected" : "allowed";
        if (dns_lines.empty()) {
            d.outcome = outcome;
            d.rule = i;
        } else {
            d.outcome = "depends on DNS";
            d.rule = dns_lines.front();
            d.otherwise = i;
            d.otherwise_outcome = outcome;
        }
        break;
    }
    if (!d.rule) {
        if (dns_lines.empty()) {
            d.outcome = "no matching line";
            d.detail = "no pg_hba.conf line matches: the server refuses the connection";
            return d;
        }
        d.outcome = "depends on DNS";
        d.rule = dns_lines.front();
        d.otherwise_outcome = "no matching line";
    }
    const Rule &r = rules[*d.rule];
    if (d.outcome == "depends on DNS") {
        d.detail = rule_object(r) + " matches only if " + format_ip(*q.address) + " resolves to \"" + r.address +
                   "\" (reverse and forward DNS, not looked up here); otherwise " +
                   (d.otherwise ? rule_object(rules[*d.otherwise]) + " (" + d.otherwise_outcome + ")"
                                : std::string("no line matches (refused)"));
        if (dns_lines.size() > 1) d.detail += "; " + std::to_string(dns_lines.size() - 1) + " more host-name line(s) before that";
    } else if (d.outcome == "rejected") {
        d.detail = rule_object(r) + " rejects the connection";
    } else {
        d.detail = rule_object(r) + " decides: authentication by " + r.auth_method;
        if (tls_required(r)) d.detail += ", TLS required";
        if (client_cert(r) != "none") d.detail += ", client certificate " + client_cert(r);
    }
    // What samehost / samenet cover here, for the deciding lines.
    for (const Rule *s : {&r, d.otherwise ? &rules[*d.otherwise] : nullptr}) {
        if (s == nullptr || (s->address != "samehost" && s->address != "samenet")) continue;
        std::vector<std::string> nets;
        for (const auto &i : env.interfaces) {
            const int p = prefix_length(i.mask);
            nets.push_back(format_ip(i.addr) + (s->address == "samenet" && p >= 0 ? "/" + std::to_string(p) : ""));
        }
        d.detail += "; " + s->address + " covers " + (nets.empty() ? std::string("no address") : join(nets, ", ")) +
                    " on this host";
    }
    return d;
}

std::vector<PlaintextPath> plaintext_paths(const std::vector<Rule> &rules, const Environment &env) {
    std::vector<PlaintextPath> out;
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const Rule &r = rules[i];
        if (!r.active() || r.type == "local" || r.auth_method == "reject") continue;
        const std::string strength = auth_strength(r.auth_method);
        const bool weak = strength == "none" || strength == "weak";
        for (Transport t : {Transport::Tcp, Transport::Tls, Transport::Gss}) {
            if ((rule_transports(r, env) & bit(t)) == 0) continue;
            const bool plain = t == Transport::Tcp;
            if (!plain && !weak) continue;
            bool taken = false;
            std::vector<std::size_t> earlier;
            for (std::size_t j = 0; j < i && !taken; ++j) {
                const Rule &a = rules[j];
                if (!a.active() || (rule_transports(a, env) & bit(t)) == 0) continue;
                if (covers(a, r, bit(t), env)) {
                    taken = true;
                } else if (address_overlaps(rule_address(a), rule_address(r)) && roles_may_overlap(a, r, env)) {
                    earlier.push_back(j);
                }
            }
            if (taken) continue;
            PlaintextPath p;
            p.rule = i;
            p.transport = t;
            p.scope = address_scope(r, env);
            p.reason = plain ? (weak ? "no encryption, weak method" : "no encryption") : "weak method";
            p.earlier = std::move(earlier);
            out.push_back(std::move(p));
        }
    }
    return out;
}

std::string rule_object(const Rule &r) {
    return (r.main_file || r.file_name.empty() ? std::string("pg_hba.conf") : r.file_name) + " line " +
           std::to_string(r.line_number);
}

std::string rule_text(const Rule &r) {
    std::string text = r.type + " " + join(r.databases, ",") + " " + join(r.roles, ",");
    if (!r.address.empty()) {
        text += " " + r.address;
        if (!r.netmask.empty()) {
            const auto mask = parse_ip(r.netmask);
            const int p = mask ? prefix_length(*mask) : -1;
            text += p >= 0 ? "/" + std::to_string(p) : " " + r.netmask;
        }
    }
    return text + " " + r.auth_method;
}

}  // namespace tls_audit::hba
