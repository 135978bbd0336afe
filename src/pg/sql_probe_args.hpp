// What the SQL probe functions share: reading and checking the target
// arguments (allow-list, file privileges) and servicing an interrupt after a
// probe stopped for it. Defined in probe.cpp.
#pragma once

#include <optional>
#include <string>

#include "base/error.hpp"
#include "probe/probe.hpp"

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

// A probe's result, or nullopt with `interrupted` set when a cancel stopped
// it (the caller returns, then calls service_interrupt() outside guarded());
// any other error is thrown as CoreError.
template <class T> std::optional<T> value_or_interrupted(Expected<T> result, bool &interrupted) {
    if (result.ok()) return std::move(result).value();
    if (is_cancel(result.error())) {
        interrupted = true;
        return std::nullopt;
    }
    throw CoreError(result.error());
}

// Argument `n` as a string (the caller has checked it is not NULL), and the
// error for a NULL where one is not allowed (SQLSTATE 22004).
std::string text_arg(FunctionCallInfo fcinfo, int n);
[[noreturn]] void null_argument(const char *name);

// After a probe stopped for an interrupt: let PostgreSQL service it (cancel,
// statement_timeout, termination) with its own message. Call outside guarded().
void service_interrupt();

}  // namespace tls_audit::pg_probe
