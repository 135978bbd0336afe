#include "output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace tls_audit::cli {

namespace {

Error io_error(const std::string &what, const std::string &path, int err) {
    return make_error(sqlstate::kIoError, "could not " + what + " \"" + path + "\": " + std::strerror(err));
}

}  // namespace

std::optional<Error> write_file_atomically(const std::string &path, const std::string &content) {
    // node_exporter only reads *.prom files: the temporary name must not end so.
    std::string tmpl = path + ".tmp.XXXXXX";
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    int fd = ::mkstemp(name.data());
    if (fd < 0) return io_error("create a temporary file for", path, errno);
    const std::string tmp(name.data());
    auto fail = [&](const std::string &what) {
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return io_error(what, tmp, err);
    };
    if (::fchmod(fd, 0644) != 0) return fail("set the mode of");
    const char *p = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("write");
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail("flush");
    if (::close(fd) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return io_error("close", tmp, err);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return io_error("rename the report to", path, err);
    }
    return std::nullopt;
}

}  // namespace tls_audit::cli
