#include "census/pq_readiness.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

namespace tls_audit {

namespace {

bool is_tls(const CensusKey &k) { return std::strcmp(k.transport, "tls") == 0; }

// TLS 1.2 and older: "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3".
bool before_tls13(const CensusKey &k) { return k.protocol[0] != '\0' && std::strcmp(k.protocol, "TLSv1.3") != 0; }

}  // namespace

std::optional<std::string> pq_reason(const CensusKey &k) {
    if (!is_tls(k)) return std::string("no TLS (") + (k.transport[0] ? k.transport : "unknown transport") + ")";
    if (census_group_hybrid(k.key_exchange_group)) return std::nullopt;
    if (before_tls13(k))
        return std::string(k.protocol) + ": hybrid post-quantum groups need TLS 1.3";
    const char *group = census_group_name(k.key_exchange_group);
    if (group == nullptr) return std::string("key-exchange group not recorded");
    return std::string("classic key exchange ") + group +
           ": the client or the server did not offer a hybrid group (OpenSSL 3.5+ on both sides)";
}

std::vector<PqReadinessRow> pq_readiness(const std::vector<const CensusRecord *> &records) {
    using Group = std::tuple<bool, std::string, std::string, std::string, std::string, std::string, std::string,
                             std::string>;  // ready, user, db, addr, app, protocol, group, reason
    struct Sum {
        std::int64_t connections = 0;
        std::int64_t last_seen = 0;
    };
    std::map<Group, Sum> groups;
    for (const CensusRecord *r : records) {
        const CensusKey &k = r->key;
        if (!census_outcome_authenticated(k.outcome)) continue;
        auto reason = pq_reason(k);
        const char *group = census_group_name(k.key_exchange_group);
        Sum &s = groups[Group{!reason.has_value(), k.usename, k.datname, k.client_addr, k.application_name,
                              k.protocol, group != nullptr ? group : "", reason.value_or("")}];
        s.connections += r->connections;
        s.last_seen = std::max(s.last_seen, r->last_seen);
    }
    std::vector<PqReadinessRow> rows;
    rows.reserve(groups.size());
    for (const auto &[group, sum] : groups) {
        PqReadinessRow row;
        std::tie(row.hybrid, row.usename, row.datname, row.client_addr, row.application_name, row.protocol,
                 row.key_exchange_group, row.reason) = group;
        row.connections = sum.connections;
        row.last_seen = sum.last_seen;
        rows.push_back(std::move(row));
    }
    // The map puts not-ready (false) first; within each, most connections first.
    std::stable_sort(rows.begin(), rows.end(), [](const PqReadinessRow &a, const PqReadinessRow &b) {
        if (a.hybrid != b.hybrid) return !a.hybrid;
        return a.connections > b.connections;
    });
    return rows;
}

PqReadinessSummary pq_readiness_summary(const std::vector<const CensusRecord *> &records) {
    PqReadinessSummary s;
    std::set<std::tuple<std::string, std::string, std::string, std::string>> not_ready;
    for (const CensusRecord *r : records) {
        const CensusKey &k = r->key;
        if (!census_outcome_authenticated(k.outcome)) continue;
        s.total += r->connections;
        if (census_group_hybrid(k.key_exchange_group) && is_tls(k)) {
            s.hybrid += r->connections;
            continue;
        }
        not_ready.emplace(k.usename, k.datname, k.client_addr, k.application_name);
        if (!is_tls(k)) s.no_tls += r->connections;
        else if (before_tls13(k)) s.tls12 += r->connections;
        else if (k.key_exchange_group == 0) s.unknown += r->connections;
    }
    if (s.total > 0) s.hybrid_share = static_cast<double>(s.hybrid) / static_cast<double>(s.total);
    s.clients_not_ready = static_cast<std::int64_t>(not_ready.size());
    return s;
}

}  // namespace tls_audit
