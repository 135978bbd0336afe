// What the SQL probe functions share: reading and checking the target
// arguments (allow-list, file privileges) and servicing an interrupt after a
// probe stopped for it. Defined in probe.cpp.
#pragma once

#include "probe.hpp"

#include "postgres.hpp"

namespace tls_audit::pg_probe {

// The target from (host, port, sni, timeout_ms[, ca_file]), checked against
// tls_audit.probe_allowed_hosts and the caller's right to read server files.
// Throws CoreError (inside guarded()). sni, timeout_ms and ca_file are the
// arguments sni_arg, sni_arg + 1 and sni_arg + 2.
ProbeTarget read_target(FunctionCallInfo fcinfo, bool with_ca_file, int sni_arg = 2);

// tls_audit.probe_allowed_hosts for (host, port): refuses every target when
// the setting's start value was refused. Throws CoreError.
void check_target_allowed(const std::string &host, int port);

bool is_cancel(const Error &e);

// After a probe stopped for an interrupt: let PostgreSQL service it (cancel,
// statement_timeout, termination) with its own message. Call outside guarded().
void service_interrupt();

}  // namespace tls_audit::pg_probe
