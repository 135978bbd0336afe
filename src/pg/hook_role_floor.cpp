// The per-role protocol floor at authentication: ClientAuthentication_hook,
// registered after the census and the session registry so that both have
// seen the connection before this area may refuse it.
//
// With tls_audit.enforce_floor = off nothing is computed. Otherwise, once
// per backend: the transport and protocol (ConnectionFacts: read from the
// Port once per connection for this area and the census), the entry of
// tls_audit.role_min_protocol for port->user_name (membership of +group
// entries looked up only when no entry names the role itself, as pg_hba's
// +group does: get_role_oid + is_member_of_role_nosuper; InitPostgres has
// started a transaction before PerformAuthentication, so the syscache is
// usable), and the decision. `log` writes one LOG line, `on` a FATAL with
// SQLSTATE 28000. Unix-socket sessions are never affected.
#include "hook_role_floor.hpp"

#include <cstring>
#include <exception>

#include "census/census_key.hpp"
#include "guard.hpp"
#include "guc_role_floor.hpp"
#include "hook_auth.hpp"
#include "base/hot_path.hpp"
#include "module.hpp"
#include "base/protocol.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

// This backend's decision (plain data: a FATAL may leave from here).
// Written once per connection when the floor is enforced: aligned so that it
// never straddles two pages (each written page is a fault per backend).
struct alignas(512) Verdict {
    bool decided;
    bool violation;
    bool refuse;
    EnforceFloor mode;
    char protocol[kCensusProtocolLen];  // "TLSv1.2", or "no TLS"
    char floor[kCensusProtocolLen];     // "TLSv1.3", or "unknown" when the list was refused
    char which[kRoleFloorNameLen + 16]; // "role etl", "group reporting", "all roles"
    char reason[kRoleFloorNameLen + 96];
};
static_assert(sizeof(Verdict) <= 512, "within one page");
// Read by every connection (`decided`): in the page of the census's
// per-connection state, which every connection writes anyway
// (TLS_AUDIT_HOT_DATA, src/pg/hot_layout.ld).
TLS_AUDIT_HOT_DATA Verdict verdict;

// Membership lookups for resolve_role_floor: each in its own PG_TRY (a
// catalog error counts as "not a member" and is logged).
struct MemberContext {
    const char *user;
    Oid roleid;
    bool looked_up;
};

bool member_of(const char *group, void *context) {
    auto *c = static_cast<MemberContext *>(context);
    bool member = false;
    MemoryContext memory = CurrentMemoryContext;
    PG_TRY();
    {
        if (!c->looked_up) {
            c->roleid = get_role_oid(c->user, true);
            c->looked_up = true;
        }
        const Oid groupid = get_role_oid(group, true);
        member = OidIsValid(c->roleid) && OidIsValid(groupid) && is_member_of_role_nosuper(c->roleid, groupid);
    }
    PG_CATCH();
    {
        log_caught_error(memory, "role membership for tls_audit.role_min_protocol not resolved");
        member = false;
    }
    PG_END_TRY();
    return member;
}

// True when the session is certainly within its floor, found without a
// catalog lookup and without writing `verdict`: the common case, which then
// costs a new backend no page of this library's data (decide() writes one).
// The transport is asked of `facts` only past the enforce_floor test: with
// the floor off nothing of the connection is read here.
TLS_AUDIT_HOT bool surely_within_floor(Port *port, int status, ConnectionFacts &facts) {
    if (enforce_floor() == EnforceFloor::Off || port == nullptr || status != STATUS_OK) return true;
    const ConnectionTransport &t = facts.transport();
    if (t.name == nullptr || t.facts.unix_socket) return true;  // never affected
    if (role_floor_list_refused()) return false;                // fail closed: decide() says why
    const RoleFloorList &list = role_floor_list();
    return list.count == 0 ||
           !floor_violation_possible(list, port->user_name != nullptr ? port->user_name : "", t.name, t.protocol);
}

TLS_AUDIT_HOT void decide(Port *port, int status, ConnectionFacts &facts) {
    verdict.decided = true;
    verdict.mode = enforce_floor();
    if (verdict.mode == EnforceFloor::Off || port == nullptr || status != STATUS_OK) return;
    const ConnectionTransport &t = facts.transport();
    const char *transport = t.name;
    if (transport == nullptr || t.facts.unix_socket) return;  // never affected
    const char *protocol = t.protocol;
    strlcpy(verdict.protocol, protocol != nullptr ? protocol : "no TLS", sizeof verdict.protocol);

    if (role_floor_list_refused()) {
        // Fail closed: the floors are unknown, so every TCP session is below them.
        verdict.violation = true;
        strlcpy(verdict.floor, "unknown", sizeof verdict.floor);
        strlcpy(verdict.which, "tls_audit.role_min_protocol was refused at start", sizeof verdict.which);
        snprintf(verdict.reason, sizeof verdict.reason, "%s (the value of tls_audit.role_min_protocol is invalid)",
                 verdict.protocol);
    } else {
        const RoleFloorList &list = role_floor_list();
        if (list.count == 0) return;
        const char *user = port->user_name != nullptr ? port->user_name : "";
        // Within every floor that may apply: no catalog lookup of membership.
        if (!floor_violation_possible(list, user, transport, protocol)) return;
        MemberContext context{port->user_name, InvalidOid, false};
        const RoleFloorEntry *entry =
            resolve_role_floor(list, user, list.has_groups ? member_of : nullptr, &context);
        const FloorDecision d = decide_role_floor(entry, transport, protocol);
        if (!floor_violated(d)) return;
        verdict.violation = true;
        strlcpy(verdict.floor, protocol_name(entry->floor), sizeof verdict.floor);
        describe_floor_entry(*entry, verdict.which, sizeof verdict.which);
        floor_reason(d, *entry, protocol, verdict.reason, sizeof verdict.reason);
    }
    verdict.refuse = verdict.mode == EnforceFloor::On;
}

TLS_AUDIT_HOT void client_auth_hook(Port *port, int status, ConnectionFacts &facts) {
    if (!verdict.decided) {
        if (surely_within_floor(port, status, facts)) return;  // the whole cost when off or within the floor
        decide(port, status, facts);
    }
    if (!verdict.violation) return;
    const char *user = port->user_name != nullptr ? port->user_name : "";
    if (verdict.refuse && role_floor_list_refused())
        ereport(FATAL,
                (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
                 errmsg("connection of role \"%s\" refused: the protocol floors of tls_audit.role_min_protocol are "
                        "unknown",
                        user),
                 errdetail("The value the configuration gave tls_audit.role_min_protocol at server start is invalid; "
                           "with tls_audit.enforce_floor = on every TCP session is refused until a valid value is "
                           "loaded (this session uses %s).",
                           verdict.protocol),
                 errhint("Fix tls_audit.role_min_protocol and reload the configuration, over the unix socket, "
                         "which the floor never affects.")));
    if (verdict.refuse)
        ereport(FATAL,
                (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
                 errmsg("role \"%s\" must connect with %s or newer, this session uses %s", user, verdict.floor,
                        verdict.protocol),
                 errdetail("tls_audit.role_min_protocol sets the floor %s for %s; tls_audit.enforce_floor = on "
                           "refuses sessions below it (%s).",
                           verdict.floor, verdict.which, verdict.reason),
                 errhint("Connect over TLS %s or newer (libpq: sslmode=require or stronger). A superuser can "
                         "change tls_audit.role_min_protocol or tls_audit.enforce_floor over the unix socket, "
                         "which the floor never affects.",
                         verdict.floor)));
    ereport(LOG, (errmsg("pg_tls_audit: session of role \"%s\" below its protocol floor: %s", user, verdict.reason),
                  errdetail("tls_audit.enforce_floor = log: the session is admitted and counted in the census "
                            "with outcome policy_violation.")));
}

}  // namespace

TLS_AUDIT_HOT bool role_floor_violation(Port *port, int status, ConnectionFacts &facts) {
    if (!verdict.decided) {
        if (surely_within_floor(port, status, facts)) return false;
        decide(port, status, facts);
    }
    return verdict.violation;
}

TLS_AUDIT_HOT bool role_floor_refuses(Port *port, int status, ConnectionFacts &facts) {
    return role_floor_violation(port, status, facts) && verdict.refuse;
}

const RoleFloorEntry *role_floor_entry(Oid roleid, const char *rolname) {
    const RoleFloorList &list = role_floor_list();
    if (list.count == 0 || rolname == nullptr) return nullptr;
    // resolve_role_floor() is noexcept: a catalog error is kept here and
    // thrown once it has returned.
    struct SqlMember {
        Oid roleid;
        std::exception_ptr error;
    } context{roleid, nullptr};
    auto member = [](const char *group, void *c) -> bool {
        auto *m = static_cast<SqlMember *>(c);
        if (m->error) return false;
        const Oid member_id = m->roleid;
        try {
            return call([&] {
                const Oid groupid = get_role_oid(group, true);
                return OidIsValid(member_id) && OidIsValid(groupid) && is_member_of_role_nosuper(member_id, groupid);
            });
        } catch (...) {
            m->error = std::current_exception();
            return false;
        }
    };
    const RoleFloorEntry *entry = resolve_role_floor(list, rolname, list.has_groups ? +member : nullptr, &context);
    if (context.error) std::rethrow_exception(context.error);
    return entry;
}

void init_role_floor() {
    define_role_floor_gucs();
    if (!loaded_at_startup()) return;  // no hooks: the floor is only shown in tls_audit.sessions
    AreaHooks hooks;
    hooks.area = "role floor";
    hooks.client_auth = client_auth_hook;
    register_hooks(hooks);
}

}  // namespace tls_audit::pg
