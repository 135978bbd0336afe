// The certificate this server presents in TLS handshakes, captured by
// ClientAuthentication_hook into shared memory (see hook_certs_served.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "postgres.hpp"

namespace tls_audit::pg {

struct ServedCapture {
    // PgReloadTime of the capturing backend: the postmaster's last
    // configuration reload before that backend was forked, i.e. the reload
    // whose SSL context it used.
    TimestampTz reload_time = 0;
    TimestampTz captured_at = 0;
    std::vector<std::string> der;  // DER certificates, [0] = leaf, then the configured chain
    bool truncated = false;        // more chain certificates than fit
};

// The newest capture, or nullopt when none was made (or not preloaded).
std::optional<ServedCapture> latest_served_capture();

}  // namespace tls_audit::pg
