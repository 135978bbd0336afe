#include "census/role_floor_readiness.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "census/census_key.hpp"

namespace tls_audit {

std::vector<RoleReadinessRow> role_floor_readiness(const std::vector<const CensusRecord *> &records,
                                                   RoleFloorLookup lookup, void *context) {
    using Group = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string,
                             std::string>;
    struct Sum {
        std::int64_t connections = 0;
        std::int64_t last_seen = 0;
    };
    std::map<Group, Sum> groups;
    for (const CensusRecord *r : records) {
        const CensusKey &k = r->key;
        if (!census_outcome_authenticated(k.outcome) || k.transport[0] == '\0' || k.usename[0] == '\0') continue;
        // A pooler's client (source set) never meets the role floor: its TLS
        // ends at the pooler, and the floor judges the pooler's own connection.
        if (k.source[0] != '\0') continue;
        const RoleFloorEntry *entry = lookup(k.usename, context);
        const FloorDecision d = decide_role_floor(entry, k.transport, k.protocol);
        if (entry == nullptr || !floor_violated(d)) continue;
        auto reason = floor_reason(d, *entry, k.protocol);
        Sum &s = groups[Group{k.usename, k.datname, k.client_addr, k.application_name, k.protocol,
                              protocol_name(entry->floor), reason.value_or("")}];
        s.connections += r->connections;
        s.last_seen = std::max(s.last_seen, r->last_seen);
    }
    std::vector<RoleReadinessRow> rows;
    rows.reserve(groups.size());
    for (const auto &[group, sum] : groups) {
        RoleReadinessRow row;
        std::tie(row.usename, row.datname, row.client_addr, row.application_name, row.protocol, row.role_floor,
                 row.reason) = group;
        row.connections = sum.connections;
        row.last_seen = sum.last_seen;
        rows.push_back(std::move(row));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const RoleReadinessRow &a, const RoleReadinessRow &b) {
        return a.connections > b.connections;
    });
    return rows;
}

}  // namespace tls_audit
