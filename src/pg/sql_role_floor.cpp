// The per-role protocol floor as SQL: session_floor(), behind the
// below_floor, floor_reason and role_floor columns of tls_audit.sessions, and
// role_floor_readiness(), the census seen through the per-role floors.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "guard.hpp"
#include "census_shmem.hpp"
#include "census_visible.hpp"
#include "hook_role_floor.hpp"
#include "guc_sessions.hpp"
#include "base/protocol.hpp"
#include "access/role_floor.hpp"
#include "census/role_floor_readiness.hpp"
#include "row.hpp"
#include "visibility.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_session_floor);
PG_FUNCTION_INFO_V1(tls_audit_role_floor_readiness);
}

using namespace tls_audit;

namespace {

enum SessionFloorColumn { kRoleFloor, kBelowFloor, kFloorReason, kSessionFloorColumns };

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    const char *s = pg::call([&] { return static_cast<const char *>(text_to_cstring(PG_GETARG_TEXT_PP(n))); });
    return std::string(s);
}

enum ReadinessColumn {
    kRUsename,
    kRDatname,
    kRClientAddr,
    kRApplicationName,
    kRProtocol,
    kRRoleFloor,
    kRConnections,
    kRLastSeen,
    kRReason,
    kReadinessColumns
};

// The floor entry of each role name in the census, looked up once per call.
struct RoleLookup {
    std::map<std::string, const RoleFloorEntry *> cache;
};

const RoleFloorEntry *lookup_role(const char *usename, void *context) {
    auto &cache = static_cast<RoleLookup *>(context)->cache;
    auto it = cache.find(usename);
    if (it != cache.end()) return it->second;
    const Oid roleid = pg::call([&] { return get_role_oid(usename, true); });
    const RoleFloorEntry *entry = pg::role_floor_entry(roleid, usename);
    cache.emplace(usename, entry);
    return entry;
}

}  // namespace

// role_floor_readiness(since interval): the visible census entries below the
// floor tls_audit.role_min_protocol now sets for their role.
extern "C" Datum tls_audit_role_floor_readiness(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::census::require();
        const std::optional<std::int64_t> cutoff = pg::census::since_arg(fcinfo, 0);
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        const pg::Visibility v;
        const auto snap = pg::census::snapshot();
        const std::vector<const CensusRecord *> records = pg::census::visible_records(snap, v, cutoff);
        RoleLookup lookup;
        for (const RoleReadinessRow &r : role_floor_readiness(records, lookup_role, &lookup)) {
            pg::Row row(rsinfo->setDesc);
            pg::check_columns(row.columns(), kReadinessColumns, "tls_audit.role_floor_readiness()");
            row.text_or_null(kRUsename, r.usename);
            row.text_or_null(kRDatname, r.datname);
            if (!r.client_addr.empty()) {
                const char *addr = r.client_addr.c_str();
                row.datum(kRClientAddr, pg::call([&] { return DirectFunctionCall1(inet_in, CStringGetDatum(addr)); }));
            }
            row.text_or_null(kRApplicationName, r.application_name);
            row.text_or_null(kRProtocol, r.protocol);
            row.text(kRRoleFloor, r.role_floor);
            row.int8(kRConnections, r.connections);
            row.datum(kRLastSeen, TimestampTzGetDatum(r.last_seen));
            row.text(kRReason, r.reason);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

// session_floor(role oid, transport text, protocol text): the floor of the
// role (NULL when no entry of tls_audit.role_min_protocol applies) and, when
// the transport is known, whether the session is below the floor that
// applies to it: the role's, or else tls_audit.min_protocol.
extern "C" Datum tls_audit_session_floor(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        pg::Row row(pg::result_descriptor(fcinfo));
        pg::check_columns(row.columns(), kSessionFloorColumns, "tls_audit.session_floor()", kSessionFloorColumns);
        const RoleFloorEntry *entry = nullptr;
        if (!PG_ARGISNULL(0)) {
            const Oid roleid = PG_GETARG_OID(0);
            const char *name = pg::call([&] { return static_cast<const char *>(GetUserNameFromId(roleid, true)); });
            if (name != nullptr) entry = pg::role_floor_entry(roleid, name);
        }
        if (entry != nullptr) row.text(kRoleFloor, protocol_name(entry->floor));
        const std::optional<std::string> transport = text_arg(fcinfo, 1);
        if (transport) {
            const std::string protocol = text_arg(fcinfo, 2).value_or("");
            const std::optional<std::string> reason =
                session_floor_reason(entry, *transport, protocol, pg::min_protocol());
            row.boolean(kBelowFloor, reason.has_value());
            row.text_opt(kFloorReason, reason);
        }
        return row.as_composite();
    });
}
