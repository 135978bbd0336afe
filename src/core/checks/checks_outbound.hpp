// Checks of the server's outbound links (rows of tls_audit.outbound_connections):
// the sslmode of a standby's primary_conninfo, of subscriptions and of
// foreign servers; passwords stored in connection strings and user mappings;
// the root certificate a verifying link trusts.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checks/finding.hpp"
#include "access/outbound.hpp"
#include "certs/x509.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// The root certificate file of a link that verifies the server, read as the
// server's OS user (the user libpq runs as).
struct RootCertFacts {
    std::string file;                // the effective sslrootcert
    bool system = false;             // sslrootcert=system (the system's CA store; not read)
    std::string read_error;          // missing, unreadable, not a certificate; empty when read
    std::vector<CertInfo> certs;     // the certificates of the file
};

// One link as the glue gathered it.
struct OutboundLinkFacts {
    std::string kind;  // physical_replication, subscription, foreign_server, user_mapping
    std::string name;
    // The assessment, or nullopt when the options could not be read (no
    // privilege) or parsed (malformed connection string): then `error` says why.
    std::optional<LinkAssessment> link;
    std::string error;
    std::optional<RootCertFacts> root_cert;  // for links that verify the server
};

// "subscription sub1", "primary_conninfo", "foreign_server remote", ...
std::string outbound_object(const OutboundLinkFacts &l);

// critical: disable/allow/prefer (or unset) to a host that is not loopback;
// warning: require or verify-ca (no host-name check), an unknown sslmode;
// ok: verify-full, or loopback only. Links that cannot be judged: info.
std::vector<Finding> check_outbound_sslmode(const std::vector<OutboundLinkFacts> &links);

// warning: a password stored in a connection string or user mapping
// (never shown).
std::vector<Finding> check_outbound_password_in_conninfo(const std::vector<OutboundLinkFacts> &links);

// For links that verify the server: warning when sslrootcert is missing,
// unreadable or holds no certificate, or a CA expires within the window;
// critical when a CA of the file has expired (or expires within the critical
// window).
std::vector<Finding> check_outbound_root_cert(const std::vector<OutboundLinkFacts> &links, const Thresholds &t,
                                              std::int64_t now);

}  // namespace tls_audit
