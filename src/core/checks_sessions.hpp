// Checks of the connected sessions (rows of tls_audit.sessions): below the
// protocol floor, client certificates about to expire.
#pragma once

#include "pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "finding.hpp"

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

}  // namespace tls_audit
