// tls_audit.server_tls(), tls_audit.server_certificates() and
// tls_audit.ca_certificates(): the server's own TLS files as on disk, and the
// certificate it actually serves.
//
// "Served" comes from the handshake capture in shared memory when one was
// made since the last configuration reload (hook_certs_served.cpp); otherwise
// from a loopback STARTTLS self-probe of this server's own port (short
// timeout); otherwise it is unknown. served_source says which.
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "guard.hpp"
#include "hook_reload.hpp"
#include "row.hpp"
#include "server_readers.hpp"
#include "certs/server_files.hpp"
#include "certs/x509.hpp"
#include "base/tls_groups.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_server_tls);
PG_FUNCTION_INFO_V1(tls_audit_server_certificates);
PG_FUNCTION_INFO_V1(tls_audit_ca_certificates);
}

using namespace tls_audit;

namespace {

enum ServerTlsColumn {
    kSslEnabled,
    kCertFile,
    kKeyFile,
    kCaFile,
    kCrlFile,
    kLeafSubject,
    kNotAfter,
    kDaysLeft,
    kKeyMatchesCert,
    kKeyFileMode,
    kKeyFileOwner,
    kKeyFilePermissionsOk,
    kChainComplete,
    kChainError,
    kServedSha256,
    kFileSha256,
    kReloadPending,
    kMinProtocol,
    kMaxProtocol,
    kCiphers,
    kServedSource,
    kServedAt,
    kServedNotAfter,
    kServedDaysLeft,
    kServedError,
    kCrlNextUpdate,
    kFileErrors,
    kTls13Ciphers,  // 1.1; the 1.0 definition ends before it
    kGroups,
    kLastReloadAt,  // 1.1, with the reload history (hook_reload.cpp)
    kLastReloadOk,
    kLastReloadError,
    kOfferedGroups,  // 1.2; the 1.1 definition ends before it
    kOfferedGroupsSource,
    kHybridGroupsSupported,
    kServerTlsColumns
};

enum ServerCertificateColumn {
    kScSource,
    kScPosition,
    kScCertificate,  // pg::Row::certificate()'s columns
    kServerCertificateColumns = kScCertificate + pg::kCertificateColumns
};

enum CaCertificateColumn {
    kCaPosition,
    kCaCertificate,  // pg::Row::certificate()'s columns
    kCaCrlNextUpdate = kCaCertificate + pg::kCertificateColumns,
    kCaCrlPresent,  // 1.1; the 1.0 definition ends before it
    kCaCertificateColumns
};

}  // namespace

extern "C" Datum tls_audit_server_tls(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        pg::Row row(pg::result_descriptor(fcinfo));
        // The 1.0 and 1.1 definitions (before ALTER EXTENSION UPDATE) lack
        // the later columns.
        const int columns = row.columns();
        const bool v11 = columns != kTls13Ciphers;
        if (v11) pg::check_columns(columns, kServerTlsColumns, "tls_audit.server_tls()", kOfferedGroups);
        const bool v12 = columns == kServerTlsColumns;
        const pg::TlsSettings s = pg::read_tls_settings();
        const std::int64_t now = pg::now_epoch();
        row.boolean(kSslEnabled, s.ssl_enabled);
        row.text_or_null(kCertFile, s.files.cert_file);
        row.text_or_null(kKeyFile, s.files.key_file);
        row.text_or_null(kCaFile, s.files.ca_file);
        row.text_or_null(kCrlFile, s.files.crl_file);
        row.text_or_null(kMinProtocol, s.min_protocol);
        row.text_or_null(kMaxProtocol, s.max_protocol);
        row.text_or_null(kCiphers, s.ciphers);
        if (v11) {
            row.text_or_null(kTls13Ciphers, s.tls13_ciphers);
            row.text_or_null(kGroups, s.groups);
        }
        if (v11) {
            // The newest TLS (re)initialisation, when preloaded.
            const auto history = pg::reload_history();
            if (!history.empty()) {
                const pg::ReloadEvent &last = history.back();
                row.datum(kLastReloadAt, TimestampTzGetDatum(last.at));
                if (last.ok) row.boolean(kLastReloadOk, *last.ok);
                row.text_or_null(kLastReloadError, last.error);
            }
        }
        if (v12) {
            // What this OpenSSL can do, with or without ssl.
            row.boolean(kHybridGroupsSupported, !available_hybrid_groups().empty());
            if (s.ssl_enabled) {
                const pg::OfferedGroups offered = pg::read_offered_groups(s);
                if (offered.error.empty()) {
                    row.text_array(kOfferedGroups, offered.groups);
                    row.text(kOfferedGroupsSource, offered.source);
                } else {
                    pg::call([&] {
                        ereport(DEBUG1, (errmsg("tls_audit.server_tls(): offered groups unknown: %s",
                                                offered.error.c_str())));
                    });
                }
            }
        }
        row.text(kServedSource, "none");
        if (!s.ssl_enabled) return row.as_composite();

        const ServerFilesReport files = pg::read_server_files(s);
        if (!files.chain.empty()) {
            const CertInfo &leaf = files.chain.front();
            row.text(kLeafSubject, leaf.subject);
            row.timestamptz(kNotAfter, leaf.not_after);
            row.int4(kDaysLeft, days_left(leaf.not_after, now));
            row.text(kFileSha256, leaf.sha256);
        }
        if (files.key_matches_cert) row.boolean(kKeyMatchesCert, *files.key_matches_cert);
        if (files.key_permissions) {
            row.text(kKeyFileMode, files.key_permissions->mode);
            row.text(kKeyFileOwner, files.key_permissions->owner);
            row.boolean(kKeyFilePermissionsOk, files.key_permissions->ok);
        }
        if (files.chain_complete) row.boolean(kChainComplete, *files.chain_complete);
        row.text_or_null(kChainError, files.chain_error);
        if (files.crl_next_update) row.timestamptz(kCrlNextUpdate, *files.crl_next_update);
        if (!files.errors.empty()) row.text_array(kFileErrors, files.errors);

        const pg::Served served = pg::served_certificates(true, interrupted);
        if (interrupted) return Datum(0);
        row.text(kServedSource, served.source);
        row.text_or_null(kServedError, served.error);
        if (served.at) row.timestamptz(kServedAt, *served.at);
        if (!served.certs.empty()) {
            const CertInfo &leaf = served.certs.front();
            row.text(kServedSha256, leaf.sha256);
            row.timestamptz(kServedNotAfter, leaf.not_after);
            row.int4(kServedDaysLeft, days_left(leaf.not_after, now));
        }
        if (auto pending = reload_pending(served.certs, served.source == "handshake", files.chain))
            row.boolean(kReloadPending, *pending);
        return row.as_composite();
    });
    if (interrupted) pg::service_self_probe_interrupt();
    return result;
}

extern "C" Datum tls_audit_server_certificates(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kServerCertificateColumns, "tls_audit.server_certificates()");
        const pg::TlsSettings s = pg::read_tls_settings();
        if (!s.ssl_enabled) return Datum(0);
        const std::int64_t now = pg::now_epoch();
        const ServerFilesReport files = pg::read_server_files(s);
        const pg::Served served = pg::served_certificates(true, interrupted);
        if (interrupted) return Datum(0);
        auto emit = [&](const char *source, const std::vector<CertInfo> &certs) {
            int position = 0;
            for (const CertInfo &cert : certs) {
                pg::Row row(rsinfo->setDesc);
                row.text(kScSource, source);
                row.int4(kScPosition, position++);
                row.certificate(kScCertificate, cert, now);
                row.put(rsinfo);
            }
        };
        emit("file", files.chain);
        emit("served", served.certs);
        return Datum(0);
    });
    if (interrupted) pg::service_self_probe_interrupt();
    return result;
}

extern "C" Datum tls_audit_ca_certificates(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        // The 1.0 definition (before ALTER EXTENSION UPDATE) lacks the 1.1 columns (crl_present).
        pg::check_columns(rsinfo->setDesc->natts, kCaCertificateColumns, "tls_audit.ca_certificates()",
                          kCaCrlPresent);
        const bool v11 = rsinfo->setDesc->natts == kCaCertificateColumns;
        const pg::TlsSettings s = pg::read_tls_settings();
        if (!s.ssl_enabled || s.files.ca_file.empty()) return Datum(0);
        const std::int64_t now = pg::now_epoch();
        const ServerFilesReport files = pg::read_server_files(s);
        const bool crl_configured = !s.files.crl_file.empty() || !s.files.crl_dir.empty();
        for (std::size_t i = 0; i < files.ca_certificates.size(); ++i) {
            pg::Row row(rsinfo->setDesc);
            row.int4(kCaPosition, static_cast<std::int64_t>(i));
            row.certificate(kCaCertificate, files.ca_certificates[i], now);
            if (i < files.ca_crl_next_update.size() && files.ca_crl_next_update[i])
                row.timestamptz(kCaCrlNextUpdate, *files.ca_crl_next_update[i]);
            // NULL when no CRL is configured (the server then checks none).
            if (v11 && crl_configured)
                row.boolean(kCaCrlPresent, i < files.ca_crl_present.size() && files.ca_crl_present[i]);
            row.put(rsinfo);
        }
        return Datum(0);
    });
}
