// tls_audit.poolers: the pgbouncer admin consoles the extension audits.
//
//   tls_audit.poolers = 'edge=host=10.0.0.5 port=6432 dbname=pgbouncer user=tls_audit_monitor;
//                        batch=host=/run/pgbouncer port=6433 dbname=pgbouncer'
//
// A list of NAME=CONNINFO entries separated by ';'. NAME is what every row and
// finding about that pooler is labelled with (lower-case letters, digits and
// '_', at most 63 characters, unique); CONNINFO is a libpq connection string
// (keyword=value pairs; a ';' inside a single-quoted value does not end the
// entry). This file splits and names the entries; the glue has libpq parse
// each CONNINFO (PQconninfoParse) and refuses the whole value when one does
// not parse. Errors never echo a connection string: it may hold a password.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

TLS_AUDIT_AREA(pooler);

namespace tls_audit {

struct PoolerEntry {
    std::string name;
    std::string conninfo;  // as written, surrounding blanks removed; never shown
};

// Limits that keep one run_checks() bounded (each pooler costs up to three
// connection timeouts).
inline constexpr std::size_t kMaxPoolers = 16;
inline constexpr std::size_t kMaxPoolersSettingLength = 8192;

// The entries, in order; empty for an empty (or blank) value. An Error
// (22023) names the entry (its position, and its name when it has one) and
// what is wrong.
Expected<std::vector<PoolerEntry>> parse_poolers_setting(std::string_view value);

// Where the certificate a pooler serves its clients is probed (STARTTLS at
// the host and port of its admin console: pgbouncer serves one certificate on
// its port) and how a client of the pooler would check it.
struct PoolerCertTarget {
    std::string address;  // connected to: the first hostaddr, else the first host
    std::string name;     // sent as SNI and matched (libpq matches host, not
                          // hostaddr); empty: the address
    int port = 5432;
    std::string ca_file;  // sslrootcert; empty: the system store (also for sslrootcert=system)
};

// The target from the keywords of the admin console's connection string (as
// libpq parsed it, (keyword, value) pairs; unset keywords absent or empty).
// An Error (22023) for a unix socket (nothing to probe), no host at all, or a
// port libpq would refuse; it never quotes the connection string.
Expected<PoolerCertTarget> pooler_cert_target(const std::vector<std::pair<std::string, std::string>> &options);

}  // namespace tls_audit
