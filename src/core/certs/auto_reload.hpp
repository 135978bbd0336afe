// Opt-in automatic reload (tls_audit.auto_reload): the decisions of the
// background worker, free of PostgreSQL.
//
//  * File identity: the TLS files (ssl_cert_file, ssl_key_file, ssl_ca_file,
//    ssl_crl_file, and every file of ssl_crl_dir) are watched by stat()
//    (following symlinks, so a Kubernetes secret volume swapping its "..data"
//    symlink is seen): device, inode, size, mtime, mode and owner. The content
//    is hashed (SHA-256) only when one of those changed since the previous
//    look, so an idle interval costs a few stat() calls.
//  * Stability: a changed state is acted on only once it has been seen
//    unchanged for one interval (a half-written file is not loaded).
//  * The decision: reload when the pre-flight passes and no other setting is
//    waiting in the configuration files (mode on), or regardless of them
//    (mode force); refuse (no reload) when the pre-flight fails.
//  * Log de-duplication: each refusal or wait is logged once per distinct
//    file state.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certs/reload_preflight.hpp"

TLS_AUDIT_AREA(certs);

namespace tls_audit {

enum class AutoReloadMode { Off, On, Force };
const char *auto_reload_mode_name(AutoReloadMode m);  // "off", "on", "force"

// One watched path as stat() (following symlinks) sees it.
struct WatchedFile {
    std::string path;          // as configured (for ssl_crl_dir: the directory's entry)
    bool exists = false;
    std::string error;         // why stat() failed (e.g. "No such file or directory")
    std::uint64_t device = 0, inode = 0, size = 0;
    std::int64_t mtime_ns = 0;
    std::uint32_t mode = 0, uid = 0;
    std::string sha256;        // of the content; empty when not hashed (unreadable)

    // Device, inode, size, mtime, mode and owner are the same.
    bool same_metadata(const WatchedFile &o) const;
    // The same file for reload purposes: same existence, content, mode and owner.
    bool same_content(const WatchedFile &o) const;
};

// The watched files, in a stable order.
struct WatchedState {
    std::vector<WatchedFile> files;
    bool same_content(const WatchedState &o) const;
    // A short, stable digest of the content identity (for de-duplication).
    std::string key() const;
};

// The paths of the settings: empty settings are skipped; ssl_crl_dir gives
// one entry per regular file in it (sorted), or the directory itself when it
// cannot be read.
struct WatchedSettings {
    std::string cert_file, key_file, ca_file, crl_file, crl_dir;
};

// Look at the files now. `previous` (the last look) lets an unchanged file
// keep its hash without reading it again. Content is read only through
// read_regular_file() (at most kMaxServerFileSize bytes): a FIFO, device or
// socket, or a file too large or growing, is not hashed (its metadata stands
// for it) and never waited on. Throws CoreError (57014) when `cancel` says stop.
WatchedState observe_files(const WatchedSettings &s, const WatchedState *previous, const CancelCheck &cancel = {});

// The paths observe_files() would stat, for the status view.
std::size_t watched_count(const WatchedState &s);

enum class AutoReloadAction {
    None,          // nothing changed, or the change is not stable yet
    Reload,        // pre-flight passed: signal the postmaster
    Refuse,        // pre-flight failed: no reload, WARNING
    WaitSettings,  // other settings are waiting in the configuration files
};
const char *auto_reload_action_name(AutoReloadAction a);  // none, reload, refuse, wait_settings

struct AutoReloadDecision {
    AutoReloadAction action = AutoReloadAction::None;
    bool log = false;       // first time for this file state: log it
    std::string message;    // what was done and why
};

// What the worker knows between intervals.
class AutoReloadTracker {
  public:
    // The files as the server loaded them (at start, or after a reload).
    void set_baseline(WatchedState s);
    bool has_baseline() const { return baseline_.has_value(); }

    // Feed one look at the files, at `now_ms`. True when the files differ
    // from the baseline and have been unchanged for `interval_ms`: the
    // pre-flight should run now.
    bool observe(const WatchedState &current, std::int64_t now_ms, std::int64_t interval_ms);

    // The files differ from the baseline (stable or not).
    bool changed() const { return changed_; }
    // When the current (changed) state was first seen; nullopt when unchanged.
    std::optional<std::int64_t> changed_since_ms() const { return changed_ ? std::optional(since_ms_) : std::nullopt; }
    const WatchedState &current() const { return current_; }

    // After observe() returned true: what to do, given the pre-flight's stages
    // and the names of the other settings waiting in the configuration files.
    // A Reload makes the current state the baseline; a Refuse is not retried
    // until the files change again (it returns None then); a WaitSettings is
    // retried at every call.
    // `chain_problem`: why the new certificate file's chain does not verify
    // (an intermediate missing); the server would load it, but clients could
    // not verify it, so an automatic reload refuses it too. Empty when fine.
    AutoReloadDecision decide(const std::vector<PreflightStage> &preflight,
                              const std::vector<std::string> &pending_settings, AutoReloadMode mode,
                              const std::string &chain_problem = {});

  private:
    std::optional<WatchedState> baseline_;
    WatchedState current_;
    bool have_current_ = false;
    bool changed_ = false;
    std::int64_t since_ms_ = 0;
    std::string refused_key_;  // the state the last Refuse was for
    std::string logged_key_;   // last (action, state) logged
};

}  // namespace tls_audit
