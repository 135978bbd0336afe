#include "census/census_attribution.hpp"

namespace tls_audit {

bool CensusDeferral::transaction_end(bool committed, bool did_work, bool name_set) noexcept {
    if (!pending_) return false;
    if (transactions_ < kCensusDeferredTransactions) ++transactions_;
    // An aborted transaction's SETs are rolled back after this point: its
    // name is not the session's. Only the bound counts it.
    const bool decide = committed ? (name_set || did_work || transactions_ >= kCensusDeferredTransactions) : false;
    if (decide) pending_ = false;
    return decide;
}

}  // namespace tls_audit
