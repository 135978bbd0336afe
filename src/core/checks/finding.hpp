// What every check returns: a Finding with a Severity, and the small
// vocabulary all check areas share (expiry thresholds, "not available" rows,
// UTC time stamps).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

TLS_AUDIT_AREA(checks);

namespace tls_audit {

// Ordered from harmless to worst, so that max() is "the worst".
enum class Severity { Ok = 0, Info = 1, Warning = 2, Critical = 3 };

const char *severity_name(Severity s);  // "ok", "info", "warning", "critical"
std::optional<Severity> parse_severity(std::string_view name);

struct Finding {
    std::string check;     // one of check_names()
    Severity severity = Severity::Ok;
    std::string object;    // what the finding is about; empty for 'ok' rows
    std::string message;
    std::string hint;      // how to fix it; empty when there is nothing to do
};

// The worst severity of a set of findings (Ok for none).
Severity worst_severity(const std::vector<Finding> &findings);

// One 'info' row for a check whose input is missing ("not available: why").
Finding not_available(std::string_view check, std::string_view why);

// Certificate and CRL expiry windows, in days (tls_audit.expiry_*_days).
struct Thresholds {
    int warning_days = 30;
    int critical_days = 7;
};

// "2026-11-30 12:00:00 UTC"
std::string format_utc(std::int64_t epoch_seconds);

}  // namespace tls_audit
