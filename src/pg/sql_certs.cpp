// tls_audit.certificate_info(bytea | text): describe certificates given as
// DER or PEM bytes. All parsing is the core's; this file only moves bytes in
// and rows out.
#include <string_view>

#include "guard.hpp"
#include "row.hpp"
#include "certs/x509.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_certificate_info);
}

using namespace tls_audit;

namespace {
enum CertificateInfoColumn {
    kCiPosition,
    kCiCertificate,  // pg::Row::certificate()'s columns
    kCertificateInfoColumns = kCiCertificate + pg::kCertificateColumns
};
}  // namespace

extern "C" Datum tls_audit_certificate_info(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        if (PG_ARGISNULL(0))
            throw CoreError(make_error("22004", "certificate input must not be NULL",
                                       "Pass DER bytes or PEM text of a certificate."));
        // bytea and text share the varlena layout; both arrive here. Check the
        // declared size before detoasting so that a huge value is refused
        // without being decompressed.
        Datum arg = PG_GETARG_DATUM(0);
        const std::size_t raw_size = pg::call([&] { return toast_raw_datum_size(arg); }) - VARHDRSZ;
        if (raw_size > kMaxCertificateInput)
            throw CoreError(make_error(sqlstate::kProgramLimit,
                                       "certificate input too large: " + std::to_string(raw_size) + " bytes",
                                       "The limit is " + std::to_string(kMaxCertificateInput) + " bytes."));
        struct varlena *value = pg::call([&] { return PG_DETOAST_DATUM_PACKED(arg); });
        std::string_view input(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));

        auto certs = certificate_infos(input).take();
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kCertificateInfoColumns, "tls_audit.certificate_info()");
        const std::int64_t now = pg::now_epoch();
        int position = 0;
        for (const CertInfo &cert : certs) {
            pg::Row row(rsinfo->setDesc);
            row.int4(kCiPosition, position++);
            row.certificate(kCiCertificate, cert, now);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}
