// What the connection string of a pgbouncer admin console says beyond how
// libpq connects with it: whether it holds a password (a finding; the value is
// never shown) and where the pooler's certificate is probed (pgbouncer serves
// one certificate on its listening port, so the host and port of the admin
// console are where its clients meet it). The caller has libpq parse the
// string (PQconninfoParse, or PQconninfo of a live connection) into
// ConnOptions (access/outbound.hpp); nothing here resolves names or reads
// files.
#pragma once

#include "base/pure_cpp.hpp"

#include <string>

#include "access/outbound.hpp"
#include "base/error.hpp"

TLS_AUDIT_AREA(pooler);

namespace tls_audit {

// A password keyword with a non-empty value.
bool pooler_conninfo_has_password(const ConnOptions &options);

struct PoolerAddress {
    std::string host;  // hostaddr when set, else host: the first of a list, as libpq tries it first
    int port = 5432;   // the first port of a list; libpq's default when unset
};

// Where the pooler's certificate is probed over STARTTLS. An Error (22023)
// when the console is reached over a unix socket (nothing to probe there; no
// host at all is libpq's default socket), or when the port is not a number
// from 1 to 65535.
Expected<PoolerAddress> pooler_probe_address(const ConnOptions &options);

}  // namespace tls_audit
