// The extension's version, as in pg_tls_audit.control.
#pragma once

#include "pure_cpp.hpp"

// A macro too, for PG_MODULE_MAGIC_EXT's constant initializer.
#define TLS_AUDIT_VERSION_STRING "1.2"

namespace tls_audit {
inline constexpr const char *kVersion = TLS_AUDIT_VERSION_STRING;
}
