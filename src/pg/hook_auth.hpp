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

// The authentication facts of the connection in ClientAuthentication_hook,
// shared by every area's hook function: the dispatcher makes one per
// connection and the first area that asks computes them (the census for
// every attempt, the session registry for sessions), so session_auth() runs
// at most once per connection (on an md5 line it costs a syscache lookup).
// On the dispatcher's stack: no allocation.
class ConnectionAuth {
public:
    ConnectionAuth(Port *port, int status) noexcept : port_(port), status_(status) {}
    const SessionAuth &get() noexcept {
        if (!computed_) {
            auth_ = session_auth(port_, status_);
            computed_ = true;
        }
        return auth_;
    }

private:
    Port *port_;
    int status_;
    bool computed_ = false;
    SessionAuth auth_;
};

}  // namespace tls_audit::pg
