// GUCs of the remote probe (tls_audit.probe*()).
#include <poll.h>

#include "guard.hpp"
#include "module.hpp"
#include "probe/probe_io.hpp"
#include "guc_probe.hpp"
#include "guc_start_settings.hpp"
#include "probe/target_policy.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {
char *allowed_hosts_setting = nullptr;

// Fail closed: set when the value the files gave at load time was refused
// (the variable then holds its default, which allows any host). Cleared only
// when a value from the files is applied (a reload with a valid value, '' included),
// or at the next start: not by a session's SET, nor by the end of one. Removing the
// line is not enough (guc.c resets removed lines only when the file had set them).
bool allowed_hosts_refused = false;
bool defining = false;

// The check hook's `extra`: whether the checked value comes from the files
// (so that assigning it ends the refusal). guc.c frees it.
bool *file_marker(bool from_file) {
    bool *marker = static_cast<bool *>(compat::guc_extra_alloc(sizeof(bool)));
    if (marker != nullptr) *marker = from_file;
    return marker;
}

// Reject a malformed list when it is set, not when a probe runs.
bool check_allowed_hosts(char **newval, void **extra, GucSource source) {
    bool ok = false;
    char message[256] = "";
    try {
        auto parsed = parse_allowed_hosts(*newval != nullptr ? *newval : "");
        ok = parsed.ok();
        if (!ok) strlcpy(message, parsed.error().message.c_str(), sizeof message);
    } catch (...) {
        strlcpy(message, "could not parse the list", sizeof message);
    }
    if (!ok) {
        GUC_check_errdetail("%s", message);
        return false;
    }
    *extra = file_marker(!defining && source == PGC_S_FILE);
    return *extra != nullptr;
}

void assign_allowed_hosts(const char *newval, void *extra) {
    (void)newval;
    if (extra != nullptr && *static_cast<bool *>(extra)) allowed_hosts_refused = false;
}
// The core's wait hook for this backend's main thread: wait on the latch
// (cancel and termination signals set it), with the probe's wait event, so
// pg_stat_activity shows what a blocked probe waits for.
int latch_wait(int fd, short events, int timeout_ms) {
    int wake = WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH;
    if (fd >= 0) {
        if ((events & POLLIN) != 0) wake |= WL_SOCKET_READABLE;
        if ((events & POLLOUT) != 0) wake |= WL_SOCKET_WRITEABLE;
    }
    const int rc = call([&] {
        const uint32 event = compat::probe_wait_event();
        const int r = WaitLatchOrSocket(MyLatch, wake, fd >= 0 ? fd : PGINVALID_SOCKET, timeout_ms, event);
        if ((r & WL_LATCH_SET) != 0) ResetLatch(MyLatch);
        return r;
    });
    return (rc & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE)) != 0 ? 1 : 0;
}
}  // namespace

const char *probe_allowed_hosts() { return allowed_hosts_setting != nullptr ? allowed_hosts_setting : ""; }

bool probe_allowed_hosts_refused() { return allowed_hosts_refused; }

void init_probe() {
    defining = true;
    DefineCustomStringVariable(
        "tls_audit.probe_allowed_hosts",
        "Hosts that tls_audit.probe() and tls_audit.probe_certificates() may connect to.",
        "Comma-separated host names, IP addresses or *.domain wildcards, each with an optional "
        ":port, matched against the host and port arguments as written. Empty allows any host.",
        &allowed_hosts_setting, "", PGC_SUSET, 0, check_allowed_hosts, assign_allowed_hosts, nullptr);
    defining = false;
    allowed_hosts_refused = start_value_rejected("tls_audit.probe_allowed_hosts");
    // Each process's main thread (the postmaster's copy is inherited by every
    // backend it forks; a backend loading us later sets its own).
    set_wait_hook(latch_wait);
}

}  // namespace tls_audit::pg
