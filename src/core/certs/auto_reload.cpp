// See auto_reload.hpp.
#include "certs/auto_reload.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <dirent.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "base/file_reader.hpp"
#include "certs/server_files.hpp"  // kMaxServerFileSize

namespace tls_audit {

namespace {

std::string hex(const unsigned char *p, std::size_t n) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(digits[p[i] >> 4]);
        out.push_back(digits[p[i] & 0xf]);
    }
    return out;
}

// SHA-256 of the file's content; empty when it cannot be read (not a
// regular file, too large, growing, unreadable).
std::string hash_file(const std::string &path, const CancelCheck &cancel) {
    FileReadResult r = read_regular_file(path, kMaxServerFileSize, cancel);
    if (r.failure == FileReadFailure::Cancelled) throw CoreError(r.error);
    if (!r.ok()) return {};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(r.bytes.data(), r.bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
    return hex(md, len);
}

WatchedFile stat_path(const std::string &path, const WatchedState *previous, const CancelCheck &cancel) {
    WatchedFile id;
    id.path = path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        id.error = std::strerror(errno);
        return id;
    }
    id.exists = true;
    id.device = static_cast<std::uint64_t>(st.st_dev);
    id.inode = static_cast<std::uint64_t>(st.st_ino);
    id.size = static_cast<std::uint64_t>(st.st_size);
    id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    id.mode = static_cast<std::uint32_t>(st.st_mode);
    id.uid = static_cast<std::uint32_t>(st.st_uid);
    if (S_ISDIR(st.st_mode)) return id;  // a directory has no content of its own
    if (previous != nullptr) {
        for (const WatchedFile &p : previous->files)
            if (p.path == path && p.same_metadata(id) && !p.sha256.empty()) {
                id.sha256 = p.sha256;
                return id;
            }
    }
    id.sha256 = hash_file(path, cancel);
    return id;
}

void add_directory(WatchedState &out, const std::string &dir, const WatchedState *previous,
                   const CancelCheck &cancel) {
    DIR *d = ::opendir(dir.c_str());
    if (d == nullptr) {
        out.files.push_back(stat_path(dir, previous, cancel));
        return;
    }
    std::vector<std::string> names;
    while (const dirent *e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        names.push_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    // The directory itself: an added or removed entry changes its mtime.
    out.files.push_back(stat_path(dir, previous, cancel));
    for (const std::string &name : names) {
        const std::string path = dir + "/" + name;
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) continue;
        out.files.push_back(stat_path(path, previous, cancel));
    }
}

}  // namespace

const char *auto_reload_mode_name(AutoReloadMode m) {
    switch (m) {
        case AutoReloadMode::Off: return "off";
        case AutoReloadMode::On: return "on";
        case AutoReloadMode::Force: return "force";
    }
    return "off";
}

const char *auto_reload_action_name(AutoReloadAction a) {
    switch (a) {
        case AutoReloadAction::None: return "none";
        case AutoReloadAction::Reload: return "reload";
        case AutoReloadAction::Refuse: return "refuse";
        case AutoReloadAction::WaitSettings: return "wait_settings";
    }
    return "none";
}

bool WatchedFile::same_metadata(const WatchedFile &o) const {
    return exists == o.exists && device == o.device && inode == o.inode && size == o.size &&
           mtime_ns == o.mtime_ns && mode == o.mode && uid == o.uid;
}

bool WatchedFile::same_content(const WatchedFile &o) const {
    if (path != o.path || exists != o.exists || mode != o.mode || uid != o.uid) return false;
    if (!exists) return true;
    // A directory (ssl_crl_dir): its entries are compared one by one.
    if (S_ISDIR(mode)) return true;
    // Unreadable content: fall back to the metadata.
    if (sha256.empty() || o.sha256.empty()) return same_metadata(o);
    return sha256 == o.sha256;
}

bool WatchedState::same_content(const WatchedState &o) const {
    if (files.size() != o.files.size()) return false;
    for (std::size_t i = 0; i < files.size(); ++i)
        if (!files[i].same_content(o.files[i])) return false;
    return true;
}

std::string WatchedState::key() const {
    std::string all;
    for (const WatchedFile &f : files) {
        all += f.path;
        all += '\0';
        if (!f.exists) {
            all += "missing";
        } else {
            all += std::to_string(f.mode) + ":" + std::to_string(f.uid) + ":";
            all += f.sha256.empty() ? std::to_string(f.inode) + ":" + std::to_string(f.size) + ":" +
                                          std::to_string(f.mtime_ns)
                                    : f.sha256;
        }
        all += '\n';
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(all.data(), all.size(), md, &len, EVP_sha256(), nullptr) != 1) return all;
    return hex(md, 8);  // 16 hex digits: enough to tell states apart
}

WatchedState observe_files(const WatchedSettings &s, const WatchedState *previous, const CancelCheck &cancel) {
    WatchedState out;
    for (const std::string *p : {&s.cert_file, &s.key_file, &s.ca_file, &s.crl_file})
        if (!p->empty()) out.files.push_back(stat_path(*p, previous, cancel));
    if (!s.crl_dir.empty()) add_directory(out, s.crl_dir, previous, cancel);
    return out;
}

std::size_t watched_count(const WatchedState &s) { return s.files.size(); }

void AutoReloadTracker::set_baseline(WatchedState s) {
    baseline_ = std::move(s);
    current_ = *baseline_;
    have_current_ = true;
    changed_ = false;
    refused_key_.clear();
}

bool AutoReloadTracker::observe(const WatchedState &current, std::int64_t now_ms, std::int64_t interval_ms) {
    if (!baseline_) {
        set_baseline(current);
        return false;
    }
    const bool same_as_last = have_current_ && current.same_content(current_);
    if (!same_as_last) {
        current_ = current;
        have_current_ = true;
        since_ms_ = now_ms;
    } else {
        current_ = current;  // keep the newest metadata (hashes are reused from it)
    }
    changed_ = !current.same_content(*baseline_);
    if (!changed_) {
        refused_key_.clear();
        return false;
    }
    if (now_ms - since_ms_ < interval_ms) return false;  // not stable yet
    // A refused state is not tried again until the files change.
    return current.key() != refused_key_;
}

AutoReloadDecision AutoReloadTracker::decide(const std::vector<PreflightStage> &preflight,
                                             const std::vector<std::string> &pending_settings,
                                             AutoReloadMode mode, const std::string &chain_problem) {
    AutoReloadDecision d;
    if (mode == AutoReloadMode::Off || !changed_) return d;
    const std::string state = current_.key();
    if (!preflight_would_succeed(preflight)) {
        d.action = AutoReloadAction::Refuse;
        d.message = "the TLS files changed but would not load, so the server was not reloaded: " +
                    preflight_failure(preflight);
        refused_key_ = state;
    } else if (!chain_problem.empty()) {
        d.action = AutoReloadAction::Refuse;
        d.message = "the TLS files changed but the new certificate chain does not verify, so the server was not "
                    "reloaded (clients could not verify it): " +
                    chain_problem;
        refused_key_ = state;
    } else if (mode == AutoReloadMode::On && !pending_settings.empty()) {
        d.action = AutoReloadAction::WaitSettings;
        std::string names;
        for (const std::string &n : pending_settings) names += (names.empty() ? "" : ", ") + n;
        d.message = "the TLS files changed and would load, but the server was not reloaded: other settings "
                    "are waiting in the configuration files and a reload would apply them too (" +
                    names + ")";
    } else {
        d.action = AutoReloadAction::Reload;
        d.message = "the TLS files changed and the reload pre-flight passed: reloading";
        if (mode == AutoReloadMode::Force && !pending_settings.empty()) {
            std::string names;
            for (const std::string &n : pending_settings) names += (names.empty() ? "" : ", ") + n;
            d.message += " (tls_audit.auto_reload = force: also applies " + names + ")";
        }
        d.log = true;  // every reload is logged
        baseline_ = current_;
        changed_ = false;
        logged_key_.clear();
        return d;
    }
    const std::string log_key = std::string(auto_reload_action_name(d.action)) + ":" + state;
    d.log = log_key != logged_key_;
    logged_key_ = log_key;
    return d;
}

}  // namespace tls_audit
