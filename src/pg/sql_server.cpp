// tls_audit.server_tls(), tls_audit.server_certificates() and
// tls_audit.ca_certificates(): the server's own TLS files as on disk, and the
// certificate it actually serves.
//
// "Served" comes from the handshake capture in shared memory when one was
// made since the last configuration reload (hook_server_capture.cpp); otherwise
// from a loopback STARTTLS self-probe of this server's own port (short
// timeout); otherwise it is unknown. served_source says which.
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "guard.hpp"
#include "interrupts.hpp"
#include "probe.hpp"
#include "row.hpp"
#include "hook_server_capture.hpp"
#include "server_files.hpp"
#include "x509.hpp"

#include "postgres.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(tls_audit_server_tls);
PG_FUNCTION_INFO_V1(tls_audit_server_certificates);
PG_FUNCTION_INFO_V1(tls_audit_ca_certificates);
}

using namespace tls_audit;

namespace {

constexpr int kSelfProbeTimeoutMs = 2000;
// A self-probe answer is reused by this backend until its configuration is
// reloaded, and for at most this long.
constexpr std::int64_t kSelfProbeReuseSeconds = 60;

std::string setting(const char *name) {
    const char *value = pg::call([name] { return GetConfigOption(name, true, false); });
    return value != nullptr ? value : "";
}

struct Settings {
    bool ssl_enabled = false;
    ServerFileSettings files;
    std::string min_protocol, max_protocol, ciphers;
    std::string tls13_ciphers, groups;  // 18's ssl_tls13_ciphers ('' before 18); ssl_groups / ssl_ecdh_curve
};

Settings read_settings() {
    Settings s;
    s.ssl_enabled = setting("ssl") == "on";
    s.files.cert_file = setting("ssl_cert_file");
    s.files.key_file = setting("ssl_key_file");
    s.files.ca_file = setting("ssl_ca_file");
    s.files.crl_file = setting("ssl_crl_file");
    s.files.crl_dir = setting("ssl_crl_dir");
    s.files.server_uid = static_cast<std::uint32_t>(geteuid());
    s.min_protocol = setting("ssl_min_protocol_version");
    s.max_protocol = setting("ssl_max_protocol_version");
    s.ciphers = setting("ssl_ciphers");
    if (pg::compat::kHasTls13Ciphers) s.tls13_ciphers = setting("ssl_tls13_ciphers");
    s.groups = setting(pg::compat::kGroupsSetting);
    return s;
}

// One reader per backend: its caches live as long as the backend.
ServerFilesReport read_files(const Settings &s) {
    static ServerFilesReader reader;
    return reader.read(s.files);
}

struct Served {
    std::string source = "none";  // handshake | self_probe | none
    std::vector<CertInfo> certs;  // [0] = leaf
    std::optional<std::int64_t> at;
    std::string error;
};

struct SelfProbeMemo {
    bool valid = false;
    TimestampTz reload_time = 0;
    Served served;
};

Served self_probe(bool &interrupted) {
    static SelfProbeMemo memo;
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    if (memo.valid && memo.reload_time == PgReloadTime && memo.served.at &&
        now - *memo.served.at < kSelfProbeReuseSeconds && now >= *memo.served.at)
        return memo.served;

    Served served;
    const std::optional<std::string> host = self_probe_host(ListenAddresses != nullptr ? ListenAddresses : "");
    if (!host) {
        served.error = "listen_addresses is empty: no TCP address to probe";
        return served;
    }
    ProbeTarget target;
    target.host = *host;
    target.port = PostPortNumber;
    target.timeout_ms = kSelfProbeTimeoutMs;
    auto chain = probe_chain(target, pg::cancel_requested());
    if (!chain.ok()) {
        if (chain.error().sqlstate == sqlstate::kQueryCanceled) {
            interrupted = true;
            return served;
        }
        served.error = "self-probe of " + format_host_port(target.host, target.port) + " failed: " + chain.error().message;
        return served;  // not remembered: try again next time
    }
    served.source = "self_probe";
    served.certs = std::move(chain).value().certificates;
    served.at = now;
    if (served.certs.empty()) {
        served.source = "none";
        served.error = "the self-probe saw no certificate";
        return served;
    }
    memo.valid = true;
    memo.reload_time = PgReloadTime;
    memo.served = served;
    return served;
}

Served served_certificates(bool ssl_enabled, bool &interrupted) {
    Served served;
    if (!ssl_enabled) return served;
    if (auto capture = pg::latest_served_capture()) {
        // Current when the capturing backend forked after this backend's last
        // reload (or with the same one).
        if (capture->reload_time >= PgReloadTime) {
            for (const std::string &der : capture->der) {
                auto certs = parse_certificates(der);
                if (!certs.ok() || certs.value().empty()) break;
                served.certs.push_back(describe_certificate(certs.value().front().get()));
            }
            if (!served.certs.empty()) {
                served.source = "handshake";
                served.at = pg::timestamptz_to_epoch(capture->captured_at);
                return served;
            }
        }
    }
    return self_probe(interrupted);
}

// After a self-probe stopped for an interrupt: let PostgreSQL service it
// with its own message. Plain data only here.
void service_interrupt() {
    CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("canceling the self-probe of the server")));
}

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
        // The 1.0 definition (before ALTER EXTENSION UPDATE) lacks the 1.1 columns.
        const bool v11 = row.columns() != kTls13Ciphers;
        if (v11) pg::check_columns(row.columns(), kServerTlsColumns, "tls_audit.server_tls()");
        const Settings s = read_settings();
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
        row.text(kServedSource, "none");
        if (!s.ssl_enabled) return row.as_composite();

        const ServerFilesReport files = read_files(s);
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

        const Served served = served_certificates(true, interrupted);
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
    if (interrupted) service_interrupt();
    return result;
}

extern "C" Datum tls_audit_server_certificates(PG_FUNCTION_ARGS) {
    bool interrupted = false;
    Datum result = pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        pg::check_columns(rsinfo->setDesc->natts, kServerCertificateColumns, "tls_audit.server_certificates()");
        const Settings s = read_settings();
        if (!s.ssl_enabled) return Datum(0);
        const std::int64_t now = pg::now_epoch();
        const ServerFilesReport files = read_files(s);
        const Served served = served_certificates(true, interrupted);
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
    if (interrupted) service_interrupt();
    return result;
}

extern "C" Datum tls_audit_ca_certificates(PG_FUNCTION_ARGS) {
    return pg::guarded([&]() -> Datum {
        ReturnSetInfo *rsinfo = pg::materialize(fcinfo);
        // The 1.0 definition (before ALTER EXTENSION UPDATE) lacks the 1.1 columns (crl_present).
        pg::check_columns(rsinfo->setDesc->natts, kCaCertificateColumns, "tls_audit.ca_certificates()",
                          kCaCrlPresent);
        const bool v11 = rsinfo->setDesc->natts == kCaCertificateColumns;
        const Settings s = read_settings();
        if (!s.ssl_enabled || s.files.ca_file.empty()) return Datum(0);
        const std::int64_t now = pg::now_epoch();
        const ServerFilesReport files = read_files(s);
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
