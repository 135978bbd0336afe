#include "census/pooler_census.hpp"

namespace tls_audit {

bool pooler_client_countable(const PoolerConnection &c) {
    if (c.database == kPoolerAdminDatabase) return false;
    if (c.ptr.empty() || !c.tls_error.empty()) return false;
    if (c.tls && c.tls->protocol.empty()) return false;  // "-/-": the handshake is still running
    return true;
}

std::string pooler_connection_identity(const PoolerConnection &c) {
    // A NUL cannot occur in these texts (libpq's values are C strings).
    std::string id = c.ptr;
    id += '\0';
    id += c.connect_time;
    id += '\0';
    id += c.id;
    return id;
}

void pooler_census_key(const PoolerConnection &c, const std::string &source, CensusKey &key) noexcept {
    CensusKeyFields f;
    f.usename = c.user.c_str();
    f.datname = c.database.c_str();
    f.client_addr = c.address ? c.address->c_str() : "";
    f.application_name = c.application_name.c_str();
    f.transport = c.transport.c_str();
    if (c.tls) {
        f.protocol = c.tls->protocol.c_str();
        f.cipher = c.tls->cipher.c_str();
        f.key_exchange_group = census_group(c.tls->key_exchange_group);
    }
    f.outcome = Outcome::Authenticated;
    f.source = source.c_str();
    make_census_key(key, f);
}

std::vector<const PoolerConnection *> PoolerSeenSet::new_connections(const std::vector<PoolerConnection> &sample) {
    std::unordered_set<std::string> now;
    now.reserve(sample.size());
    std::vector<const PoolerConnection *> fresh;
    for (const PoolerConnection &c : sample) {
        if (!pooler_client_countable(c)) continue;
        std::string id = pooler_connection_identity(c);
        if (seen_.count(id) == 0 && now.count(id) == 0) fresh.push_back(&c);
        now.insert(std::move(id));
    }
    seen_.swap(now);
    return fresh;
}

}  // namespace tls_audit
