// Post-quantum readiness from the connection census: which clients used a
// hybrid post-quantum key exchange (ML-KEM, e.g. X25519MLKEM768) and which did
// not, and why not. The aggregation behind tls_audit.pq_readiness() and its
// summary; shaped like floor_readiness() (census_readiness.hpp). The glue
// only chooses the entries (visibility, time window) and makes the rows.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "census/census_file.hpp"

TLS_AUDIT_AREA(census);

namespace tls_audit {

// Why an authenticated connection did not use a hybrid group, nullopt when
// it did. A TLS 1.2 client never can (hybrid groups are TLS 1.3 key shares).
std::optional<std::string> pq_reason(const CensusKey &key);

// One client, protocol and group: entries that differ only in other fields
// are added up.
struct PqReadinessRow {
    std::string usename, datname, client_addr, application_name, protocol;
    std::string key_exchange_group;  // OpenSSL's name; "" when unknown
    bool hybrid = false;
    std::string reason;              // "" when hybrid
    std::int64_t connections = 0;
    std::int64_t last_seen = 0;
};

// Every authenticated connection of `records`, hybrid or not, grouped; not
// ready first, then most connections first (ties keep the order of their
// fields). Unauthenticated attempts give no row.
std::vector<PqReadinessRow> pq_readiness(const std::vector<const CensusRecord *> &records);

struct PqReadinessSummary {
    std::int64_t total = 0;             // authenticated connections
    std::int64_t hybrid = 0;            // of those, with a hybrid group
    std::optional<double> hybrid_share;  // hybrid / total; nullopt when total is 0
    std::int64_t tls12 = 0;             // over TLS 1.2 or older: can never be hybrid
    std::int64_t no_tls = 0;            // without TLS (unix socket, plaintext TCP, GSS)
    std::int64_t unknown = 0;           // TLS with no recorded group (entries from before 1.2)
    std::int64_t clients_not_ready = 0;  // distinct (usename, datname, client_addr, application_name)
};

PqReadinessSummary pq_readiness_summary(const std::vector<const CensusRecord *> &records);

}  // namespace tls_audit
