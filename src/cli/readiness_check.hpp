// Probing and evaluating the plaintext and trust-store readiness parts of
// pg_tls_check (see readiness.hpp), and their facts as lines of text; each
// output format writes them in its own format_*.cpp.
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

// The readiness facts as lines of text, shared by the text, TAP and Nagios
// formats (each format writes its own output in its format_*.cpp).
std::string bundle_line(const BundleCheck &b);     // one bundle's verification of a target
std::string plaintext_line(const Readiness &rd);   // the plaintext probe's verdict
std::vector<std::string> fleet_lines(const ReportInput &in);  // the fleet's trust summary

// The user the plaintext probe names (--user, or the default).
std::string plaintext_user(const Options &o);

// The part of --help for these options.
const char *readiness_usage();

// Parse one of --plaintext, --require-tls, --user, --database, --ca-file,
// --ca-file-optional at args[i] (advancing i past a separate value).
// Returns false when args[i] is none of them; `err` is set on a bad value.
bool parse_readiness_option(const std::vector<std::string> &args, std::size_t &i, Options &o,
                            std::optional<Error> &err);

}  // namespace tls_audit::cli
