// Probing, evaluating and printing the plaintext and trust-store readiness
// parts of pg_tls_check (see readiness.hpp). The formats call the write_*
// helpers at one place each.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "evaluate.hpp"
#include "format.hpp"
#include "json.hpp"
#include "options.hpp"
#include "certs/trust_paths.hpp"

namespace tls_audit::cli {

// The bundles of --ca-file (required) then --ca-file-optional, loaded once.
struct LoadedBundles {
    std::vector<TrustBundle> bundles;
    std::vector<bool> required;
};
Expected<LoadedBundles> load_bundles(const Options &options);

using PlaintextFn = std::function<Expected<PlaintextReport>(const ProbeTarget &, const std::string &user,
                                                            const std::string &database)>;

// For every target (options.jobs at a time): the plaintext probe when asked
// for, and the verification of its presented chain against every bundle.
void probe_readiness(std::vector<TargetResult> &results, const Options &options, const LoadedBundles &bundles,
                     const PlaintextFn &plaintext);

// The findings of r.readiness (appended to `out`).
void check_readiness(const TargetResult &r, const Policy &policy, std::vector<Finding> &out);

// The fleet view: which roots the targets anchor to, and which targets each
// bundle fails.
struct FleetAnchor {
    std::string subject;
    std::string sha256;
    std::vector<std::string> targets;  // labels, input order, each once
};
struct FleetBundle {
    std::string file;
    bool required = true;
    struct Failure {
        std::string target;  // label
        std::string error;
    };
    std::vector<Failure> fails;
    std::vector<std::string> unchecked;  // targets without a chain to check
    std::size_t verified = 0;
};
struct FleetSummary {
    std::vector<FleetAnchor> anchors;  // in order of first appearance
    std::vector<FleetBundle> bundles;
};
// Empty (no bundles) when no bundle was given.
FleetSummary fleet_summary(const std::vector<TargetResult> &results, const Options &options);

// Output helpers, one per format.
void write_readiness_text(std::ostringstream &out, const TargetResult &r);
void write_fleet_text(std::ostringstream &out, const ReportInput &in);
void write_readiness_json(JsonWriter &w, const TargetResult &r);
void write_readiness_policy_json(JsonWriter &w, const Options &options);
void write_fleet_json(JsonWriter &w, const ReportInput &in);
void write_readiness_tap(std::ostringstream &out, const TargetResult &r);
void write_fleet_tap(std::ostringstream &out, const ReportInput &in);
void write_fleet_nagios(std::ostringstream &out, const ReportInput &in);

// The part of --help for these options.
const char *readiness_usage();

// Parse one of --plaintext, --require-tls, --user, --database, --ca-file,
// --ca-file-optional at args[i] (advancing i past a separate value).
// Returns false when args[i] is none of them; `err` is set on a bad value.
bool parse_readiness_option(const std::vector<std::string> &args, std::size_t &i, Options &o,
                            std::optional<Error> &err);

}  // namespace tls_audit::cli
