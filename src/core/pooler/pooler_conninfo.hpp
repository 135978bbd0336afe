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

// Where the certificate a pooler serves its clients is probed (STARTTLS at
// the host and port of its admin console) and how a client of the pooler
// would check it.
struct PoolerCertTarget {
    std::string address;  // connected to: the first hostaddr, else the first host
    std::string name;     // sent as SNI and matched (libpq matches host, not
                          // hostaddr); empty: the address
    int port = 5432;      // the first port of a list; libpq's default when unset
    std::string ca_file;  // sslrootcert; empty: the system store (also for sslrootcert=system)
};

// An Error (22023) when the console is reached over a unix socket (nothing to
// probe there; no host at all is libpq's default socket), or when the port is
// not a number from 1 to 65535; it never quotes the connection string.
Expected<PoolerCertTarget> pooler_cert_target(const ConnOptions &options);

}  // namespace tls_audit
