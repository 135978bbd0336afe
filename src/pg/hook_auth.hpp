// What ClientAuthentication_hook's areas know of a connection, read from the
// Port once per connection: how it authenticated (method, pg_hba.conf line,
// client certificate verification, extended master secret) for the session
// registry and the census, and what carries it (transport, TLS protocol) for
// the census and the role floor.
#pragma once

#include "access/auth_method.hpp"
#include "base/protocol.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

// The facts of `port` after authentication ended with `status`. Fail-open:
// never raises; a fact it cannot establish stays unknown. The strings point
// into the Port's own memory (valid for the backend's life).
SessionAuth session_auth(Port *port, int status) noexcept;

// What carries the connection: the Port's transport (unix socket, TCP, TLS,
// GSSAPI encryption), its name in the one vocabulary of sessions and the
// census (transport_name(): "unix", "tls", "gss", "tcp", or nullptr when the
// address is unknown) and the negotiated TLS protocol ("TLSv1.3"; nullptr
// without TLS). The strings are static or OpenSSL's own constants.
struct ConnectionTransport {
    TransportFacts facts;
    const char *name = nullptr;
    const char *protocol = nullptr;
};

// The transport of `port` (all unknown for a null Port). Fail-open: never
// raises, never allocates.
ConnectionTransport connection_transport(Port *port) noexcept;

// The facts of the connection in ClientAuthentication_hook, shared by every
// area's hook function: the dispatcher makes one per connection and the
// first area that asks for a fact computes it, so each is computed at most
// once per connection. The transport is asked by the census (every attempt)
// and the role floor (only when tls_audit.enforce_floor is not off); the
// authentication facts by the census and the session registry (on an md5
// line session_auth() costs a syscache lookup). On the dispatcher's stack:
// no allocation, no lock.
class ConnectionFacts {
public:
    ConnectionFacts(Port *port, int status) noexcept : port_(port), status_(status) {}
    const ConnectionTransport &transport() noexcept {
        if (!transport_computed_) {
            transport_ = connection_transport(port_);
            transport_computed_ = true;
        }
        return transport_;
    }
    const SessionAuth &auth() noexcept {
        if (!auth_computed_) {
            auth_ = session_auth(port_, status_);
            auth_computed_ = true;
        }
        return auth_;
    }

private:
    Port *port_;
    int status_;
    bool transport_computed_ = false;
    bool auth_computed_ = false;
    ConnectionTransport transport_;
    SessionAuth auth_;
};

}  // namespace tls_audit::pg
