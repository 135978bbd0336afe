// Settings of the remote probe, read by src/pg/sql_probe.cpp.
#pragma once

namespace tls_audit::pg {

// Current value of tls_audit.probe_allowed_hosts (never null).
const char *probe_allowed_hosts();

// True while the value the configuration files gave tls_audit.probe_allowed_hosts
// when the library was loaded could not be applied and no valid value from the
// files replaced it since: then no host may be probed (fail closed).
bool probe_allowed_hosts_refused();

}  // namespace tls_audit::pg
