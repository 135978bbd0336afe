#include "base/shared_library.hpp"

#include <dlfcn.h>

#include <utility>

namespace tls_audit {

namespace {

// dlerror()'s text, or a fallback when it has none (it is cleared by reading).
std::string last_dl_error(const char *fallback) {
    const char *e = dlerror();
    return e != nullptr ? std::string(e) : std::string(fallback);
}

}  // namespace

Expected<SharedLibrary> SharedLibrary::open(const std::string &name) {
    if (name.empty() || name.find('\0') != std::string::npos)
        return make_error(sqlstate::kInvalidParameter, "the name of a shared library must be a non-empty text");
    (void)dlerror();
    void *handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr)
        return make_error(sqlstate::kUndefinedFile,
                          "could not load the shared library \"" + name + "\": " + last_dl_error("unknown error"));
    return SharedLibrary(name, handle);
}

SharedLibrary::SharedLibrary(SharedLibrary &&other) noexcept
    : name_(std::move(other.name_)), handle_(std::exchange(other.handle_, nullptr)) {}

SharedLibrary &SharedLibrary::operator=(SharedLibrary &&other) noexcept {
    if (this != &other) {
        if (handle_ != nullptr) dlclose(handle_);
        name_ = std::move(other.name_);
        handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
}

SharedLibrary::~SharedLibrary() {
    if (handle_ != nullptr) dlclose(handle_);
}

Expected<void *> SharedLibrary::symbol(const char *symbol) const {
    if (handle_ == nullptr)
        return make_error(sqlstate::kInternal, "the shared library \"" + name_ + "\" is not loaded");
    (void)dlerror();
    void *address = dlsym(handle_, symbol);
    if (address == nullptr)
        return make_error(sqlstate::kUndefinedFunction, "the shared library \"" + name_ + "\" has no symbol \"" +
                                                            symbol + "\": " + last_dl_error("its value is null"));
    return address;
}

}  // namespace tls_audit
