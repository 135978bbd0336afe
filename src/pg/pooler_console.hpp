// A pgbouncer admin console, reached with the server's libpq: connect, send
// one SHOW, read its answer; bounded by tls_audit.pooler_timeout, waiting on
// the backend's latch with the TlsAuditPooler wait event (cancel and
// termination end the wait at once).
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "pooler/pooler_connections.hpp"

namespace tls_audit::pg {

// Connect to `conninfo` and run each of `commands` (simple-query SHOW
// commands), answers in order. An Error (08001/08006/57014 timeout) says why
// the pooler could not be read; libpq's messages are shown without the
// connection string. A cancel or termination of the backend throws
// CoreError 57014 (the caller must not take it for an unreachable pooler).
Expected<std::vector<ConsoleAnswer>> read_console(const std::string &conninfo,
                                                  const std::vector<const char *> &commands);


}  // namespace tls_audit::pg
