#include "census/auth_readiness.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "census/census_key.hpp"

namespace tls_audit {

namespace {
struct Sum {
    std::int64_t connections = 0;
    std::int64_t last_seen = 0;
    void add(const CensusRecord &r) {
        connections += r.connections;
        last_seen = std::max(last_seen, r.last_seen);
    }
};
using Group = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string>;
}  // namespace

std::vector<AuthReadinessRow> auth_readiness(const std::vector<const CensusRecord *> &records, AuthMethod target) {
    std::map<Group, Sum> groups;
    for (const CensusRecord *r : records) {
        const CensusKey &k = r->key;
        // A login the role floor refused never reached a session: not "in use".
        if (!census_login_admitted(k)) continue;
        const auto method = static_cast<AuthMethod>(k.auth_method);
        auto reason = auth_weakness(method, k.transport, target);
        if (!reason) continue;
        groups[Group{k.usename, k.datname, k.client_addr, k.application_name, auth_method_name(method), *reason}]
            .add(*r);
    }
    std::vector<AuthReadinessRow> rows;
    rows.reserve(groups.size());
    for (const auto &[group, sum] : groups) {
        AuthReadinessRow row;
        std::tie(row.usename, row.datname, row.client_addr, row.application_name, row.auth_method, row.reason) =
            group;
        row.connections = sum.connections;
        row.last_seen = sum.last_seen;
        rows.push_back(std::move(row));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const AuthReadinessRow &a, const AuthReadinessRow &b) {
        return a.connections > b.connections;
    });
    return rows;
}

}  // namespace tls_audit
