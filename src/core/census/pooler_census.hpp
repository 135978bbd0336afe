// The census of a pooler's clients: what the pooler sample worker
// (src/pg/bgw_pooler_sample.cpp) makes of one SHOW CLIENTS.
//
// pgbouncer ends its clients' TLS itself, so the server's own census sees
// only pgbouncer's connections. The worker reads each pooler's SHOW CLIENTS
// every tls_audit.pooler_sample_interval and counts each client connection
// once: a connection is identified by pgbouncer's ptr (the address of its
// socket structure, reused after the client leaves) together with its
// connect_time (whole seconds), so a connection held across many samples
// counts once, and a new connection (even in a reused ptr) counts again.
//
// The seen set of a pooler holds the connections of its last successful
// sample and nothing else: a connection that was not listed in the last
// sample has closed, and a closed connection never comes back. Its size is
// therefore bounded by the rows one sample may have (kMaxPoolerRows, the
// reader refuses more); a sample that fails changes nothing, so the
// connections still open when the pooler answers again are not counted twice.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

#include "census/census_key.hpp"
#include "pooler/pooler_connections.hpp"

TLS_AUDIT_AREA(census);

namespace tls_audit {

// The database of pgbouncer's admin console: its clients (the extension's
// own reads of SHOW CLIENTS among them) are not clients of the server.
inline constexpr char kPoolerAdminDatabase[] = "pgbouncer";

// Should this SHOW CLIENTS row be counted? Not the admin console's clients,
// not a connection whose TLS handshake has not finished ("-/-": counted by a
// later sample, once it has), not one whose tls column could not be read
// (pooler_clients() shows its error), and not one without a ptr (no identity).
bool pooler_client_countable(const PoolerConnection &c);

// The census key of a counted pooler client: authenticated (pgbouncer lists
// clients that logged in to it), its user, database, numeric address,
// application name, transport, and the protocol, cipher and key-exchange
// group parsed from the tls column; `source` is the pooler's name. The
// authentication method, pg_hba line, certificate verification, extended
// master secret and ALPN are unknown (pgbouncer does not show them).
void pooler_census_key(const PoolerConnection &c, const std::string &source, CensusKey &key) noexcept;

// The identity of one pooler client connection: ptr, connect_time and id.
std::string pooler_connection_identity(const PoolerConnection &c);

// The connections of one pooler counted so far (see the top of the file).
class PoolerSeenSet {
public:
    // The rows of one successful sample: the countable ones not seen in the
    // previous sample, in order (each to be counted once). Afterwards the set
    // holds exactly the identities of this sample's countable rows.
    std::vector<const PoolerConnection *> new_connections(const std::vector<PoolerConnection> &sample);

    std::size_t size() const noexcept { return seen_.size(); }
    // Forget everything (the census was reset, or the pooler left the setting).
    void clear() noexcept { seen_.clear(); }

private:
    std::unordered_set<std::string> seen_;
};

}  // namespace tls_audit
