// What the census's SQL functions show a caller: the entries whose role it
// may see (as pg_stat_activity shows role names), optionally only those seen
// since an interval before the transaction's start. Shared by the census,
// readiness and role-floor readiness functions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "census_shmem.hpp"
#include "visibility.hpp"

#include "postgres.hpp"

namespace tls_audit::pg::census {

// Entries seen at or after this time: argument n of the SQL call, an
// interval before the transaction's start; nullopt for a NULL or missing
// argument (no limit).
std::optional<std::int64_t> since_arg(FunctionCallInfo fcinfo, int n);

// The visible entries of `snap`, optionally only those seen since `cutoff`.
std::vector<const CensusRecord *> visible_records(const Snapshot &snap, const Visibility &v,
                                                  std::optional<std::int64_t> cutoff);

}  // namespace tls_audit::pg::census
