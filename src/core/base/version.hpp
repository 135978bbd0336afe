// The extension's version, as in pg_tls_audit.control.
#pragma once

#include "base/pure_cpp.hpp"

TLS_AUDIT_AREA(base);

// A macro too, for PG_MODULE_MAGIC_EXT's constant initializer.
#define TLS_AUDIT_VERSION_STRING "1.2"

namespace tls_audit {
inline constexpr const char *kVersion = TLS_AUDIT_VERSION_STRING;
}
