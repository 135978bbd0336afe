#include "checks/finding.hpp"

#include <ctime>

#include "checks/check_util.hpp"

namespace tls_audit {

using namespace check_util;

const char *severity_name(Severity s) {
    switch (s) {
    case Severity::Ok: return "ok";
    case Severity::Info: return "info";
    case Severity::Warning: return "warning";
    case Severity::Critical: return "critical";
    }
    return "unknown";
}

std::optional<Severity> parse_severity(std::string_view name) {
    for (Severity s : {Severity::Ok, Severity::Info, Severity::Warning, Severity::Critical})
        if (name == severity_name(s)) return s;
    return std::nullopt;
}

Severity worst_severity(const std::vector<Finding> &findings) {
    Severity worst = Severity::Ok;
    for (const auto &f : findings) worst = std::max(worst, f.severity);
    return worst;
}

Finding not_available(std::string_view check, std::string_view why) {
    return make(check, Severity::Info, {}, "not available: " + std::string(why));
}

std::string format_utc(std::int64_t epoch_seconds) {
    const std::time_t t = static_cast<std::time_t>(epoch_seconds);
    struct tm tm {};
    if (gmtime_r(&t, &tm) == nullptr) return std::to_string(epoch_seconds);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace tls_audit
