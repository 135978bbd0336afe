#include "census_visible.hpp"

#include "guard.hpp"

namespace tls_audit::pg::census {

std::optional<std::int64_t> since_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_NARGS() <= n || PG_ARGISNULL(n)) return std::nullopt;
    const Datum interval = PG_GETARG_DATUM(n);
    const TimestampTz now = GetCurrentTransactionStartTimestamp();
    return call([&] {
        return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval, TimestampTzGetDatum(now), interval));
    });
}

std::vector<const CensusRecord *> visible_records(const Snapshot &snap, const Visibility &v,
                                                  std::optional<std::int64_t> cutoff) {
    std::vector<const CensusRecord *> out;
    out.reserve(snap.count);
    for (std::size_t i = 0; i < snap.count; ++i) {
        const CensusRecord &r = snap.records[i];
        if (!v.sees_role_name(r.key.usename)) continue;
        if (cutoff && r.last_seen < *cutoff) continue;
        out.push_back(&r);
    }
    return out;
}

}  // namespace tls_audit::pg::census
