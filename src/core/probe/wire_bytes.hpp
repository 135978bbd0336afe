// Bytes of PostgreSQL's wire protocol as the probes read and quote them:
// big-endian lengths and codes, and a server's words made safe to show (a
// port that is not PostgreSQL may answer anything).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

TLS_AUDIT_AREA(probe);

namespace tls_audit {

// The big-endian int32 at the start of s (which holds at least 4 bytes).
std::uint32_t be32(std::string_view s);
// Appends v as a big-endian int32.
void put32(std::string &out, std::uint32_t v);
// At most limit bytes of text, every byte outside printable ASCII as '?',
// "..." when cut.
std::string printable(std::string_view text, std::size_t limit);
// One byte as "0x45 ('E')", or "0x16" when not printable.
std::string byte_text(unsigned char b);

}  // namespace tls_audit
