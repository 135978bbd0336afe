// tls_audit.probe_plaintext() and the 1.1 tls_audit.probe_certificates()
// (ca_files text[]): plaintext acceptance and trust-store readiness from SQL.
// The 1.0 symbol tls_audit_probe_certificates stays in sql_probe.cpp
// for 1.0 installations that have not been updated yet.
#include <string>
#include <vector>

#include "guard.hpp"
#include "interrupts.hpp"
#include "probe/probe.hpp"
#include "sql_probe_args.hpp"
#include "probe/probe_plaintext.hpp"
#include "guc_probe.hpp"
#include "probe/probe_tls.hpp"
#include "row.hpp"
#include "probe/target_policy.hpp"
#include "certs/trust_paths.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_probe_plaintext);
PG_FUNCTION_INFO_V1(tls_audit_probe_certificates_v1_1);
}

using namespace tls_audit;
using tls_audit::pg_probe::null_argument;
using tls_audit::pg_probe::text_arg;

namespace {


void check_may_read_server_files(const std::string &what) {
    const bool may_read = pg::call([] { return has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES); });
    if (!may_read)
        throw CoreError(make_error(sqlstate::kInsufficientPrivilege, "permission denied to read " + what,
                                   "Only superusers and members of pg_read_server_files may name a server file."));
}

// The elements of a text[] argument; a NULL element is an error.
std::vector<std::string> text_array_arg(FunctionCallInfo fcinfo, int n, const char *name) {
    struct Elements {
        Datum *values;
        bool *nulls;
        int count;
    };
    Elements e = pg::call([&] {
        ArrayType *arr = PG_GETARG_ARRAYTYPE_P(n);
        Elements out{nullptr, nullptr, 0};
        if (ARR_NDIM(arr) > 1)
            ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("%s must be a one-dimensional array", name)));
        deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &out.values, &out.nulls, &out.count);
        return out;
    });
    if (static_cast<std::size_t>(e.count) > kMaxTrustBundles)
        throw CoreError(make_error(sqlstate::kProgramLimit,
                                   std::string(name) + " has " + std::to_string(e.count) + " elements, at most " +
                                       std::to_string(kMaxTrustBundles) + " are allowed"));
    std::vector<std::string> out;
    for (int i = 0; i < e.count; ++i) {
        if (e.nulls[i]) throw CoreError(make_error("22004", std::string(name) + " must not contain NULL"));
        const text *t = reinterpret_cast<const text *>(pg::call([&] { return PG_DETOAST_DATUM_PACKED(e.values[i]); }));
        out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    }
    return out;
}

}  // namespace

// probe_plaintext(host, port, user_name, dbname, timeout_ms)
extern "C" Datum tls_audit_probe_plaintext(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        if (PG_ARGISNULL(0)) null_argument("host");
        if (PG_ARGISNULL(1)) null_argument("port");
        if (PG_ARGISNULL(4)) null_argument("timeout_ms");
        ProbeTarget target;
        target.host = text_arg(fcinfo, 0);
        target.port = PG_GETARG_INT32(1);
        target.timeout_ms = PG_GETARG_INT32(4);
        const std::string user = PG_ARGISNULL(2) ? std::string(kPlaintextDefaultUser) : text_arg(fcinfo, 2);
        const std::string dbname = PG_ARGISNULL(3) ? std::string() : text_arg(fcinfo, 3);
        if (auto invalid = validate_target(target)) throw CoreError(*invalid);
        if (auto invalid = validate_startup_names(user, dbname)) throw CoreError(*invalid);
        pg_probe::check_target_allowed(target.host, target.port);

        auto report = probe_plaintext(target, user, dbname, pg::cancel_requested());
        if (!report.ok()) {
            if (pg_probe::is_cancel(report.error())) {
                interrupted = true;
                return Datum(0);
            }
            throw CoreError(report.error());
        }
        const PlaintextReport &p = report.value();
        pg::Row row(pg::result_descriptor(fcinfo));
        row.text(0, plaintext_verdict_name(p.verdict));
        row.text_or_null(1, p.auth_request);
        row.text_or_null(2, p.sqlstate);
        row.text_or_null(3, p.message);
        row.text_or_null(4, p.detail);
        row.text(5, p.user);
        row.text_or_null(6, p.database);
        return row.as_composite();
    });
    if (interrupted) pg_probe::service_interrupt();
    return result;
}

// probe_certificates(host, port, sni, timeout_ms, ca_file, ca_files) of 1.1.
extern "C" Datum tls_audit_probe_certificates_v1_1(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        const ProbeTarget target = pg_probe::read_target(fcinfo, true);
        std::vector<std::string> files;
        if (!PG_ARGISNULL(5)) files = text_array_arg(fcinfo, 5, "ca_files");
        const bool per_bundle = !files.empty();
        if (per_bundle) {
            check_may_read_server_files("ca_files");
            if (!target.ca_file.empty()) files.insert(files.begin(), target.ca_file);
        }
        // Bad bundles fail before any connection.
        std::vector<TrustBundle> bundles = load_trust_bundles(files).take();

        auto chain = probe_chain(target, pg::cancel_requested());
        if (!chain.ok()) {
            if (pg_probe::is_cancel(chain.error())) {
                interrupted = true;
                return Datum(0);
            }
            throw CoreError(chain.error());
        }
        const ChainReport &report = chain.value();
        // Without ca_files: the one store of 1.0 (ca_file or the system store),
        // with its anchor and path length added.
        if (!per_bundle) {
            X509StorePtr store = load_trust_store(target.ca_file).take();
            bundles.push_back(TrustBundle{target.ca_file, std::move(store)});
        }
        std::vector<TrustPathReport> paths = verify_trust_paths(report.presented_der, bundles).take();

        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        const std::int64_t now = pg::now_epoch();
        for (const TrustPathReport &path : paths) {
            int position = 0;
            for (const CertInfo &cert : report.certificates) {
                pg::Row row(rsinfo->setDesc);
                row.int4(0, position++);
                int c = row.certificate(1, cert, now);
                if (per_bundle) {
                    row.boolean(c++, path.verified);
                    row.text_or_null(c++, path.error);
                } else {
                    row.boolean(c++, report.verified);
                    row.text_or_null(c++, report.verify_error);
                }
                row.boolean(c++, report.hostname_match);
                row.text_or_null(c++, report.protocol);
                row.text_or_null(c++, report.cipher);
                row.text_or_null(c++, path.bundle);  // NULL: the system store
                row.text_or_null(c++, path.anchor_subject);
                row.text_or_null(c++, path.anchor_sha256);
                if (path.verified) row.int4(c++, path.path_length);
                else row.null(c++);
                row.put(rsinfo);
            }
        }
        return Datum(0);
    });
    if (interrupted) pg_probe::service_interrupt();
    return result;
}
