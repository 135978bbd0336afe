// How a connection authenticated (method, pg_hba.conf line, client
// certificate verification, extended master secret), read from the Port at
// ClientAuthentication_hook time for the session registry and the census.
#pragma once

#include "access/auth_method.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

// The facts of `port` after authentication ended with `status`. Fail-open:
// never raises; a fact it cannot establish stays unknown. The strings point
// into the Port's own memory (valid for the backend's life).
SessionAuth session_auth(Port *port, int status) noexcept;

}  // namespace tls_audit::pg
