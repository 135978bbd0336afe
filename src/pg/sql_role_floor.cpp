// The per-role protocol floor as SQL: session_floor(), behind the
// below_floor, floor_reason and role_floor columns of tls_audit.sessions.
#include <optional>
#include <string>

#include "guard.hpp"
#include "hook_role_floor.hpp"
#include "hook_sessions.hpp"
#include "protocol.hpp"
#include "role_floor.hpp"
#include "row.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_session_floor);
}

using namespace tls_audit;

namespace {

enum SessionFloorColumn { kRoleFloor, kBelowFloor, kFloorReason, kSessionFloorColumns };

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    const char *s = pg::call([&] { return static_cast<const char *>(text_to_cstring(PG_GETARG_TEXT_PP(n))); });
    return std::string(s);
}

}  // namespace

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
            std::optional<std::string> reason;
            if (entry != nullptr)
                reason = floor_reason(decide_role_floor(entry, transport->c_str(), protocol.c_str()), *entry, protocol);
            else
                reason = below_floor_reason(*transport, protocol, pg::min_protocol());
            row.boolean(kBelowFloor, reason.has_value());
            row.text_opt(kFloorReason, reason);
        }
        return row.as_composite();
    });
}
