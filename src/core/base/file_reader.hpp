// The one way the extension reads a file. Every reader of a server file
// (server_tls(), the reload pre-flight, the checks, the metrics, the
// auto-reload worker, the census file) goes through read_regular_file(), so
// that a FIFO, a device or a socket at a configured path is an error value
// at once, never a wait: the file is opened without blocking, must be a
// regular file (a symlink to one is followed, as the server follows it), is
// read up to a size cap, and a cancel callback is asked between chunks.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <functional>
#include <string>

#include "base/error.hpp"

TLS_AUDIT_AREA(base);

namespace tls_audit {

// Asked between steps of a long operation; true means "stop now". The glue
// passes one that reads PostgreSQL's cancel and die flags (src/pg/interrupts.hpp)
// and raises the interrupt once every C++ frame is gone.
using CancelCheck = std::function<bool()>;

// What a path is, following symlinks (stat()).
enum class FileKind { Missing, Regular, Directory, Fifo, Socket, CharDevice, BlockDevice, Other };

// "a FIFO", "a directory", "a character device", ... (for messages).
const char *file_kind_phrase(FileKind kind);

// stat(path) as a kind; Missing when stat fails (any errno). Never blocks.
FileKind file_kind_at(const std::string &path);

// Why a read failed, for callers that react to the kind of failure.
enum class FileReadFailure { None, BadName, Open, NotRegular, TooLarge, Grew, Read, Cancelled };

struct FileReadResult {
    std::string bytes;  // the content when failure == None
    FileReadFailure failure = FileReadFailure::None;
    FileKind kind = FileKind::Missing;  // what the opened path is (Missing when open failed)
    Error error;  // SQLSTATE and message when failure != None
    int error_number = 0;  // errno of a failed open, stat or read

    bool ok() const { return failure == FileReadFailure::None; }
};

// Reads chunks of this size, asking `cancel` before each.
inline constexpr std::size_t kFileReadChunk = 64 * 1024;

// Reads the whole regular file at `path`, at most `max_size` bytes.
// Errors name the path and the reason: not a regular file (58030, "is a FIFO,
// not a regular file"), larger than max_size (54000, refused without reading
// when fstat says so, or "grew while being read" when it grows past the cap
// or past its fstat size while being read), open or read errors (58030),
// cancelled (57014). Opens with O_NONBLOCK (a FIFO does not wait for a
// writer), O_NOCTTY (a terminal never becomes the controlling one) and
// O_CLOEXEC; reads never wait.
FileReadResult read_regular_file(const std::string &path, std::size_t max_size, const CancelCheck &cancel = {});

// The same as an Expected, for callers that only report the error.
Expected<std::string> read_file_bytes(const std::string &path, std::size_t max_size, const CancelCheck &cancel = {});

}  // namespace tls_audit
