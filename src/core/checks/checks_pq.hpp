// The post-quantum key exchange check: does the server offer a hybrid ML-KEM
// group (X25519MLKEM768 and the like), which protects a session's traffic
// against "harvest now, decrypt later"? OpenSSL 3.5 offers such a group by
// default, but PostgreSQL's own group setting overrides OpenSSL's default:
// up to 17 ssl_ecdh_curve names one classic curve, and 18's ssl_groups
// defaults to X25519:prime256v1.
#pragma once

#include "base/pure_cpp.hpp"

#include <string>
#include <vector>

#include "checks/finding.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// What the glue learns from the running server.
struct PqKeyExchangeFacts {
    int server_version_num = 0;     // PostgreSQL, e.g. 180001
    std::string openssl_version;    // the server's OpenSSL, "OpenSSL 3.5.1"
    bool openssl_has_hybrid = false;  // it can offer at least one hybrid group (a runtime test)
    // The groups the running server offers (OpenSSL's names, in its order),
    // read from its TLS context, not only the setting's text.
    std::vector<std::string> offered_groups;
    std::string setting_value;      // ssl_groups (18+) or ssl_ecdh_curve (up to 17), as SHOW prints it
};

// A hybrid post-quantum group name (ML-KEM combined with a classic group).
bool is_hybrid_group_name(const std::string &group);

// The line of postgresql.conf that adds X25519MLKEM768 in front of the
// current groups (18+): "ssl_groups = 'X25519MLKEM768:X25519:prime256v1'".
std::string pq_groups_setting_line(const std::string &current_value);

// info: the server offers a hybrid group (naming it); warning: its OpenSSL
// has hybrid groups but the setting keeps them out (hint: the line to set on
// 18+; up to 17: PostgreSQL 18 is needed, ssl_ecdh_curve names one curve);
// info: the server's OpenSSL cannot do it (with its version).
std::vector<Finding> check_pq_key_exchange(const PqKeyExchangeFacts &f);

}  // namespace tls_audit
