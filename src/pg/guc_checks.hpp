// GUCs of the checks area: certificate expiry windows and how long
// tls_audit.check_history keeps its rows.
#pragma once

namespace tls_audit::pg {

// tls_audit.expiry_warning_days / expiry_critical_days (current values).
int expiry_warning_days();
int expiry_critical_days();
// tls_audit.history_retention_days (0 keeps history forever).
int history_retention_days();

}  // namespace tls_audit::pg
