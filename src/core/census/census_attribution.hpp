// When the connection census counts an authenticated connection, and under
// which application_name.
//
// Many clients do not send application_name in the startup packet but set
// it right after connecting: pgjdbc by default runs `SET extra_float_digits`
// then `SET application_name` as two transactions of their own, and pools
// do the same. Counting at authentication would file all of them under no
// name. The rule (doc/census.md, "Which application_name"):
//
//  * the startup packet carries a name, or the connection is a walsender, or
//    authentication failed: counted at authentication, as before;
//  * otherwise the count is owed (backend-local, no shared state) and made at
//    the first of:
//      - the end of a committed top-level transaction after which
//        application_name is non-empty (under that name);
//      - the end of the first committed top-level transaction that did work,
//        i.e. ran a statement other than SET/SHOW/transaction control (it
//        took a snapshot): under the name of that moment, none or set;
//      - the end of a committed top-level transaction once
//        kCensusDeferredTransactions top-level transactions (committed or
//        aborted) have ended since the session started;
//      - backend exit (under the name of that moment; a startup that never
//        reached normal processing is counted as startup_failed instead).
//    An aborted transaction decides nothing by itself: its SETs are being
//    rolled back when it ends.
//
// Plain data, no allocation, no exception: the glue keeps one in static
// memory of each backend.
#pragma once

#include "base/pure_cpp.hpp"

TLS_AUDIT_AREA(census);

namespace tls_audit {

// Top-level transactions after which a deferred count is made even when no
// name was set and no work done (pgjdbc needs two: SET extra_float_digits,
// SET application_name).
inline constexpr int kCensusDeferredTransactions = 5;

enum class CensusTiming : unsigned char {
    AtAuthentication,  // count now, with the startup packet's name (or none)
    Deferred,          // CensusDeferral decides when, and the name then
};

// At authentication: `authenticated` (STATUS_OK), `walsender` (a replication
// connection: it runs no transactions to decide at), and the startup
// packet's application_name (nullptr or "" when it had none).
// True for a non-empty name.
constexpr bool census_name_set(const char *name) noexcept { return name != nullptr && name[0] != '\0'; }

// Inline: it runs for every connection, and a call into another object
// file would fault in one more page of code in every new backend.
constexpr CensusTiming census_timing(bool authenticated, bool walsender, const char *startup_application_name) noexcept {
    return !authenticated || walsender || census_name_set(startup_application_name) ? CensusTiming::AtAuthentication
                                                                                    : CensusTiming::Deferred;
}

// One backend's owed count.
class CensusDeferral {
public:
    // A count is owed from now on (the session authenticated without a name).
    void start() noexcept {
        pending_ = true;
        transactions_ = 0;
    }
    bool pending() const noexcept { return pending_; }

    // The end of a top-level transaction once the session runs (normal
    // processing, not InitPostgres's own transactions). `committed`: committed
    // or prepared (false: aborted); `did_work`: it took a snapshot (a statement
    // other than SET, SHOW, BEGIN/COMMIT...); `name_set`: application_name is
    // non-empty now. True when the count is to be made now, under the current
    // application_name; the count is then no longer pending.
    bool transaction_end(bool committed, bool did_work, bool name_set) noexcept;

    // Backend exit: true when the count is still owed (made now); no longer
    // pending afterwards.
    bool exit() noexcept {
        const bool owed = pending_;
        pending_ = false;
        return owed;
    }

    // Top-level transactions seen while pending.
    int transactions() const noexcept { return transactions_; }

private:
    bool pending_ = false;
    int transactions_ = 0;
};

}  // namespace tls_audit
