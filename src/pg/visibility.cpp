#include "visibility.hpp"

#include "guard.hpp"

namespace tls_audit::pg {

Visibility::Visibility()
    : me_(GetUserId()), all_(pg::call([this] { return has_privs_of_role(me_, ROLE_PG_READ_ALL_STATS); })) {}

bool Visibility::sees(Oid role) const {
    if (all_ || role == me_) return true;
    if (role == InvalidOid) return false;
    const Oid me = me_;
    return pg::call([&] { return has_privs_of_role(me, role); });
}

bool Visibility::sees_role_name(const char *name) const {
    if (all_) return true;
    if (name == nullptr || name[0] == '\0') return false;
    auto known = by_name_.find(name);
    if (known != by_name_.end()) return known->second;
    const Oid role = pg::call([&] { return get_role_oid(name, true); });
    const bool seen = sees(role);
    by_name_.emplace(name, seen);
    return seen;
}

}  // namespace tls_audit::pg
