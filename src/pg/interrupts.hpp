// The probe's cancel check, as the core sees it: a plain read of the flags
// PostgreSQL's signal handlers set for a query cancel (also statement_timeout)
// and for termination. Other pending interrupts (catch-up, barriers) must not
// stop a probe, since servicing them raises no error.
//
// Made per call rather than kept as a global std::function: a global object
// with a destructor would run at every backend's exit.
#pragma once

#include "postgres.hpp"
#include "probe/probe_io.hpp"

namespace tls_audit::pg {

inline CancelCheck cancel_requested() {
    return [] { return QueryCancelPending || ProcDiePending; };
}

}  // namespace tls_audit::pg
