// The poolers of tls_audit.poolers as run_checks() sees them.
#pragma once

#include <vector>

#include "checks/checks.hpp"

namespace tls_audit::pg {

// Each configured pooler's SHOW CONFIG, or why it could not be read (fail
// open: an unreachable pooler is a PoolerFacts with an error). Throws
// CoreError when tls_audit.poolers was refused at start, and 57014 on a
// cancel.
std::vector<PoolerFacts> gather_poolers();

}  // namespace tls_audit::pg
