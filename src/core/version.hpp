// The extension's version, as in pg_tls_audit.control.
#pragma once

namespace tls_audit {
inline constexpr const char *kVersion = "1.0";
}
