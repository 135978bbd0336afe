#include "checks/checks_auth.hpp"

#include "checks/check_util.hpp"

namespace tls_audit {

using namespace check_util;

std::vector<Finding> check_weak_auth_in_use(const std::vector<WeakAuthFacts> &clients, int window_days) {
    constexpr std::string_view check = "weak_auth_in_use";
    std::vector<Finding> found;
    for (const auto &c : clients) {
        const std::string object = (c.usename.empty() ? "?" : c.usename) + "@" +
                                   (c.datname.empty() ? "?" : c.datname) +
                                   (c.client_addr.empty() ? "" : " from " + c.client_addr) +
                                   (c.application_name.empty() ? "" : " (" + c.application_name + ")");
        const bool trust = c.auth_method == "trust";
        found.push_back(make(check, Severity::Warning, object,
                             plural(c.connections, "connection") + " authenticated with " +
                                 (c.reason.empty() ? c.auth_method : c.reason) + ", last seen " +
                                 format_utc(c.last_seen),
                             trust ? "Require a password (scram-sha-256) or a client certificate on the "
                                     "pg_hba.conf line that admits this client over TCP."
                                   : "Set password_encryption = scram-sha-256, have the role set its password "
                                     "again, then use scram-sha-256 on its pg_hba.conf line."));
    }
    return or_ok(std::move(found), check,
                 "no client authenticated with trust over TCP, password or md5 in the last " +
                     plural(window_days, "day"));
}

std::vector<Finding> check_census_incomplete(const CensusCompleteness &census) {
    constexpr std::string_view check = "census_incomplete";
    if (census.complete)
        return {make(check, Severity::Ok, {}, "the census holds every authenticated client since its reset")};
    return {make(check, Severity::Warning, "tls_audit.census",
                 "authenticated census entries were evicted" +
                     (census.evicted_since.empty() ? std::string() : " since " + census.evicted_since) +
                     ": floor_readiness(), role_floor_readiness() and auth_readiness() miss clients, so no rows "
                     "there does not mean every client is ready",
                 "Raise tls_audit.census_max (needs a restart), then tls_audit.census_reset() to start a "
                 "complete census.")};
}

}  // namespace tls_audit
