// The access matrix of pg_hba.conf as the glue reads it, shared by the hba
// SQL functions (sql_hba.cpp) and tls_audit.run_checks() (sql_checks.cpp).
#pragma once

#include "base/error.hpp"
#include "access/hba_match.hpp"

namespace tls_audit::pg {

// pg_hba_file_rules (with the caller's privileges), every role and database,
// role memberships (pg_auth_members, followed upward), this host's
// interfaces and PostgreSQL's regex engine for "/regex" entries. SPI must be
// connected. Runs in a subtransaction: an error (no privilege on
// pg_hba_file_rules) comes back as an Error with its message and SQLSTATE.
Expected<hba::Matrix> read_hba_matrix();

}  // namespace tls_audit::pg
