// The TLS state of the server's own replication links, recorded by the
// process that makes them (see hook_outbound.cpp).
#pragma once

#include <optional>
#include <string>

#include "postgres.hpp"

namespace tls_audit::pg {

// What the walreceiver, a logical replication worker or the slot
// synchronization worker recorded when its TLS handshake ended; `ssl` is
// false again once libpq freed that connection.
struct OutboundLive {
    bool ssl = false;
    std::string protocol;  // e.g. TLSv1.3; empty without TLS
    std::string cipher;
    int bits = 0;
    TimestampTz connected_at = 0;
};

// True when the recording is active (the library was preloaded).
bool outbound_live_active();

// The latest connection recorded by process `pid`, or nullopt.
std::optional<OutboundLive> outbound_live(int pid);

}  // namespace tls_audit::pg
