// pg_tls_check --output FILE: replace FILE atomically, so that a reader (the
// node_exporter textfile collector, a monitoring agent) never sees half a report.
#pragma once

#include <optional>
#include <string>

#include "base/error.hpp"

namespace tls_audit::cli {

// Write `content` to a new temporary file beside `path` (same directory, so
// the rename cannot cross file systems), flush it to disk, then rename it over
// `path`. On failure the temporary file is removed and `path` is untouched.
// The file gets mode 0644 (readable by the collector's user).
std::optional<Error> write_file_atomically(const std::string &path, const std::string &content);

}  // namespace tls_audit::cli
