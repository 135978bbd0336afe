// The extension's version, as in pg_tls_audit.control.
#pragma once

#include "pure_cpp.hpp"

namespace tls_audit {
inline constexpr const char *kVersion = "1.1";
}
