// tls_audit.probe_direct_tls(): the core's direct TLS probe (PostgreSQL 17+'s
// sslnegotiation=direct: no SSLRequest, ALPN "postgresql"), callable from SQL.
// The target, the allow-list and cancel are handled as in probe.cpp.
#include "guard.hpp"
#include "interrupts.hpp"
#include "probe/probe.hpp"
#include "probe/probe_direct.hpp"
#include "sql_probe_args.hpp"
#include "row.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_probe_direct_tls);
}

using namespace tls_audit;

extern "C" Datum tls_audit_probe_direct_tls(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        const ProbeTarget target = pg_probe::read_target(fcinfo, false);
        auto report = probe_direct_tls(target, pg::cancel_requested());
        if (!report.ok()) {
            if (pg_probe::is_cancel(report.error())) {
                interrupted = true;
                return Datum(0);
            }
            throw CoreError(report.error());
        }
        const DirectTlsReport &r = report.value();
        pg::Row row(pg::result_descriptor(fcinfo));
        row.boolean(0, r.accepted);
        row.text_or_null(1, r.protocol);
        row.text_or_null(2, r.cipher);
        row.text_or_null(3, r.alpn);
        row.text_or_null(4, r.error);
        return row.as_composite();
    });
    if (interrupted) pg_probe::service_interrupt();
    return result;
}
