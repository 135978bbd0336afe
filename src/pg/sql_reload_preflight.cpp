// tls_audit.reload_preflight() and tls_audit.reload_would_succeed(): the
// settings a reload would apply (the current ones, overridden by those
// changed in the configuration files and not applied yet, read from
// pg_file_settings through SPI) handed to the core's pre-flight, which builds
// a throw-away SSL_CTX in this backend. The running server's TLS state is
// never touched; the passphrase command is never run.
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "guard.hpp"
#include "interrupts.hpp"
#include "server_readers.hpp"
#include "certs/reload_preflight.hpp"
#include "row.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_reload_preflight);
PG_FUNCTION_INFO_V1(tls_audit_reload_would_succeed);
}

using namespace tls_audit;


extern "C" Datum tls_audit_reload_preflight(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        if (rsinfo->setDesc->natts != 4)
            throw CoreError(make_error(sqlstate::kInternal, "tls_audit.reload_preflight(): unexpected result columns",
                                       "The installed SQL script does not match the library; run ALTER "
                                       "EXTENSION pg_tls_audit UPDATE."));
        const pg::ReloadPlan plan = pg::reload_plan();
        // With ssl off (after the reload too) the server loads no TLS files.
        if (!plan.ssl) return Datum(0);
        for (const PreflightStage &stage : run_reload_preflight(plan.settings, pg::cancel_requested())) {
            pg::Row row(rsinfo->setDesc);
            row.text(0, stage.stage);
            row.text_or_null(1, stage.file);
            if (stage.ok) row.boolean(2, *stage.ok);
            row.text_or_null(3, stage.error);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}

extern "C" Datum tls_audit_reload_would_succeed(PG_FUNCTION_ARGS) {
    (void)fcinfo;
    return pg::guarded([&]() -> Datum {
        const pg::ReloadPlan plan = pg::reload_plan();
        if (!plan.ssl) return BoolGetDatum(true);
        return BoolGetDatum(preflight_would_succeed(run_reload_preflight(plan.settings, pg::cancel_requested())));
    });
}
