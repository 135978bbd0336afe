// GUCs of the remote probe (tls_audit.probe*()).
#include "module.hpp"
#include "probe_settings.hpp"
#include "target_policy.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {
char *allowed_hosts_setting = nullptr;

// Reject a malformed list when it is set, not when a probe runs.
bool check_allowed_hosts(char **newval, void **extra, GucSource source) {
    (void)extra;
    (void)source;
    bool ok = false;
    char message[256] = "";
    try {
        auto parsed = parse_allowed_hosts(*newval != nullptr ? *newval : "");
        ok = parsed.ok();
        if (!ok) strlcpy(message, parsed.error().message.c_str(), sizeof message);
    } catch (...) {
        strlcpy(message, "could not parse the list", sizeof message);
    }
    if (!ok) GUC_check_errdetail("%s", message);
    return ok;
}
}  // namespace

const char *probe_allowed_hosts() { return allowed_hosts_setting != nullptr ? allowed_hosts_setting : ""; }

void init_probe() {
    DefineCustomStringVariable(
        "tls_audit.probe_allowed_hosts",
        "Hosts that tls_audit.probe() and tls_audit.probe_certificates() may connect to.",
        "Comma-separated host names, IP addresses or *.domain wildcards, matched against the "
        "host argument as written. Empty allows any host.",
        &allowed_hosts_setting, "", PGC_SUSET, 0, check_allowed_hosts, nullptr, nullptr);
}

}  // namespace tls_audit::pg
