// Floor readiness from the connection census: which clients would be refused
// if ssl_min_protocol_version were raised to a floor, and how many
// connections are ready. The aggregation behind tls_audit.floor_readiness()
// and tls_audit.floor_readiness_summary(); the glue only chooses the entries
// (visibility, time window) and turns the results into rows.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "census/census_file.hpp"
#include "base/protocol.hpp"

TLS_AUDIT_AREA(census);

namespace tls_audit {

// One client and reason: entries that differ only in cipher, transport
// details, client subject or ALPN are added up.
struct ReadinessRow {
    std::string usename, datname, client_addr, application_name, protocol, reason;
    std::int64_t connections = 0;
    std::int64_t last_seen = 0;  // the latest last_seen of the entries added up
};

// The rows for `floor` from `records` (the entries the caller may see, already
// limited in time), most connections first; rows with equal connections keep
// the order of their (usename, datname, client_addr, application_name,
// protocol, reason). Entries that are ready (see readiness_reason()) give no row.
std::vector<ReadinessRow> floor_readiness(const std::vector<const CensusRecord *> &records, Protocol floor);

struct ReadinessSummary {
    std::int64_t total = 0;              // authenticated connections
    std::int64_t ready = 0;              // of those, ready for the floor
    std::optional<double> ready_share;   // ready / total; nullopt when total is 0
    std::int64_t clients_not_ready = 0;  // distinct (usename, datname, client_addr, application_name) not ready
    std::int64_t rejected = 0;           // tls_rejected connections (not in total)
};

// The summary for `floor` over `records`; auth_failed entries count nowhere.
ReadinessSummary floor_readiness_summary(const std::vector<const CensusRecord *> &records, Protocol floor);

}  // namespace tls_audit
