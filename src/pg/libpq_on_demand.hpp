// libpq, loaded on first use instead of linked (src/pg/libpq_on_demand.cpp).
//
// The library calls libpq's functions by their own names; this file's
// companion defines them (hidden, never exported) as forwarders that load
// the server's libpq the first time one of them is called. What is here is
// for the callers that want the load's outcome before calling libpq, as a
// value, and for the GUC check that must leave the process as it found it.
#pragma once

#include <optional>

#include "base/error.hpp"

namespace tls_audit::pg {

// Loads libpq unless it is loaded: nothing when it is, else why not (58P01
// or 42883, naming libpq, with dlerror()'s words and a HINT). A failure is
// not remembered: the next call tries again, so a libpq installed after the
// error is used without a restart, and a process never holds half a libpq.
std::optional<Error> load_libpq() noexcept;

// True when this process has loaded libpq through load_libpq() or a forwarder.
bool libpq_loaded() noexcept;

// Keeps the process's libpq as it was: when libpq was not loaded at the
// scope's start, it is unloaded at its end (its objects must be freed by
// then). For work that needs libpq briefly in a process that should not keep
// it: the postmaster, whose every mapped library each backend inherits.
class LibpqScope {
  public:
    LibpqScope() noexcept : was_loaded_(libpq_loaded()) {}
    ~LibpqScope();
    LibpqScope(const LibpqScope &) = delete;
    LibpqScope &operator=(const LibpqScope &) = delete;

  private:
    bool was_loaded_;
};

}  // namespace tls_audit::pg
