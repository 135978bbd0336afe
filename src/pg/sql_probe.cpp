// tls_audit.probe() and tls_audit.probe_certificates(): the core's STARTTLS
// probe, callable from SQL. The probe polls PostgreSQL's cancel flags
// (a plain read) so that cancel and statement_timeout stop it; the
// interrupt itself is then serviced after every C++ frame is gone.
#include <string>

#include "guard.hpp"
#include "interrupts.hpp"
#include "probe/probe.hpp"
#include "sql_probe_args.hpp"
#include "guc_probe.hpp"
#include "row.hpp"
#include "probe/target_policy.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_probe);
PG_FUNCTION_INFO_V1(tls_audit_probe_certificates);
}

using namespace tls_audit;

// Shared with probe_enumerate.cpp through probe_args.hpp.
namespace tls_audit::pg_probe {

std::string text_arg(FunctionCallInfo fcinfo, int n) {
    const text *t = pg::call([&] { return PG_GETARG_TEXT_PP(n); });
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

[[noreturn]] void null_argument(const char *name) {
    throw CoreError(make_error("22004", std::string(name) + " must not be NULL"));
}

// The target from (host, port, sni, timeout_ms[, ca_file]), checked against
// tls_audit.probe_allowed_hosts and the caller's right to read server files.
ProbeTarget read_target(FunctionCallInfo fcinfo, bool with_ca_file, int sni_arg) {
    const int timeout_arg = sni_arg + 1;
    ProbeTarget target;
    if (PG_ARGISNULL(0)) null_argument("host");
    if (PG_ARGISNULL(1)) null_argument("port");
    if (PG_ARGISNULL(timeout_arg)) null_argument("timeout_ms");
    target.host = text_arg(fcinfo, 0);
    target.port = PG_GETARG_INT32(1);
    if (!PG_ARGISNULL(sni_arg)) target.sni = text_arg(fcinfo, sni_arg);
    target.timeout_ms = PG_GETARG_INT32(timeout_arg);
    if (with_ca_file && !PG_ARGISNULL(timeout_arg + 1)) {
        target.ca_file = text_arg(fcinfo, timeout_arg + 1);
        // The file is opened by the server process: same rule as pg_read_file().
        const bool may_read = pg::call([] { return has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES); });
        if (!may_read)
            throw CoreError(make_error(sqlstate::kInsufficientPrivilege,
                                       "permission denied to read ca_file \"" + target.ca_file + "\"",
                                       "Only superusers and members of pg_read_server_files may name a server file."));
    }
    if (auto invalid = validate_target(target)) throw CoreError(*invalid);
    check_target_allowed(target.host, target.port);
    return target;
}

// tls_audit.probe_allowed_hosts: fail closed when its start value was refused.
void check_target_allowed(const std::string &host, int port) {
    if (pg::probe_allowed_hosts_refused())
        throw CoreError(make_error(sqlstate::kInsufficientPrivilege,
                                   "no probe target is allowed: the value of tls_audit.probe_allowed_hosts in the "
                                   "configuration files could not be applied at server start",
                                   "Correct tls_audit.probe_allowed_hosts (the server log and tls_audit.run_checks() "
                                   "say what is wrong) and reload the configuration."));
    auto allowed = parse_allowed_hosts(pg::probe_allowed_hosts()).take();
    if (!host_allowed(host, port, allowed))
        throw CoreError(make_error(sqlstate::kInsufficientPrivilege,
                                   "probe target \"" + host + "\" port " + std::to_string(port) +
                                       " is not allowed by tls_audit.probe_allowed_hosts",
                                   "Add the host (or host:port) to tls_audit.probe_allowed_hosts, or leave the "
                                   "setting empty."));
}

bool is_cancel(const Error &e) { return e.sqlstate == sqlstate::kQueryCanceled; }

// After a probe stopped for an interrupt: let PostgreSQL service it (cancel,
// statement_timeout, termination) with its own message. Plain data only here.
void service_interrupt() {
    CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("probe canceled")));
}

}  // namespace tls_audit::pg_probe

using namespace tls_audit::pg_probe;

extern "C" Datum tls_audit_probe(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        const ProbeTarget target = read_target(fcinfo, false);
        auto reports = probe_protocols(target, pg::cancel_requested());
        if (!reports.ok()) {
            if (is_cancel(reports.error())) {
                interrupted = true;
                return Datum(0);
            }
            throw CoreError(reports.error());
        }
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        for (const ProtocolReport &r : reports.value()) {
            pg::Row row(rsinfo->setDesc);
            row.text(0, protocol_name(r.protocol));
            row.boolean(1, r.accepted);
            row.text_or_null(2, r.cipher);
            row.text_or_null(3, r.error);
            row.put(rsinfo);
        }
        return Datum(0);
    });
    if (interrupted) service_interrupt();
    return result;
}

namespace {
enum ProbeCertificateColumn {
    kPcPosition,
    kPcCertificate,  // pg::Row::certificate()'s columns
    kPcVerified = kPcCertificate + pg::kCertificateColumns,
    kPcVerifyError,
    kPcHostnameMatch,
    kPcProtocol,
    kPcCipher,
    kProbeCertificateColumns
};
}  // namespace

extern "C" Datum tls_audit_probe_certificates(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        const ProbeTarget target = read_target(fcinfo, true);
        auto chain = probe_chain(target, pg::cancel_requested());
        if (!chain.ok()) {
            if (is_cancel(chain.error())) {
                interrupted = true;
                return Datum(0);
            }
            throw CoreError(chain.error());
        }
        const ChainReport &report = chain.value();
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        const std::int64_t now = pg::now_epoch();
        int position = 0;
        for (const CertInfo &cert : report.certificates) {
            pg::Row row(rsinfo->setDesc);
            row.int4(kPcPosition, position++);
            row.certificate(kPcCertificate, cert, now);
            row.boolean(kPcVerified, report.verified);
            row.text_or_null(kPcVerifyError, report.verify_error);
            row.boolean(kPcHostnameMatch, report.hostname_match);
            row.text_or_null(kPcProtocol, report.protocol);
            row.text_or_null(kPcCipher, report.cipher);
            row.put(rsinfo);
        }
        return Datum(0);
    });
    if (interrupted) service_interrupt();
    return result;
}
