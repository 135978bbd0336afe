#include "probe/wire_bytes.hpp"

#include <cstdio>

namespace tls_audit {

std::uint32_t be32(std::string_view s) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[3]));
}

void put32(std::string &out, std::uint32_t v) {
    for (int shift : {24, 16, 8, 0}) out += static_cast<char>((v >> shift) & 0xff);
}

std::string printable(std::string_view text, std::size_t limit) {
    std::string out;
    for (char c : text.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (text.size() > limit) out += "...";
    return out;
}

std::string byte_text(unsigned char b) {
    char buf[16];
    if (b >= 0x20 && b < 0x7f)
        std::snprintf(buf, sizeof buf, "0x%02x ('%c')", b, b);
    else
        std::snprintf(buf, sizeof buf, "0x%02x", b);
    return buf;
}

}  // namespace tls_audit
