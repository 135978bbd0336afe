// tls_audit.role_min_protocol against the roles that exist (see the header).
// The decision is the core's (unmatched_role_floors(),
// check_role_floor_unmatched()); this file only reads the roles.
#include "sql_checks_role_floor.hpp"

#include <string>
#include <vector>

#include "guard.hpp"
#include "guc_role_floor.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

// Every role's name, or why they could not be read. Read from pg_authid
// directly, in a subtransaction: one relation and no view to plan, whose
// pages every connection reads anyway to find its own role. (Through the
// pg_roles view, the auto-reload worker's check at start filled the first
// shared buffers with pages of the catalogs the view is made of;
// doc/benchmarks.md.) Only the names are taken, which pg_roles shows to
// every user.
Expected<std::vector<std::string>> role_names() {
    std::vector<std::string> roles;
    try {
        in_subtransaction([&] {
            Relation rel = call([] { return table_open(AuthIdRelationId, AccessShareLock); });
            SysScanDesc scan = call([&] { return systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr); });
            for (;;) {
                HeapTuple tuple = call([&] { return systable_getnext(scan); });
                if (!HeapTupleIsValid(tuple)) break;
                roles.emplace_back(NameStr(reinterpret_cast<Form_pg_authid>(GETSTRUCT(tuple))->rolname));
            }
            call([&] {
                systable_endscan(scan);
                table_close(rel, AccessShareLock);
            });
        });
    } catch (const PgError &e) {
        // A cancel, statement timeout or shutdown (class 57) is the caller's to see.
        if (e.edata() != nullptr && ERRCODE_TO_CATEGORY(e.edata()->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION)
            throw;
        return make_error(sqlstate::kInternal, std::string("could not read the roles: ") + e.what());
    }
    return roles;
}

}  // namespace

Input<RoleFloorFacts> gather_role_floor() {
    RoleFloorFacts f;
    f.setting = format_role_floors(role_floor_list());
    f.enforce_on = enforce_floor() == EnforceFloor::On;
    auto roles = role_names();
    if (!roles.ok()) return Input<RoleFloorFacts>::none(roles.error().message);
    f.roles = std::move(roles).value();
    return Input<RoleFloorFacts>::of(std::move(f));
}

void report_unmatched_role_floors() {
    const RoleFloorList &list = role_floor_list();
    bool named = false;
    for (std::uint32_t i = 0; i < list.count; ++i) named = named || list.entries[i].scope != FloorScope::Default;
    if (!named) return;  // only `*` (or nothing): no name to match
    Expected<std::vector<std::string>> roles = Error{};
    try {
        roles = in_own_transaction([] { return role_names(); });
    } catch (const PgError &e) {
        roles = Error{sqlstate::kInternal, e.what(), {}, {}};
    }
    if (!roles.ok()) {
        const std::string why = roles.error().message;
        call([&] {
            ereport(LOG, (errmsg("pg_tls_audit: could not check tls_audit.role_min_protocol against the roles: %s",
                                 why.c_str())));
        });
        return;
    }
    const std::string unmatched = describe_unmatched_role_floors(unmatched_role_floors(list, roles.value()));
    if (unmatched.empty()) return;
    const bool on = enforce_floor() == EnforceFloor::On;
    call([&] {
        ereport(WARNING,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("tls_audit.role_min_protocol entries match no role: %s", unmatched.c_str()),
                 errdetail("Role names match exactly; these entries protect nobody%s.",
                           on ? " (tls_audit.enforce_floor = on admits the sessions they were meant to refuse)"
                              : ""),
                 errhint("Correct or remove them and reload; tls_audit.run_checks() reports them as "
                         "role_floor_unmatched.")));
    });
}

}  // namespace tls_audit::pg
