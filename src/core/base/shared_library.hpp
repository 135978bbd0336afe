// A shared library loaded when it is first needed (dlopen), instead of by
// the dynamic linker when the program or the extension is loaded.
//
// The extension uses it for libpq: every backend of a server that preloads
// the extension inherits each library the postmaster has mapped, and each
// one costs every connection page faults (its relocated data, its
// finalizers at exit), though libpq is only needed by a few functions
// (src/pg/libpq_on_demand.cpp). A library that cannot be loaded, or lacks a
// symbol, is an error value naming it with dlerror()'s words.
#pragma once

#include "base/pure_cpp.hpp"

#include <string>
#include <utility>

#include "base/error.hpp"

TLS_AUDIT_AREA(base);

namespace tls_audit {

class SharedLibrary {
  public:
    // dlopen(name, RTLD_NOW | RTLD_LOCAL): every symbol the library needs is
    // bound at once (a missing one is this error, not a crash at a later
    // call), and its symbols stay out of the process's global scope. A name
    // without a slash is searched as the dynamic linker searches it, with
    // the RUNPATH of the object that calls dlopen: this one's (the extension,
    // whose RUNPATH is the server's libdir). 58P01 when it cannot be loaded.
    static Expected<SharedLibrary> open(const std::string &name);

    SharedLibrary(SharedLibrary &&other) noexcept;
    SharedLibrary &operator=(SharedLibrary &&other) noexcept;
    SharedLibrary(const SharedLibrary &) = delete;
    SharedLibrary &operator=(const SharedLibrary &) = delete;
    // dlclose: the library is unmapped when no other reference holds it.
    ~SharedLibrary();

    // The address of `symbol` (dlsym), or 42883 naming the symbol and the
    // library. A symbol whose value is null is an error too: a caller wants
    // something to call or read.
    Expected<void *> symbol(const char *symbol) const;

    const std::string &name() const noexcept { return name_; }

  private:
    // By value and moved: nothing here can throw, so a handle is never
    // left without its owner.
    // cppcheck-suppress passedByValue
    SharedLibrary(std::string name, void *handle) noexcept : name_(std::move(name)), handle_(handle) {}

    std::string name_;
    void *handle_ = nullptr;
};

}  // namespace tls_audit
