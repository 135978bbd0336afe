// Checks of the pgbouncer poolers named in tls_audit.poolers: each pooler's
// two legs (client -> pooler, pooler -> server) as its SHOW CONFIG states
// them, the connection string the extension reaches it with, and whether it
// could be reached at all. Protocols and ciphers are judged with the rules
// the server's own settings are judged with (checks_protocols.hpp).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <vector>

#include "base/protocol.hpp"
#include "checks/finding.hpp"
#include "pooler/pooler_config.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// client_tls_sslmode: critical for disable and allow (clients reach the
// pooler in plaintext), warning for prefer (a client may still be sent
// plaintext); ok for require, verify-ca, verify-full.
std::vector<Finding> check_pooler_client_tls(const std::vector<PoolerFacts> &poolers);

// server_tls_sslmode below verify-full: warning, the pooler does not verify
// the database it forwards the clients' credentials and queries to.
std::vector<Finding> check_pooler_server_tls(const std::vector<PoolerFacts> &poolers);

// *_tls_protocols of each leg in use (sslmode not disable): critical when
// TLSv1 or TLSv1.1 is allowed (RFC 8996), warning when the oldest allowed is
// below `floor` (tls_audit.min_protocol) or TLSv1.3 is not allowed; a value
// pgbouncer would refuse is a warning.
std::vector<Finding> check_pooler_protocols(const std::vector<PoolerFacts> &poolers, Protocol floor);

// *_tls_ciphers of each leg in use: the suites OpenSSL (in this process)
// enables for the value within the leg's protocols, judged as weak_ciphers
// judges ssl_ciphers; object "NAME client_tls_ciphers: KEYWORD".
std::vector<Finding> check_pooler_ciphers(const std::vector<PoolerFacts> &poolers);

// The certificate chain each pooler serves its clients (the leaf and its
// intermediates as presented), judged with the expiry windows of the server's
// own certificate: critical when expired or within the critical window,
// warning within the warning window; info when it could not be probed; ok
// for a pooler whose client leg is plaintext.
std::vector<Finding> check_pooler_cert_expiry(const std::vector<PoolerFacts> &poolers, const Thresholds &t,
                                              std::int64_t now);

// A password in the connection string of tls_audit.poolers: critical (the
// setting is readable by every superuser and lands in configuration files
// and their backups; use a passfile). The password is never shown.
std::vector<Finding> check_pooler_password_in_conninfo(const std::vector<PoolerFacts> &poolers);

// A pooler whose admin console could not be read: warning naming the
// pooler and why (libpq's message), since its clients go unaudited.
std::vector<Finding> check_pooler_unreachable(const std::vector<PoolerFacts> &poolers);

// Every pooler check above, in the order of check_names(): what run_checks()
// and pg_tls_check --pooler both report.
std::vector<Finding> check_poolers(const std::vector<PoolerFacts> &poolers, Protocol floor, const Thresholds &t,
                                   std::int64_t now);

}  // namespace tls_audit
