#include "certs/file_cache.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace tls_audit {

namespace {

FileIdentity identity_from_stat(const struct stat &st) {
    FileIdentity id;
    id.exists = true;
    id.device = static_cast<std::uint64_t>(st.st_dev);
    id.inode = static_cast<std::uint64_t>(st.st_ino);
    id.size = static_cast<std::int64_t>(st.st_size);
    id.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    return id;
}

}  // namespace

FileIdentity file_identity(const std::string &path) {
    FileIdentity id;
    if (path.empty()) return id;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        id.error_number = errno;
        return id;
    }
    return identity_from_stat(st);
}

}  // namespace tls_audit
