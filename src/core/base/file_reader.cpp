#include "base/file_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace tls_audit {

namespace {

FileKind kind_of(mode_t mode) {
    if (S_ISREG(mode)) return FileKind::Regular;
    if (S_ISDIR(mode)) return FileKind::Directory;
    if (S_ISFIFO(mode)) return FileKind::Fifo;
    if (S_ISSOCK(mode)) return FileKind::Socket;
    if (S_ISCHR(mode)) return FileKind::CharDevice;
    if (S_ISBLK(mode)) return FileKind::BlockDevice;
    return FileKind::Other;
}

std::string quoted(const std::string &s) { return "\"" + s + "\""; }

FileReadResult failed(FileReadFailure why, FileKind kind, const char *sqlstate, std::string message,
                      std::string hint = {}, int error_number = 0) {
    FileReadResult r;
    r.error_number = error_number;
    r.failure = why;
    r.kind = kind;
    r.error = make_error(sqlstate, std::move(message), std::move(hint));
    return r;
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

const char *file_kind_phrase(FileKind kind) {
    switch (kind) {
        case FileKind::Missing: return "missing";
        case FileKind::Regular: return "a regular file";
        case FileKind::Directory: return "a directory";
        case FileKind::Fifo: return "a FIFO";
        case FileKind::Socket: return "a socket";
        case FileKind::CharDevice: return "a character device";
        case FileKind::BlockDevice: return "a block device";
        case FileKind::Other: return "not a regular file";
    }
    return "not a regular file";
}

FileKind file_kind_at(const std::string &path) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return FileKind::Missing;
    return kind_of(st.st_mode);
}

FileReadResult read_regular_file(const std::string &path, std::size_t max_size, const CancelCheck &cancel) {
    if (path.empty()) return failed(FileReadFailure::BadName, FileKind::Missing, sqlstate::kInvalidParameter, "no file name given");
    if (path.find('\0') != std::string::npos)
        return failed(FileReadFailure::BadName, FileKind::Missing, sqlstate::kInvalidParameter,
                      "file name contains a NUL byte");
    // O_NONBLOCK: opening a FIFO must not wait for a writer (regular files
    // ignore the flag). Symlinks are followed, as the server follows them.
    Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (fd.get() < 0) {
        const int err = errno;
        // A socket cannot be opened at all (ENXIO): say what it is.
        const FileKind at = file_kind_at(path);
        if (at != FileKind::Missing && at != FileKind::Regular)
            return failed(FileReadFailure::NotRegular, at, sqlstate::kIoError,
                          quoted(path) + " is " + file_kind_phrase(at) + ", not a regular file",
                          "Point the setting at a regular file; a FIFO or device there makes readers wait or read "
                          "forever.",
                          err);
        return failed(FileReadFailure::Open, FileKind::Missing, sqlstate::kIoError,
                      "could not open file " + quoted(path) + ": " + std::strerror(err), {}, err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        const int err = errno;
        return failed(FileReadFailure::Open, FileKind::Missing, sqlstate::kIoError,
                      "could not stat file " + quoted(path) + ": " + std::strerror(err), {}, err);
    }
    const FileKind kind = kind_of(st.st_mode);
    if (kind != FileKind::Regular)
        return failed(FileReadFailure::NotRegular, kind, sqlstate::kIoError,
                      quoted(path) + " is " + file_kind_phrase(kind) + ", not a regular file",
                      "Point the setting at a regular file; a FIFO or device there makes readers wait or read "
                      "forever.");
    if (static_cast<std::uint64_t>(st.st_size) > max_size)
        return failed(FileReadFailure::TooLarge, kind, sqlstate::kProgramLimit,
                      "file " + quoted(path) + " is too large (" + std::to_string(st.st_size) + " bytes, at most " +
                          std::to_string(max_size) + ")");
    // Up to one byte more than fstat promised (and than the cap), to notice a
    // file that grows while it is read.
    const std::size_t expected = static_cast<std::size_t>(st.st_size);
    std::string out;
    out.resize(expected + 1);
    std::size_t done = 0;
    while (done < out.size()) {
        if (cancel && cancel())
            return failed(FileReadFailure::Cancelled, kind, sqlstate::kQueryCanceled,
                          "reading file " + quoted(path) + " was cancelled");
        const std::size_t want = std::min(kFileReadChunk, out.size() - done);
        const ssize_t n = ::read(fd.get(), &out[done], want);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            return failed(FileReadFailure::Read, kind, sqlstate::kIoError,
                          "could not read file " + quoted(path) + ": " + std::strerror(err), {}, err);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    if (done > expected)
        return failed(FileReadFailure::Grew, kind, sqlstate::kIoError,
                      "file " + quoted(path) + " grew while being read", "Try again once it is no longer being written.");
    out.resize(done);
    FileReadResult r;
    r.bytes = std::move(out);
    r.kind = kind;
    return r;
}

Expected<std::string> read_file_bytes(const std::string &path, std::size_t max_size, const CancelCheck &cancel) {
    FileReadResult r = read_regular_file(path, max_size, cancel);
    if (!r.ok()) return r.error;
    return std::move(r.bytes);
}

}  // namespace tls_audit
