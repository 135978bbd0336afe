// Direct TLS probe (PostgreSQL 17+): connect and start the TLS handshake at
// once, without SSLRequest, offering ALPN "postgresql" as libpq 17's
// sslnegotiation=direct does. A 17+ server with ssl = on accepts it and
// selects that ALPN protocol (it refuses direct connections without it); a
// server before 17 reads the ClientHello as a startup packet of absurd length
// and closes the connection, which is reported as not accepted.
//
// Cancel and timeouts behave as in probe.hpp: the CancelCheck is called only
// on the calling thread.
#pragma once

#include "base/pure_cpp.hpp"

#include "base/error.hpp"
#include "probe/probe.hpp"
#include "probe/probe_io.hpp"

TLS_AUDIT_AREA(probe);

namespace tls_audit {

// The ALPN protocol PostgreSQL 17+ requires on direct TLS connections.
inline constexpr const char *kPostgresAlpn = "postgresql";

// One direct TLS attempt. A refusal (the server closed or reset the
// connection, a failed handshake, a completed handshake without ALPN
// "postgresql") is a report with accepted = false and the reason. Errors are
// what leaves the answer unknown: bad arguments (22023), cannot connect
// (08001), timeouts, cancel (57014).
Expected<DirectTlsReport> probe_direct_tls(const ProbeTarget &target, const CancelCheck &cancel = {});

// The same over an already connected socket (not closed here; made
// non-blocking), for tests and fuzzing.
Expected<DirectTlsReport> probe_direct_tls_on_fd(int fd, const ProbeTarget &target,
                                                 const CancelCheck &cancel = {});

// probe_target() and probe_direct_tls() in parallel (one more connection).
// The call fails as probe_target() does; the direct answer goes into
// report.direct_tls, an inconclusive one as its Error (cancel fails the call).
Expected<TargetReport> probe_target_with_direct_tls(const ProbeTarget &target, const CancelCheck &cancel = {});

}  // namespace tls_audit
