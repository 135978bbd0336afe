// The rows of a pgbouncer admin console's SHOW CLIENTS / SHOW SERVERS, as the
// glue received them (column names and text values), turned into one
// PoolerConnection each. Columns are found by name, so the versions that
// add columns (replication in 1.21, prepared_statements and id in 1.21+)
// read the same; a row whose tls column is not pgbouncer's format keeps its
// other facts and says why its TLS is unknown.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "pooler/pooler_tls.hpp"

TLS_AUDIT_AREA(pooler);

namespace tls_audit {

struct PoolerConnection {
    std::string user;
    std::string database;
    std::string state;            // active, idle, waiting, used, ...
    std::string addr;             // the remote address as pgbouncer prints it ("unix" for a socket)
    std::optional<std::string> address;  // addr when it is a numeric IP address (inet), else nullopt
    std::optional<int> port;
    std::string connect_time;     // as pgbouncer prints it (its local time zone)
    std::string ptr;              // pgbouncer's socket pointer: with connect_time, identifies the connection
    std::string id;               // pgbouncer 1.21+: a number unique to the connection; empty before
    std::string application_name;
    std::string tls_column;       // the raw value
    std::optional<PoolerTls> tls; // nullopt: plaintext (or unknown, see tls_error)
    std::string tls_error;        // set when the tls column could not be read
    // "tls", "tcp" (TCP without TLS), "unix": sessions' transport names.
    std::string transport;
};

using PoolerCell = std::optional<std::string>;  // nullopt: SQL NULL

// One SHOW command's answer from the admin console: the column names and the
// rows. One type for every reader (the extension's and pg_tls_check's, both
// through src/libpq/pq_console.hpp), so an answer is handed on, never copied
// from one reader's shape into another's.
struct ConsoleAnswer {
    std::vector<std::string> columns;
    std::vector<std::vector<PoolerCell>> rows;
};

// Rows beyond this are refused, bounding what one call holds in memory.
inline constexpr std::size_t kMaxPoolerRows = 100000;

// An Error when a column every pgbouncer since 1.18 has (type, user,
// database, addr, port, tls) is missing, or there are too many rows.
Expected<std::vector<PoolerConnection>> pooler_connections(const std::vector<std::string> &columns,
                                                           const std::vector<std::vector<PoolerCell>> &rows);

// `addr` when it is a numeric IPv4 or IPv6 address.
std::optional<std::string> numeric_address(const std::string &addr);

}  // namespace tls_audit
