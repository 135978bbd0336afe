// GUCs of the automatic reload (bgw_auto_reload.cpp). Both are sighup: set in
// postgresql.conf or with ALTER SYSTEM, applied by a reload. A value that
// cannot be applied keeps the previous one (at start: off, 60 s), so a typo
// never turns the automatic reload on.
#include "guc_auto_reload.hpp"

#include "postgres.hpp"

namespace tls_audit::pg {

namespace {

int mode = static_cast<int>(AutoReloadMode::Off);
int interval_s = 60;
constexpr int kMaxInterval = 24 * 3600;

const struct config_enum_entry mode_options[] = {{"off", static_cast<int>(AutoReloadMode::Off), false},
                                                 {"on", static_cast<int>(AutoReloadMode::On), false},
                                                 {"force", static_cast<int>(AutoReloadMode::Force), false},
                                                 {nullptr, 0, false}};

}  // namespace

AutoReloadMode auto_reload_mode() { return static_cast<AutoReloadMode>(mode); }
int auto_reload_interval_seconds() { return interval_s; }

void init_auto_reload_gucs() {
    DefineCustomEnumVariable(
        "tls_audit.auto_reload",
        "Reload the server when its TLS files change and the new ones would load (needs shared_preload_libraries).",
        "off: never. on: when ssl_cert_file, ssl_key_file, ssl_ca_file, ssl_crl_file or ssl_crl_dir changed, "
        "has been stable for tls_audit.auto_reload_interval and tls_audit.reload_preflight() passes, unless other "
        "settings are waiting in the configuration files. force: also then.",
        &mode, static_cast<int>(AutoReloadMode::Off), mode_options, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("tls_audit.auto_reload_interval",
                            "How often the automatic reload looks at the TLS files, and how long a change must be "
                            "stable before it is loaded.",
                            nullptr, &interval_s, 60, 1, kMaxInterval, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
                            nullptr);
}

}  // namespace tls_audit::pg
