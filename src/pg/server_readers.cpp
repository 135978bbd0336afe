#include "server_readers.hpp"

#include <ctime>

#include <unistd.h>

#include "guard.hpp"
#include "hook_certs_served.hpp"
#include "interrupts.hpp"
#include "probe/probe.hpp"
#include "row.hpp"
#include "spi_query.hpp"
#include "base/tls_groups.hpp"

#include <openssl/ssl.h>

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

constexpr int kSelfProbeTimeoutMs = 2000;
// A self-probe answer is reused by this backend until its configuration is
// reloaded, and for at most this long.
constexpr std::int64_t kSelfProbeReuseSeconds = 60;

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
    auto chain = probe_chain(target, cancel_requested());
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

struct Pending {
    std::vector<std::pair<std::string, std::string>> values;  // lower-case name, value
    std::string unreadable;  // why pg_file_settings could not be read
};

// The TLS settings as the configuration files name them now (a reload
// applies them): the last line of each name, when it can be applied and no
// command-line option overrides it. Read in a subtransaction: a caller who may not
// read pg_file_settings gets the current settings only (said at DEBUG1:
// run_checks() calls this for pg_monitor members on every run).
Pending pending_settings() {
    Pending out;
    call([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    // The last line of each name is the one a reload applies ("applied" says
    // it can be, not that it was); a command-line value wins over the files.
    auto rows = spi_query("SELECT f.n, f.setting FROM ("
                          "SELECT DISTINCT ON (pg_catalog.lower(name)) pg_catalog.lower(name) AS n, setting, "
                          "applied, error FROM pg_catalog.pg_file_settings "
                          "WHERE pg_catalog.lower(name) LIKE 'ssl%' "
                          "ORDER BY pg_catalog.lower(name), seqno DESC) AS f "
                          "WHERE f.applied AND f.error IS NULL AND NOT EXISTS ("
                          "SELECT 1 FROM pg_catalog.pg_settings AS s "
                          "WHERE s.name = f.n AND s.source = 'command line')",
                          2);
    call([] { SPI_finish(); });
    if (!rows.ok()) {
        out.unreadable = rows.error().message;
        return out;
    }
    for (const auto &row : rows.value())
        if (row[0] && row[1]) out.values.emplace_back(*row[0], *row[1]);
    return out;
}

}  // namespace

std::string setting(const char *name) {
    const char *value = call([name] { return GetConfigOption(name, true, false); });
    return value != nullptr ? value : "";
}


TlsSettings read_tls_settings() {
    TlsSettings s;
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
    if (compat::kHasTls13Ciphers) s.tls13_ciphers = setting("ssl_tls13_ciphers");
    s.groups = setting(compat::kGroupsSetting);
    return s;
}

OfferedGroups read_offered_groups(const TlsSettings &s) {
    OfferedGroups out;
    // The postmaster rebuilds its context on reload and this backend keeps
    // the one it forked with: its own is the server's only when no reload
    // came after the backend started.
    if (MyProcPort != nullptr && MyProcPort->ssl_in_use && MyProcPort->ssl != nullptr &&
        MyStartTimestamp >= PgReloadTime) {
        out.groups = offered_groups(SSL_get_SSL_CTX(static_cast<SSL *>(MyProcPort->ssl)));
        if (!out.groups.empty()) {
            out.source = "session";
            return out;
        }
    }
    auto built = offered_groups_for_setting(s.groups, compat::kGroupsIsList);
    if (!built.ok()) {
        out.error = built.error().message;
        return out;
    }
    out.groups = std::move(built).value();
    out.source = "settings";
    return out;
}

// One reader per backend: its caches live as long as the backend.
ServerFilesReport read_server_files(const TlsSettings &s) {
    static ServerFilesReader reader;
    return reader.read(s.files, cancel_requested());
}


Served served_certificates(bool ssl_enabled, bool &interrupted) {
    Served served;
    if (!ssl_enabled) return served;
    if (auto capture = latest_served_capture()) {
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
                served.at = timestamptz_to_epoch(capture->captured_at);
                return served;
            }
        }
    }
    return self_probe(interrupted);
}

[[noreturn]] void service_self_probe_interrupt() {
    CHECK_FOR_INTERRUPTS();
    ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("canceling the self-probe of the server")));
}

ReloadPlan reload_plan() {
    const Pending pending = pending_settings();
    if (!pending.unreadable.empty()) {
        const std::string why = pending.unreadable;
        call([&] {
            ereport(DEBUG1, (errmsg("tls_audit.reload_preflight(): settings changed in the configuration files "
                                    "are not seen: %s",
                                    why.c_str()),
                             errhint("Only the current settings are checked. Superusers, or roles granted "
                                     "SELECT on pg_file_settings and EXECUTE on pg_show_all_file_settings(), "
                                     "see the pending ones.")));
        });
    }
    auto value = [&](const char *name) {
        for (const auto &[n, v] : pending.values)
            if (n == name) return v;
        return setting(name);
    };
    auto on = [&](const char *name) {
        // parse_bool()'s spellings (a pending value is as written in the file).
        bool result = false;
        const std::string v = value(name);
        return call([&] { return parse_bool(v.c_str(), &result); }) && result;
    };
    ReloadPlan p;
    p.ssl = on("ssl");
    auto &s = p.settings;
    s.cert_file = value("ssl_cert_file");
    s.key_file = value("ssl_key_file");
    s.ca_file = value("ssl_ca_file");
    s.crl_file = value("ssl_crl_file");
    s.crl_dir = value("ssl_crl_dir");
    s.dh_params_file = value("ssl_dh_params_file");
    s.ciphers = value("ssl_ciphers");
    if (compat::kHasTls13Ciphers) s.tls13_ciphers = value("ssl_tls13_ciphers");
    s.groups = value(compat::kGroupsSetting);
    s.groups_is_list = compat::kGroupsIsList;
    s.min_protocol = value("ssl_min_protocol_version");
    s.max_protocol = value("ssl_max_protocol_version");
    s.passphrase_command = !value("ssl_passphrase_command").empty();
    s.passphrase_supports_reload = on("ssl_passphrase_command_supports_reload");
    s.server_uid = static_cast<std::uint32_t>(::geteuid());
    return p;
}

}  // namespace tls_audit::pg
