// Who may see whose connections: the one visibility rule of tls_audit.sessions
// and the census (and anything later that shows other roles' connections).
//
// pg_stat_activity's rule: the caller sees the details of a connection made
// under role R when the caller has the privileges of pg_read_all_stats
// (superusers do), or is R, or has the privileges of R (a member that
// inherits it). Census entries carry a role name, not an OID: the name is
// looked up as it is now; a name no role has any more (dropped, renamed), or
// none at all (tls_rejected entries), is seen only with pg_read_all_stats.
#pragma once

#include <map>
#include <string>

#include "postgres.hpp"

namespace tls_audit::pg {

class Visibility {
  public:
    // The rule for the current user (GetUserId()).
    Visibility();

    // A connection made under `role` (InvalidOid: unknown role).
    bool sees(Oid role) const;
    // A connection recorded under the role name `name` ("" or nullptr: unknown).
    // Answers are remembered per name for the life of this object.
    bool sees_role_name(const char *name) const;

  private:
    Oid me_;
    bool all_;
    mutable std::map<std::string, bool> by_name_;
};

}  // namespace tls_audit::pg
