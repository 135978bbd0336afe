#include "certs/file_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

Error io_error(const std::string &what, const std::string &path, int err) {
    return make_error(sqlstate::kIoError, "could not " + what + " file \"" + path + "\": " + std::strerror(err));
}

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

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

Expected<std::string> read_whole_file(const std::string &path, std::size_t max_size) {
    if (path.empty()) return make_error(sqlstate::kInvalidParameter, "no file name given");
    if (path.find('\0') != std::string::npos)
        return make_error(sqlstate::kInvalidParameter, "file name contains a NUL byte");
    // O_NONBLOCK: opening a FIFO must not wait for a writer (regular files ignore it).
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) return io_error("open", path, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return io_error("stat", path, errno);
    if (!S_ISREG(st.st_mode))
        return make_error(sqlstate::kIoError, "\"" + path + "\" is not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > max_size)
        return make_error(sqlstate::kProgramLimit,
                          "file \"" + path + "\" is too large (" + std::to_string(st.st_size) + " bytes, at most " +
                              std::to_string(max_size) + ")");
    // One byte more than fstat promised, to notice a file that grew meanwhile.
    std::string out(static_cast<std::size_t>(st.st_size) + 1, '\0');
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::read(fd.get(), &out[done], out.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error("read", path, errno);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    if (done == out.size())
        return make_error(sqlstate::kIoError, "file \"" + path + "\" changed while being read",
                          "Try again once it is no longer being written.");
    out.resize(done);
    return out;
}

}  // namespace tls_audit
