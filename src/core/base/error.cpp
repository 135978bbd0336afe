#include "base/error.hpp"

#include <new>

namespace tls_audit {

Error describe_current_exception() noexcept {
    try {
        try {
            throw;
        } catch (const CoreError &e) {
            return e.error();
        } catch (const std::bad_alloc &) {
            return Error{sqlstate::kOutOfMemory, "out of memory", {}, {}};
        } catch (const std::exception &e) {
            return Error{sqlstate::kInternal, std::string("internal error: ") + e.what(), {}, {}};
        } catch (...) {
            return Error{sqlstate::kInternal, "internal error: unknown exception", {}, {}};
        }
    } catch (...) {
        // Building the Error itself failed (no memory for the strings).
        return Error{};
    }
}

}  // namespace tls_audit
