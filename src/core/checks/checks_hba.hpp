// Checks of pg_hba.conf lines (rows of pg_hba_file_rules) and of how
// passwords are stored (password_encryption, MD5 hashes in pg_authid).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checks/checks_protocols.hpp"
#include "checks/finding.hpp"
#include "access/hba_match.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// pg_hba.conf (rows of pg_hba_file_rules) and passwords

struct HbaRule {
    int line_number = 0;
    std::string type;         // local, host, hostssl, hostnossl, hostgssenc, hostnogssenc
    std::string database;     // as pg_hba_file_rules prints the array, e.g. {all}
    std::string user_name;
    std::string address;      // IP, host name, all, samehost, samenet; empty for local
    std::string netmask;
    std::string auth_method;  // trust, md5, scram-sha-256, reject, ...
    std::string error;        // non-empty for a line PostgreSQL could not parse
};

// True for an address/netmask pair that only covers loopback addresses.
bool is_loopback_rule(const HbaRule &rule);

std::vector<Finding> check_hba_hostnossl(const std::vector<HbaRule> &rules);
std::vector<Finding> check_hba_host_without_ssl(const std::vector<HbaRule> &rules, bool ssl);
std::vector<Finding> check_hba_weak_auth(const std::vector<HbaRule> &rules);

// pg_hba.conf as an access matrix (hba_match.hpp), in first-match order:
// every line that admits TCP connections without encryption and that no
// earlier line takes them from; critical when its addresses are private,
// public or any, info for loopback (and samehost). These refine
// hba_hostnossl and hba_host_without_ssl, which judge each line alone.
std::vector<Finding> check_hba_plaintext_reachable(const hba::Matrix &m);
// A warning per line that can never match because an earlier line matches
// every connection it could match.
std::vector<Finding> check_hba_shadowed_line(const hba::Matrix &m);

// password_encryption other than scram-sha-256 stores new passwords as MD5.
std::vector<Finding> check_password_encryption(const ServerSettings &s);

// Roles whose password is stored as an MD5 hash (names, sorted).
std::vector<Finding> check_md5_passwords(const std::vector<std::string> &md5_roles);

}  // namespace tls_audit
