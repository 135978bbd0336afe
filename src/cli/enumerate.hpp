// pg_tls_check --enumerate: the policy on an enumeration and its part of each
// output format. Kept apart from the other formats' code so that they only
// call in here.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "evaluate.hpp"
#include "json.hpp"
#include "probe/probe_enumerate.hpp"

namespace tls_audit::cli {

// Below this many bits a DHE group is a WARNING (Mozilla's intermediate
// profile asks for ffdhe2048 or larger).
inline constexpr int kMinDheBits = 2048;

// Findings: "cipher_insecure" (CRITICAL) and "cipher_weak" (WARNING) per
// version, with the suites; "dhe_group_small" (WARNING).
void check_enumeration(const Enumeration &e, std::vector<Finding> &out);

// With --profile: "profile_deviation" (CRITICAL) per required deviation,
// "profile_recommendation" (a note) per recommendation.
void check_profile(const ProfileReport &p, std::vector<Finding> &out);
// The value of the "profile" key.
void write_profile_json(JsonWriter &w, const ProfileReport &p);

// The text block ("  cipher suites ..." and "  groups ...").
void write_enumeration_text(std::ostringstream &out, const Enumeration &e);
// The value of the "enumeration" key (an object; null is written by the caller).
void write_enumeration_json(JsonWriter &w, const Enumeration &e);
// TAP diagnostics lines, each starting with "# ".
void write_enumeration_tap(std::ostringstream &out, const Enumeration &e);
// Nagios perfdata for one target: " 'LABEL_suites'=N 'LABEL_weak_suites'=N 'LABEL_insecure_suites'=N".
std::string enumeration_perfdata(const std::string &label, const Enumeration &e);

}  // namespace tls_audit::cli
