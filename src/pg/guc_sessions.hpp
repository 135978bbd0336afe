// The sessions GUC (guc_sessions.cpp): tls_audit.min_protocol, the oldest TLS
// protocol the sessions view (below_floor) and the readiness views accept.
#pragma once

#include "base/protocol.hpp"

namespace tls_audit::pg {

// Defines the GUC; called from _PG_init with or without preloading.
void init_sessions_gucs();

// The current value of tls_audit.min_protocol (read on each call, so a reload
// applies to the next query).
Protocol min_protocol();

}  // namespace tls_audit::pg
