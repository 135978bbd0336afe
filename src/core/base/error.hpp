// Error values of the pure core.
//
// The core never calls PostgreSQL. It reports failures either as a returned
// Error (expected failures: bad input, unreachable host) or, for the few
// places where returning is awkward, by throwing CoreError. The PostgreSQL
// glue turns both into ereport(ERROR) with the SQLSTATE carried here, after
// every C++ frame is gone (see src/pg/guard.hpp). CMake compiles src/core
// without PostgreSQL's include path, so a PostgreSQL header here cannot build.
#pragma once

#include "base/pure_cpp.hpp"

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

TLS_AUDIT_AREA(base);

namespace tls_audit {

// SQLSTATE codes the core uses, as the five characters PostgreSQL expects.
namespace sqlstate {
inline constexpr const char *kInvalidParameter = "22023";  // invalid_parameter_value
inline constexpr const char *kDataCorrupted = "XX001";     // data_corrupted
inline constexpr const char *kProgramLimit = "54000";      // program_limit_exceeded
inline constexpr const char *kOutOfMemory = "53200";       // out_of_memory
inline constexpr const char *kIoError = "58030";           // io_error
inline constexpr const char *kUndefinedFile = "58P01";     // undefined_file
inline constexpr const char *kUndefinedFunction = "42883"; // undefined_function
inline constexpr const char *kConnectionFailure = "08006"; // connection_failure
inline constexpr const char *kCannotConnect = "08001";     // sqlclient_unable_to_establish_sqlconnection
inline constexpr const char *kQueryCanceled = "57014";     // query_canceled
inline constexpr const char *kInsufficientPrivilege = "42501";
inline constexpr const char *kInternal = "XX000";          // internal_error
}  // namespace sqlstate

// A failure described as PostgreSQL will report it.
struct Error {
    std::string sqlstate = sqlstate::kInternal;
    std::string message;
    std::string detail;  // optional
    std::string hint;    // optional
};

inline Error make_error(const char *state, std::string message, std::string hint = {},
                        std::string detail = {}) {
    return Error{state, std::move(message), std::move(detail), std::move(hint)};
}

// Thrown where a value cannot be returned; carries a complete Error.
class CoreError : public std::runtime_error {
  public:
    explicit CoreError(Error e) : std::runtime_error(e.message), error_(std::move(e)) {}
    const Error &error() const noexcept { return error_; }

  private:
    Error error_;
};

// Either a value or an Error (C++17 has no std::expected).
template <class T> class Expected {
  public:
    Expected(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
    Expected(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

    bool ok() const noexcept { return std::holds_alternative<T>(v_); }
    explicit operator bool() const noexcept { return ok(); }
    const T &value() const & { return std::get<T>(v_); }
    T &value() & { return std::get<T>(v_); }
    T &&value() && { return std::get<T>(std::move(v_)); }
    const Error &error() const { return std::get<Error>(v_); }
    // The value, or throw CoreError: for callers that want exceptions.
    T take() && {
        if (!ok()) throw CoreError(std::get<Error>(v_));
        return std::get<T>(std::move(v_));
    }

  private:
    std::variant<T, Error> v_;
};

// Describe the exception currently being handled (call only inside a catch
// block) as an Error: CoreError keeps its own, bad_alloc becomes out of
// memory, anything else an internal error. Never throws.
Error describe_current_exception() noexcept;

}  // namespace tls_audit
