// Caching of parsed server files, keyed by path and file identity.
//
// A file is re-read only when what stat() says about it changes: device,
// inode, size or modification time (nanoseconds). Replacing a file by rename
// changes the inode; rewriting it in place changes size or mtime. A missing
// file has an identity too (with its errno), so that a file appearing later is
// noticed. Mode and owner are not part of the identity: callers that report
// them stat the file on every call.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/file_reader.hpp"

TLS_AUDIT_AREA(certs);

namespace tls_audit {

struct FileIdentity {
    bool exists = false;
    int error_number = 0;  // errno of a failed stat, when !exists
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;

    bool operator==(const FileIdentity &o) const {
        return exists == o.exists && error_number == o.error_number && device == o.device &&
               inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
    }
    bool operator!=(const FileIdentity &o) const { return !(*this == o); }
};

// stat(path) as an identity (never fails: a failed stat is an identity with
// exists = false). An empty path is "not configured" (exists = false, errno 0).
FileIdentity file_identity(const std::string &path);

// Parsed values of files, re-made only when a dependency's identity changes.
// One instance per backend; not thread-safe.
template <class T> class FileCache {
  public:
    explicit FileCache(std::size_t max_entries = 32) : max_entries_(max_entries) {}

    // The value cached under `key` when it was made from exactly `identities`;
    // otherwise load() is called and its result cached under them. An
    // exception from load() leaves the cache without an entry for `key`.
    std::shared_ptr<const T> get(const std::string &key, const std::vector<FileIdentity> &identities,
                                 const std::function<T()> &load) {
        auto it = entries_.find(key);
        if (it != entries_.end() && it->second.identities == identities) return it->second.value;
        if (it != entries_.end()) entries_.erase(it);
        auto value = std::make_shared<const T>(load());
        ++loads_;
        if (entries_.size() >= max_entries_) entries_.clear();  // paths changed many times: start over
        entries_.emplace(key, Entry{identities, value});
        return value;
    }

    // How many times a value was (re)made; for tests.
    std::size_t loads() const { return loads_; }
    std::size_t size() const { return entries_.size(); }
    void clear() { entries_.clear(); }

  private:
    struct Entry {
        std::vector<FileIdentity> identities;
        std::shared_ptr<const T> value;
    };
    std::size_t max_entries_;
    std::map<std::string, Entry> entries_;
    std::size_t loads_ = 0;
};

}  // namespace tls_audit
