// Settings of the pgbouncer audit: tls_audit.poolers (the admin consoles,
// src/core/pooler/pooler_setting.hpp), tls_audit.pooler_timeout and
// tls_audit.pooler_sample_interval.
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

// tls_audit.pooler_sample_interval in seconds (0: the pooler sample worker
// does not sample).
int pooler_sample_interval_seconds();

}  // namespace tls_audit::pg
