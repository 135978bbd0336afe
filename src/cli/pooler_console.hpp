// pg_tls_check --pooler: a pgbouncer admin console read with libpq from the
// outside. The only file of the tool that uses libpq; what the answers mean
// is the core's (src/core/pooler/), what is judged is the core's checks.
#pragma once

#include <string>
#include <vector>

#include "access/outbound.hpp"
#include "base/error.hpp"
#include "pooler/pooler_connections.hpp"
#include "pooler/pooler_setting.hpp"

namespace tls_audit::cli {

struct ConsoleRead {
    std::vector<ConsoleAnswer> answers;  // one per command, in order
    ConnOptions options;                 // host and port as libpq reached them (PQhost, PQport)
};

// The --pooler values as named entries (core parse_pooler_option, with this
// libpq's keywords). A usage error (22023) for a value libpq cannot parse
// (its message redacted: it may echo a password), for a password in the
// connection string (a command line is visible to every local user: give it
// in PGPASSWORD or a passfile), a repeated name or more than kMaxPoolers.
// Nothing of a connection string is ever shown.
Expected<std::vector<PoolerEntry>> pooler_entries(const std::vector<std::string> &values);

// Connect to the admin console and run `commands` (simple-query SHOWs) on one
// connection, within `timeout_ms` for the connection (TLS included) and again
// for each answer; never longer. An Error (08001/08006) says why the pooler
// could not be read, in libpq's words without the connection string.
// (libpq resolves a host name before the first wait: a slow DNS server can
// take longer.)
Expected<ConsoleRead> read_pooler_console(const std::string &conninfo, const std::vector<const char *> &commands,
                                          int timeout_ms);

}  // namespace tls_audit::cli
