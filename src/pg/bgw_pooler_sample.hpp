// The pooler sample worker (bgw_pooler_sample.cpp): counts the clients of
// each pooler of tls_audit.poolers into the census every
// tls_audit.pooler_sample_interval.
#pragma once

namespace tls_audit::pg {

// Called from init_pooler while preloading: registers the worker.
void register_pooler_sample_worker();

}  // namespace tls_audit::pg
