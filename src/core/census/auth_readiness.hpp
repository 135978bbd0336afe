// Authentication readiness from the connection census: which clients
// authenticated with something weaker than a target method (trust over TCP,
// password, md5 below scram-sha-256). The aggregation behind
// tls_audit.auth_readiness() and the check weak_auth_in_use; the glue chooses the entries (visibility,
// time window) and turns the results into rows.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "access/auth_method.hpp"
#include "census/census_file.hpp"

TLS_AUDIT_AREA(census);

namespace tls_audit {

// One client, method and reason: authenticated entries that differ only in
// transport details, protocol, cipher, hba line or client subject are added up.
struct AuthReadinessRow {
    std::string usename, datname, client_addr, application_name, auth_method, reason;
    std::int64_t connections = 0;
    std::int64_t last_seen = 0;  // the latest last_seen of the entries added up
};

// The authenticated entries of `records` whose method is weaker than
// `target` (auth_weakness()), grouped, most connections first (ties in
// (usename, datname, client_addr, application_name, auth_method) order).
std::vector<AuthReadinessRow> auth_readiness(const std::vector<const CensusRecord *> &records, AuthMethod target);


}  // namespace tls_audit
