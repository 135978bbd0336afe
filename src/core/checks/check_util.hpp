// Shared by the check areas' .cpp files only (not part of the core's API):
// building findings and the wording they share.
#pragma once

#include "base/pure_cpp.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checks/finding.hpp"
#include "certs/x509.hpp"

TLS_AUDIT_AREA(checks);

namespace tls_audit::check_util {

inline constexpr std::int64_t kDay = 86400;

inline Finding make(std::string_view check, Severity severity, std::string object, std::string message,
             std::string hint = {}) {
    return Finding{std::string(check), severity, std::move(object), std::move(message), std::move(hint)};
}

inline std::vector<Finding> ok(std::string_view check, std::string message) {
    return {make(check, Severity::Ok, {}, std::move(message))};
}

// `found` when it has rows, else one 'ok' row.
inline std::vector<Finding> or_ok(std::vector<Finding> found, std::string_view check, std::string ok_message) {
    if (found.empty()) return ok(check, std::move(ok_message));
    return found;
}

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

inline std::string plural(std::int64_t n, const char *unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

// Join at most `limit` items, then "and N more".
inline std::string join_limited(const std::vector<std::string> &items, std::size_t limit = 10) {
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < limit; ++i) {
        if (i > 0) out += ", ";
        out += items[i];
    }
    if (items.size() > limit) out += " and " + std::to_string(items.size() - limit) + " more";
    return out;
}

// Expiry of something valid from not_before (0 = unknown) until not_after.
struct ExpiryVerdict {
    Severity severity;
    std::string text;
};

inline std::optional<ExpiryVerdict> expiry_verdict(std::int64_t not_before, std::int64_t not_after,
                                            const Thresholds &t, std::int64_t now) {
    const std::int64_t left = not_after - now;
    if (left <= 0) {
        const std::int64_t ago = (now - not_after) / kDay;
        return ExpiryVerdict{Severity::Critical,
                             "expired " + (ago < 1 ? std::string("less than a day ago") : plural(ago, "day") + " ago") +
                                 " (" + format_utc(not_after) + ")"};
    }
    if (not_before != 0 && not_before > now)
        return ExpiryVerdict{Severity::Critical, "is not valid before " + format_utc(not_before)};
    const std::string when = "expires in " + plural(days_left(not_after, now), "day") + " (" +
                             format_utc(not_after) + ")";
    if (left < static_cast<std::int64_t>(t.critical_days) * kDay) return ExpiryVerdict{Severity::Critical, when};
    if (left < static_cast<std::int64_t>(t.warning_days) * kDay) return ExpiryVerdict{Severity::Warning, when};
    return std::nullopt;
}

inline std::string window_text(const Thresholds &t) {
    return "within " + plural(std::max(t.warning_days, t.critical_days), "day");
}

}  // namespace tls_audit::check_util
