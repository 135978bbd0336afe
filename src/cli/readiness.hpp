// pg_tls_check's plaintext acceptance and trust-store readiness:
// the per-target results, kept in their own types so that TargetResult only
// gains one member.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "probe/probe_plaintext.hpp"
#include "certs/trust_paths.hpp"

namespace tls_audit::cli {

// One CA bundle's verdict for one target.
struct BundleCheck {
    TrustPathReport report;
    bool required = true;  // --ca-file (a failure is CRITICAL) or --ca-file-optional (reported only)
};

struct Readiness {
    bool plaintext_probed = false;             // --plaintext / --require-tls
    std::optional<PlaintextReport> plaintext;  // when probed and the probe ran
    std::optional<Error> plaintext_error;      // when probed and it could not run (connect, ...)
    bool bundles_checked = false;              // bundles given and a chain was presented
    std::vector<BundleCheck> bundles;          // in command-line order: --ca-file, then --ca-file-optional
};

}  // namespace tls_audit::cli
