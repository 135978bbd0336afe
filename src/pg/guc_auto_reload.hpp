// tls_audit.auto_reload and tls_audit.auto_reload_interval (guc_auto_reload.cpp).
#pragma once

#include "certs/auto_reload.hpp"

namespace tls_audit::pg {

void init_auto_reload_gucs();
AutoReloadMode auto_reload_mode();
int auto_reload_interval_seconds();

}  // namespace tls_audit::pg
