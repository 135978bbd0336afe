// Settings of the remote probe, read by src/pg/functions/probe.cpp.
#pragma once

namespace tls_audit::pg {

// Current value of tls_audit.probe_allowed_hosts (never null).
const char *probe_allowed_hosts();

}  // namespace tls_audit::pg
