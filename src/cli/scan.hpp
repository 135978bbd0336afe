// Probing many targets with at most `jobs` in flight.
#pragma once

#include <functional>
#include <vector>

#include "evaluate.hpp"
#include "options.hpp"
#include "probe/probe.hpp"

namespace tls_audit::cli {

using ProbeFn = std::function<Expected<TargetReport>(const ProbeTarget &)>;
using EnumerateFn = std::function<Expected<Enumeration>(const ProbeTarget &)>;

// Probe every target (in parallel, `options.jobs` at a time) and return the
// results in input order, not yet evaluated. `probe` is probe_target in the
// tool and a stub in tests.
// With `enumerate` (pg_tls_check --enumerate), a target whose probe succeeded
// is enumerated too; a failed enumeration is the target's error.
std::vector<TargetResult> scan(const Options &options, const ProbeFn &probe, const EnumerateFn &enumerate = {});

// Probe every target and hand each result, with its index in
// options.targets, to `done` as it finishes (under a lock: `done` runs on one
// thread at a time). Nothing is kept afterwards.
void scan_each(const Options &options, const ProbeFn &probe, const EnumerateFn &enumerate,
               const std::function<void(std::size_t, TargetResult &&)> &done);


}  // namespace tls_audit::cli
