// Fleets: probe, evaluate and print each target as it finishes, keeping only
// the targets in flight (text, tap, nagios). Memory is bounded by --jobs, not
// by the number of targets; JSON and Prometheus output need every target at
// the end and go through scan() instead.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>

#include "evaluate.hpp"
#include "format.hpp"
#include "options.hpp"
#include "scan.hpp"

namespace tls_audit::cli {

// Whether `f` is printed as targets finish.
bool streams(Format f);

// Called under the output lock after each target, with (done, total).
using ProgressFn = std::function<void(std::size_t, std::size_t)>;

// Probe every target (options.jobs at a time), evaluate each with `policy`,
// and write its part of the report to `out` in the order targets finish
// (TAP numbers them in that order); the summary (text), or the whole Nagios
// output (whose first line needs every status), at the end. Returns the
// overall status.
Status scan_streaming(const Options &options, const ProbeFn &probe, const EnumerateFn &enumerate,
                      const Policy &policy, std::int64_t now, std::ostream &out, const ProgressFn &progress = {});


}  // namespace tls_audit::cli
