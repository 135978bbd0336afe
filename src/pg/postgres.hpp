// The one way glue files include PostgreSQL headers: C linkage, and the
// warnings PostgreSQL's C headers raise under C++17 silenced here only
// (s_lock.h uses `register`, which C++17 removed). Every PostgreSQL header a
// glue file needs is listed here, so no file repeats the extern "C" block
// and its pragmas.
#pragma once

#ifdef TLS_AUDIT_PURE_CPP
#error "PostgreSQL headers are for src/pg only; src/core and src/cli are pure C++ (see src/core/base/pure_cpp.hpp)"
#endif
// Core headers included after this one know they are in the glue.
#define TLS_AUDIT_GLUE 1

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wregister"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_control.h"
#include "catalog/pg_type.h"
#include "common/controldata_utils.h"
#include "commands/dbcommands.h"
#include "commands/user.h"
#include "common/ip.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/auth.h"
#include "libpq/crypt.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/postmaster.h"
#include "postmaster/syslogger.h"
#include "replication/worker_internal.h"
#include "replication/walsender.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/hsearch.h"
#include "utils/inet.h"
#include "utils/memutils.h"
#include "tcop/tcopprot.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"
// The server's libpq (client side: PQconninfoParse, PQconndefaults), for the
// outbound links (sql_outbound.cpp); loaded on first use, not linked
// (libpq_on_demand.cpp).
#include "libpq-fe.h"
}
// Headers and names that differ between the supported majors.
#include "compat.hpp"
#pragma GCC diagnostic pop
