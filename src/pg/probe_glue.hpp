// Glue shared by the probe entry points (src/pg/functions/probe*.cpp),
// defined in src/pg/functions/probe.cpp.
#pragma once

#include "error.hpp"
#include "probe.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

// The target from the arguments (host, port, sni, timeout_ms[, ca_file]):
// NULL checks, validate_target(), the ca_file privilege, and
// tls_audit.probe_allowed_hosts. Throws CoreError.
ProbeTarget read_target(FunctionCallInfo fcinfo, bool with_ca_file);

// Whether a probe's Error is a cancel (then call service_interrupt() once
// every C++ frame is gone).
bool is_cancel(const Error &e);

// After a probe stopped for an interrupt: let PostgreSQL service it (cancel,
// statement_timeout, termination) with its own message.
void service_interrupt();

}  // namespace tls_audit::pg
