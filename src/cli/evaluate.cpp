#include "evaluate.hpp"

#include "readiness_check.hpp"
#include "enumerate.hpp"

namespace tls_audit::cli {

const char *status_name(Status s) {
    switch (s) {
    case Status::Ok: return "OK";
    case Status::Warning: return "WARNING";
    case Status::Critical: return "CRITICAL";
    case Status::Unknown: return "UNKNOWN";
    }
    return "UNKNOWN";
}

namespace {

// Severity order OK < WARNING < UNKNOWN < CRITICAL (as Icinga ranks states):
// a certain problem on one server must not be hidden by another that did not
// answer.
int rank(Status s) {
    switch (s) {
    case Status::Ok: return 0;
    case Status::Warning: return 1;
    case Status::Unknown: return 2;
    case Status::Critical: return 3;
    }
    return 2;
}

}  // namespace

Status worst(Status a, Status b) { return rank(a) >= rank(b) ? a : b; }

namespace {

std::string plural_days(std::int64_t n) { return std::to_string(n) + (n == 1 || n == -1 ? " day" : " days"); }

// "the leaf certificate" / "chain certificate 1 (CN=...)".
std::string which_cert(const std::vector<CertInfo> &chain, std::size_t i) {
    if (i == 0) return "the server certificate";
    return "chain certificate " + std::to_string(i) + " (" + chain[i].subject + ")";
}

void check_protocols(const TargetReport &rep, const Policy &policy, std::vector<Finding> &out) {
    bool any = false;
    for (const auto &p : rep.protocols) {
        if (!p.accepted) continue;
        any = true;
        if (p.protocol < policy.min_protocol)
            out.push_back({Status::Critical, "protocol_below_minimum",
                           std::string("accepts ") + protocol_name(p.protocol) + " (older than --min-protocol " +
                               protocol_name(policy.min_protocol) + ")"});
    }
    if (!any) out.push_back({Status::Critical, "no_protocol_accepted", "accepts none of TLSv1 to TLSv1.3"});
}

void check_expiry(const ChainReport &chain, const Policy &policy, std::int64_t now, std::vector<Finding> &out) {
    for (std::size_t i = 0; i < chain.certificates.size(); ++i) {
        const CertInfo &c = chain.certificates[i];
        std::int64_t left = days_left(c.not_after, now);
        std::string who = which_cert(chain.certificates, i);
        if (c.not_after <= now)
            out.push_back({Status::Critical, "certificate_expired",
                           who + " expired " + plural_days(-left) + " ago"});
        else if (left < policy.critical_days)
            out.push_back({Status::Critical, "certificate_expires_soon",
                           who + " expires in " + plural_days(left) + " (--critical-days " +
                               std::to_string(policy.critical_days) + ")"});
        else if (left < policy.min_days)
            out.push_back({Status::Warning, "certificate_expires_soon",
                           who + " expires in " + plural_days(left) + " (--min-days " +
                               std::to_string(policy.min_days) + ")"});
        if (c.not_before > now)
            out.push_back({Status::Critical, "certificate_not_yet_valid", who + " is not valid yet"});
    }
}

void check_verification(const ChainReport &chain, const Policy &policy, bool per_bundle,
                        std::vector<Finding> &out) {
    // Without --ca-file the system store decides, and most PostgreSQL servers
    // use a private CA: a failure there is worth a note, not an alarm.
    Status level = policy.ca_file_given ? Status::Critical : Status::Ok;
    std::string store = policy.ca_file_given ? "--ca-file" : "the system CA store";
    // With bundles checked one by one, each failing bundle has its own finding.
    if (!chain.verified && !per_bundle)
        out.push_back({level, "chain_not_verified",
                       "chain does not verify against " + store + ": " + chain.verify_error});
    if (!chain.hostname_match)
        out.push_back({level, "hostname_mismatch",
                       "certificate does not match the name \"" + chain.server_name + "\""});
}

}  // namespace

void check_chain_verification(const ChainReport &chain, const Policy &policy, std::vector<Finding> &out) {
    check_verification(chain, policy, false, out);
}

void evaluate(TargetResult &r, const Policy &policy, std::int64_t now) {
    r.findings.clear();
    if (!r.report) {
        std::string why = r.error ? r.error->message : "no result";
        r.findings.push_back({Status::Unknown, "probe_failed", why});
        check_readiness(r, policy, r.findings);
        r.status = Status::Unknown;
        for (const auto &f : r.findings) r.status = worst(r.status, f.severity);
        return;
    }
    const TargetReport &rep = *r.report;
    check_protocols(rep, policy, r.findings);
    if (rep.chain) {
        if (rep.chain->certificates.empty())
            r.findings.push_back({Status::Critical, "no_certificate", "the server presented no certificate"});
        check_expiry(*rep.chain, policy, now, r.findings);
        check_verification(*rep.chain, policy, r.readiness.bundles_checked && policy.ca_file_given, r.findings);
    } else {
        r.findings.push_back({Status::Critical, "handshake_failed",
                              "no TLS handshake possible: " + rep.chain_error});
    }
    if (r.enumeration) check_enumeration(*r.enumeration, r.findings);
    if (r.enumeration && policy.profile != nullptr) {
        const CertInfo *leaf =
            rep.chain && !rep.chain->certificates.empty() ? &rep.chain->certificates[0] : nullptr;
        r.profile = evaluate_profile(*policy.profile, *r.enumeration, leaf);
        check_profile(*r.profile, r.findings);
    }
    else if (r.error) r.findings.push_back({Status::Unknown, "enumeration_failed", r.error->message});
    check_readiness(r, policy, r.findings);
    r.status = Status::Ok;
    for (const auto &f : r.findings) r.status = worst(r.status, f.severity);
}

Status overall_status(const std::vector<TargetResult> &results) {
    Status s = Status::Ok;
    for (const auto &r : results) s = worst(s, r.status);
    return s;
}

}  // namespace tls_audit::cli
