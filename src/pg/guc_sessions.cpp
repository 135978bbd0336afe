// tls_audit.min_protocol: sighup, an enum of the TLS protocol names. Sessions
// below it (and TCP sessions without TLS) show below_floor = true; a role's
// own floor (tls_audit.role_min_protocol, guc_role_floor.cpp) overrides it.
#include "guc_sessions.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

// tls_audit.min_protocol, as Protocol values.
int min_protocol_setting = static_cast<int>(Protocol::TLSv1_2);
const struct config_enum_entry min_protocol_options[] = {
    {"TLSv1", static_cast<int>(Protocol::TLSv1), false},
    {"TLSv1.1", static_cast<int>(Protocol::TLSv1_1), false},
    {"TLSv1.2", static_cast<int>(Protocol::TLSv1_2), false},
    {"TLSv1.3", static_cast<int>(Protocol::TLSv1_3), false},
    {nullptr, 0, false},
};

}  // namespace

Protocol min_protocol() { return static_cast<Protocol>(min_protocol_setting); }

void init_sessions_gucs() {
    DefineCustomEnumVariable("tls_audit.min_protocol",
                             "Oldest TLS protocol version tls_audit.sessions accepts without flagging.",
                             "Sessions using an older protocol, and TCP sessions without TLS, show "
                             "below_floor = true. Valid values: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3.",
                             &min_protocol_setting, static_cast<int>(Protocol::TLSv1_2), min_protocol_options,
                             PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
}

}  // namespace tls_audit::pg
