#include "checks/checks_sessions.hpp"

#include <map>
#include <tuple>

#include "checks/check_util.hpp"

namespace tls_audit {

using namespace check_util;

// Sessions

std::vector<Finding> check_sessions_below_floor(const std::vector<SessionFacts> &sessions) {
    constexpr std::string_view check = "sessions_below_floor";
    // Grouped by who connects from where for which reason, so that a pool of
    // connections gives one row.
    std::map<std::tuple<std::string, std::string, std::string, std::string>, std::vector<std::string>> groups;
    for (const auto &s : sessions) {
        if (!s.below_floor) continue;
        groups[{s.usename, s.datname, s.client_addr, s.floor_reason}].push_back(std::to_string(s.pid));
    }
    std::vector<Finding> found;
    for (const auto &[key, pids] : groups) {
        const auto &[user, db, addr, reason] = key;
        const std::string object = (user.empty() ? "?" : user) + "@" + (db.empty() ? "?" : db) +
                                   (addr.empty() ? "" : " from " + addr);
        found.push_back(make(check, Severity::Warning, object,
                             plural(static_cast<std::int64_t>(pids.size()), "session") + " below the floor (" +
                                 (reason.empty() ? "below floor" : reason) + "): pid " + join_limited(pids),
                             reason == "no TLS"
                                 ? "Connect with sslmode=require (or verify-full) and use hostssl lines."
                                 : "Upgrade the client's TLS library, or raise its ssl_min_protocol_version."));
    }
    return or_ok(std::move(found), check,
                 "no session below the floor (" + plural(static_cast<std::int64_t>(sessions.size()), "session") +
                     " visible)");
}

std::vector<Finding> check_client_cert_expiry(const std::vector<SessionFacts> &sessions, const Thresholds &t,
                                              std::int64_t now) {
    constexpr std::string_view check = "client_cert_expiry";
    struct Group {
        std::int64_t not_after = 0;
        std::vector<std::string> pids;
    };
    std::map<std::string, Group> groups;  // by subject
    for (const auto &s : sessions) {
        if (!s.client_not_after) continue;
        auto &g = groups[s.client_subject];
        g.not_after = *s.client_not_after;
        g.pids.push_back(std::to_string(s.pid));
    }
    std::vector<Finding> found;
    for (const auto &[subject, g] : groups) {
        auto verdict = expiry_verdict(0, g.not_after, t, now);
        if (!verdict) continue;
        found.push_back(make(check, verdict->severity, subject.empty() ? "(unknown subject)" : subject,
                             "client certificate " + verdict->text + ", in use by pid " + join_limited(g.pids),
                             "Issue the client a renewed certificate (sslcert/sslkey) before it expires."));
    }
    return or_ok(std::move(found), check,
                 "no connected client certificate expires " + window_text(t) + " (" +
                     plural(static_cast<std::int64_t>(groups.size()), "certificate") + " seen)");
}

// Census

std::vector<Finding> check_census_save_failed(const CensusSaveFacts &c) {
    constexpr std::string_view check = "census_save_failed";
    if (c.last_save_error.empty())
        return {make(check, Severity::Ok, "",
                     c.last_save_at.empty() ? "the census file has not been saved yet since the server started"
                                            : "the census file was last saved at " + c.last_save_at,
                     "")};
    return {make(check, Severity::Warning, "census file pg_stat/pg_tls_audit_census",
                 "the last save of the connection census failed: " + c.last_save_error +
                     (c.last_save_at.empty() ? "; no save has succeeded since the server started"
                                             : "; the last successful save was at " + c.last_save_at) +
                     ". A crash now loses the connections counted since then",
                 "Make the pg_stat directory of the data directory writable by the server and check its free "
                 "space; tls_audit.census_info() shows the error until a save succeeds.")};
}

}  // namespace tls_audit
