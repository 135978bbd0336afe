#include "guard.hpp"

namespace tls_audit::pg {

const char *PgError::what() const noexcept {
    return (edata_ != nullptr && edata_->message != nullptr) ? edata_->message : "PostgreSQL error";
}

void throw_pg_error(MemoryContext context) {
    // We are past PG_END_TRY: the error stack is restored, the error is still
    // in ErrorContext. Copy it out, then leave error state cleanly.
    MemoryContextSwitchTo(context);
    ErrorData *edata = CopyErrorData();
    FlushErrorState();
    throw PgError(edata);
}

void log_caught_error(MemoryContext context, const char *what) {
    MemoryContextSwitchTo(context);
    ErrorData *edata = CopyErrorData();
    FlushErrorState();
    ereport(LOG, (errmsg("pg_tls_audit: %s: %s", what, edata->message)));
    FreeErrorData(edata);
}

void report_error(const char *sqlstate, const char *message, const char *detail, const char *hint) {
    const bool valid_state = strlen(sqlstate) == 5;
    // The core stopped because a cancel callback said so (a file read, a
    // probe): let PostgreSQL service the pending interrupt with its own
    // message (cancel, statement_timeout, termination); no C++ frame is alive.
    if (strcmp(sqlstate, "57014") == 0) CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(valid_state ? MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3],
                                                         sqlstate[4])
                                        : ERRCODE_INTERNAL_ERROR),
                    errmsg_internal("%s", message), detail[0] != '\0' ? errdetail_internal("%s", detail) : 0,
                    hint[0] != '\0' ? errhint("%s", hint) : 0));
    pg_unreachable();
}

}  // namespace tls_audit::pg
