// Settings of the pgbouncer audit: tls_audit.poolers (the admin consoles,
// src/core/pooler/pooler_setting.hpp) and tls_audit.pooler_timeout.
#pragma once

#include <string>
#include <vector>

#include "base/error.hpp"
#include "pooler/pooler_setting.hpp"

namespace tls_audit::pg {

// The poolers of tls_audit.poolers as in effect; an Error when the value the
// configuration files gave at start was refused (fail closed: the empty
// default must not read as "no pooler to audit").
Expected<std::vector<PoolerEntry>> configured_poolers();

// tls_audit.pooler_timeout in milliseconds: the bound on connecting to one
// pooler and on each of its answers.
int pooler_timeout_ms();

}  // namespace tls_audit::pg
