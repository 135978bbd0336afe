// From a probe report to a Nagios-style status with findings: the policy of
// pg_tls_check, kept apart from probing and printing so it can be tested alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "options.hpp"
#include "probe/probe.hpp"
#include "readiness.hpp"
#include "probe/probe_enumerate.hpp"
#include "probe/tls_profiles.hpp"

namespace tls_audit::cli {

// The values are the exit codes. Severity, for worst(), is
// OK < WARNING < UNKNOWN < CRITICAL.
enum class Status { Ok = 0, Warning = 1, Critical = 2, Unknown = 3 };

const char *status_name(Status s);  // "OK", "WARNING", "CRITICAL", "UNKNOWN"
Status worst(Status a, Status b);

struct Finding {
    Status severity = Status::Ok;  // Ok: a note that does not change the status
    std::string code;              // stable identifier, e.g. "protocol_below_minimum"
    std::string message;           // one line for people
};

struct Policy {
    int min_days = 30;
    int critical_days = 7;
    Protocol min_protocol = Protocol::TLSv1_2;
    bool ca_file_given = false;  // verification failures count only then
    bool require_tls = false;    // --require-tls: plaintext accepted is CRITICAL
    const TlsProfile *profile = nullptr;  // --profile
};

struct TargetResult {
    HostPort target;
    std::optional<TargetReport> report;  // nullopt when the probe failed
    std::optional<Error> error;          // then: why
    std::optional<Enumeration> enumeration;  // with --enumerate (see enumerate.hpp)
    std::optional<ProfileReport> profile;    // with --profile
    Status status = Status::Unknown;
    std::vector<Finding> findings;
    Readiness readiness;  // --plaintext, --ca-file bundles (readiness_check.hpp)
};

// Fill status and findings of `r` from its report or error. `now` is seconds
// since the epoch.
void evaluate(TargetResult &r, const Policy &policy, std::int64_t now);

// Whether a served chain verifies against --ca-file (or the system store) and
// matches the name it was reached by: chain_not_verified, hostname_mismatch
// (CRITICAL with --ca-file, else notes). Also for a pooler's certificate.
void check_chain_verification(const ChainReport &chain, const Policy &policy, std::vector<Finding> &out);

// The worst status over all results (Ok for none); the tool's exit code.
Status overall_status(const std::vector<TargetResult> &results);

}  // namespace tls_audit::cli
