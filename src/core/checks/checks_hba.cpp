#include "checks/checks_hba.hpp"

#include "checks/check_util.hpp"

namespace tls_audit {

using namespace check_util;

namespace {

// A TCP line that can match a connection. A line pg_hba_file_rules reports
// with an error never does: hostssl while ssl is off ("hostssl record cannot
// match because SSL is disabled"), hostgssenc on a build without GSSAPI (and
// a file with a syntax error is not loaded at all). Judging such a line would
// report a rule that is not in effect, and disagree with pg_hba_file_rules.
bool is_tcp_rule(const HbaRule &r) {
    if (!r.error.empty()) return false;
    return r.type == "host" || r.type == "hostssl" || r.type == "hostnossl" || r.type == "hostgssenc" ||
           r.type == "hostnogssenc";
}

std::string hba_object(const HbaRule &r) { return "pg_hba.conf line " + std::to_string(r.line_number); }

std::string hba_line_text(const HbaRule &r) {
    std::string text = r.type + " " + r.database + " " + r.user_name;
    if (!r.address.empty()) text += " " + r.address;
    if (!r.netmask.empty()) text += " " + r.netmask;
    return text + " " + r.auth_method;
}

}  // namespace

// pg_hba.conf

bool is_loopback_rule(const HbaRule &r) {
    if (r.address == "localhost") return true;
    if (r.address == "::1") return r.netmask.empty() || r.netmask == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    if (r.address.rfind("127.", 0) == 0) return r.netmask.rfind("255.", 0) == 0;
    return false;
}

std::vector<Finding> check_hba_hostnossl(const std::vector<HbaRule> &rules) {
    constexpr std::string_view check = "hba_hostnossl";
    std::vector<Finding> found;
    for (const auto &r : rules) {
        if (!is_tcp_rule(r) || r.type != "hostnossl" || r.auth_method == "reject") continue;
        const bool loopback = is_loopback_rule(r);
        found.push_back(make(check, loopback ? Severity::Info : Severity::Warning, hba_object(r),
                             "\"" + hba_line_text(r) + "\" accepts only unencrypted TCP connections" +
                                 (loopback ? " (loopback only)" : ""),
                             "Change the line to hostssl, or make it \"hostnossl ... reject\" to refuse "
                             "unencrypted connections (https://www.postgresql.org/docs/current/auth-pg-hba-conf.html)."));
    }
    return or_ok(std::move(found), check, "no hostnossl line accepts connections");
}

std::vector<Finding> check_hba_host_without_ssl(const std::vector<HbaRule> &rules, bool ssl) {
    constexpr std::string_view check = "hba_host_without_ssl";
    std::vector<Finding> found;
    for (const auto &r : rules) {
        if (!is_tcp_rule(r) || (r.type != "host" && r.type != "hostnogssenc") || r.auth_method == "reject") continue;
        const bool loopback = is_loopback_rule(r);
        found.push_back(make(check, loopback ? Severity::Info : Severity::Warning, hba_object(r),
                             "\"" + hba_line_text(r) + "\" accepts TCP connections with or without TLS" +
                                 (ssl ? "" : " (and ssl is off)") + (loopback ? " (loopback only)" : ""),
                             "Use hostssl instead of host so that only TLS connections match "
                             "(https://www.postgresql.org/docs/current/auth-pg-hba-conf.html)."));
    }
    return or_ok(std::move(found), check, "no host line accepts TCP connections without TLS");
}

std::vector<Finding> check_hba_weak_auth(const std::vector<HbaRule> &rules) {
    constexpr std::string_view check = "hba_weak_auth";
    std::vector<Finding> found;
    for (const auto &r : rules) {
        if (!is_tcp_rule(r)) continue;
        // Only these line types guarantee an encrypted connection.
        const bool encrypted = r.type == "hostssl" || r.type == "hostgssenc";
        Severity severity;
        std::string why;
        if (r.auth_method == "trust") {
            severity = Severity::Critical;
            why = "trust lets anyone who can reach the port connect as any matching role without a password";
        } else if (r.auth_method == "password") {
            severity = encrypted ? Severity::Warning : Severity::Critical;
            why = encrypted ? "password sends the password in clear text inside the encrypted connection"
                            : "password sends the password in clear text, possibly without encryption";
        } else if (r.auth_method == "md5") {
            severity = Severity::Warning;
            why = "md5 is a weak challenge-response (the stored hash is enough to log in)";
        } else {
            continue;
        }
        found.push_back(make(check, severity, hba_object(r), "\"" + hba_line_text(r) + "\": " + why,
                             "Use scram-sha-256 (or cert) on TCP lines "
                             "(https://www.postgresql.org/docs/current/auth-password.html)."));
    }
    return or_ok(std::move(found), check, "no TCP line uses trust, password or md5");
}

std::vector<Finding> check_hba_plaintext_reachable(const hba::Matrix &m) {
    constexpr std::string_view check = "hba_plaintext_reachable";
    std::vector<Finding> found;
    for (const auto &p : hba::plaintext_paths(m.rules, m.env)) {
        if (p.transport != hba::Transport::Tcp) continue;  // weak methods over TLS: hba_weak_auth
        const hba::Rule &r = m.rules[p.rule];
        const bool loopback = p.scope == "loopback";
        std::string roles, dbs;
        for (const auto &x : hba::describe_roles(r, m.env)) roles += (roles.empty() ? "" : ", ") + x;
        for (const auto &x : r.databases) dbs += (dbs.empty() ? "" : ", ") + x;
        std::string message = "\"" + hba::rule_text(r) + "\" admits roles " + roles + " to databases " + dbs +
                              " from " + p.scope + " addresses over TCP without encryption (" + r.auth_method + ")";
        if (!p.earlier.empty()) {
            std::vector<std::string> lines;
            for (auto j : p.earlier) lines.push_back(std::to_string(m.rules[j].line_number));
            message += "; earlier line(s) " + join_limited(lines) + " take part of these connections first";
        }
        found.push_back(make(check, loopback ? Severity::Info : Severity::Critical, hba::rule_object(r), message,
                             "Change the line to hostssl, or put a \"hostnossl ... reject\" line for these "
                             "addresses before it; tls_audit.plaintext_paths() lists every such path "
                             "(https://www.postgresql.org/docs/current/auth-pg-hba-conf.html)."));
    }
    return or_ok(std::move(found), check,
                 "no pg_hba.conf line admits TCP connections without encryption (" +
                     plural(static_cast<std::int64_t>(m.rules.size()), "line") + " checked in first-match order)");
}

std::vector<Finding> check_hba_shadowed_line(const hba::Matrix &m) {
    constexpr std::string_view check = "hba_shadowed_line";
    std::vector<Finding> found;
    for (std::size_t i = 0; i < m.rules.size(); ++i) {
        const auto by = hba::shadowed_by(m.rules, i, m.env);
        if (!by) continue;
        const hba::Rule &r = m.rules[i], &a = m.rules[*by];
        found.push_back(make(check, Severity::Warning, hba::rule_object(r),
                             "\"" + hba::rule_text(r) + "\" can never match: " + hba::rule_object(a) + " (\"" +
                                 hba::rule_text(a) + "\") comes first and matches every connection it could match",
                             "pg_hba.conf uses the first matching line: move the line before " +
                                 hba::rule_object(a) + " if it was meant to apply, or remove it."));
    }
    return or_ok(std::move(found), check, "every pg_hba.conf line can match some connection not taken by an earlier one");
}

std::vector<Finding> check_md5_passwords(const std::vector<std::string> &md5_roles) {
    constexpr std::string_view check = "md5_passwords";
    if (md5_roles.empty()) return ok(check, "no role has an MD5 password hash");
    return {make(check, Severity::Warning, "pg_authid",
                 plural(static_cast<std::int64_t>(md5_roles.size()), "role") +
                     " with an MD5 password hash: " + join_limited(md5_roles),
                 "With password_encryption = 'scram-sha-256', have each role set its password again "
                 "(\\password in psql), then use scram-sha-256 in pg_hba.conf.")};
}

std::vector<Finding> check_password_encryption(const ServerSettings &s) {
    constexpr std::string_view check = "password_encryption";
    if (lower(s.password_encryption) == "scram-sha-256") return ok(check, "password_encryption is scram-sha-256");
    return {make(check, Severity::Warning, "password_encryption",
                 "password_encryption = '" + s.password_encryption +
                     "': new and changed passwords are stored as MD5 hashes" +
                     (s.md5_deprecated ? " (MD5 passwords are deprecated since PostgreSQL 18)" : ""),
                 "Set password_encryption = 'scram-sha-256' and reload "
                 "(https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-PASSWORD-ENCRYPTION); "
                 "then have each md5 role set its password again.")};
}

}  // namespace tls_audit
