// The one way glue files include PostgreSQL headers: C linkage, and the
// warnings PostgreSQL's C headers raise under C++17 silenced here only
// (s_lock.h uses `register`, which C++17 removed).
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wregister"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/timestamp.h"
}
#pragma GCC diagnostic pop
