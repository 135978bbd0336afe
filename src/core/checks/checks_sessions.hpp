// Checks of the connected sessions (rows of tls_audit.sessions): below the
// protocol floor, client certificates about to expire; and of the connection
// census that counts them: its periodic save failing.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checks/finding.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// Sessions (rows of tls_audit.sessions)

struct SessionFacts {
    int pid = 0;
    std::string usename, datname, client_addr;
    std::string transport;  // unix, tcp, tls
    std::string protocol;
    bool below_floor = false;
    std::string floor_reason;
    std::string client_subject;
    std::optional<std::int64_t> client_not_after;
};

std::vector<Finding> check_sessions_below_floor(const std::vector<SessionFacts> &sessions);
std::vector<Finding> check_client_cert_expiry(const std::vector<SessionFacts> &sessions,
                                              const Thresholds &t, std::int64_t now);

// The census file's state (tls_audit.census_info()): when it was last saved
// and why the last save failed (empty: it did not).
struct CensusSaveFacts {
    std::string last_save_at;     // as text; empty: never saved since the server started
    std::string last_save_error;  // empty: the last save succeeded (or none was tried yet)
};

// census_save_failed: warning when the last save of the census file failed.
std::vector<Finding> check_census_save_failed(const CensusSaveFacts &census);

}  // namespace tls_audit
