#include "census/census_readiness.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace tls_audit {

std::vector<ReadinessRow> floor_readiness(const std::vector<const CensusRecord *> &records, Protocol floor) {
    using Group = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string>;
    struct Sum {
        std::int64_t connections = 0;
        std::int64_t last_seen = 0;
    };
    std::map<Group, Sum> groups;
    for (const CensusRecord *r : records) {
        auto reason = readiness_reason(r->key, floor);
        if (!reason) continue;
        const CensusKey &k = r->key;
        Sum &s = groups[Group{k.usename, k.datname, k.client_addr, k.application_name, k.protocol, *reason}];
        s.connections += r->connections;
        s.last_seen = std::max(s.last_seen, r->last_seen);
    }
    std::vector<ReadinessRow> rows;
    rows.reserve(groups.size());
    for (const auto &[group, sum] : groups) {
        ReadinessRow row;
        std::tie(row.usename, row.datname, row.client_addr, row.application_name, row.protocol, row.reason) = group;
        row.connections = sum.connections;
        row.last_seen = sum.last_seen;
        rows.push_back(std::move(row));
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const ReadinessRow &a, const ReadinessRow &b) { return a.connections > b.connections; });
    return rows;
}

ReadinessSummary floor_readiness_summary(const std::vector<const CensusRecord *> &records, Protocol floor) {
    ReadinessSummary s;
    std::set<std::tuple<std::string, std::string, std::string, std::string>> not_ready;
    for (const CensusRecord *r : records) {
        const CensusKey &k = r->key;
        const auto outcome = static_cast<Outcome>(k.outcome);
        if (outcome == Outcome::TlsRejected) {
            s.rejected += r->connections;
            continue;
        }
        if (!census_outcome_authenticated(outcome)) continue;
        s.total += r->connections;
        if (readiness_reason(k, floor))
            not_ready.emplace(k.usename, k.datname, k.client_addr, k.application_name);
        else
            s.ready += r->connections;
    }
    if (s.total > 0) s.ready_share = static_cast<double>(s.ready) / static_cast<double>(s.total);
    s.clients_not_ready = static_cast<std::int64_t>(not_ready.size());
    return s;
}

}  // namespace tls_audit
