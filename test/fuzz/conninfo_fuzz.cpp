// libFuzzer target: connection strings with a known secret, through libpq's
// PQconninfoParse and redact_conninfo_error(). The fuzzer's bytes are split
// at the first NUL: the part before it is the connection string around the
// secret, which is inserted as a password value at a position the first byte
// chooses; the redacted error must never hold the secret's marker.
#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "access/outbound.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size < 2) return 0;
    const std::string raw(reinterpret_cast<const char *>(data + 1), size - 1);
    const std::string around = raw.substr(0, raw.find('\0'));
    const std::string secret_tail = raw.find('\0') == std::string::npos ? "" : raw.substr(raw.find('\0') + 1);
    // The secret: the marker, then whatever bytes followed the NUL (no NUL).
    std::string secret = "zqxSECRET";
    for (char c : secret_tail)
        if (c != '\0') secret += c;
    secret += "zqxEND";
    const std::size_t at = around.empty() ? 0 : data[0] % (around.size() + 1);
    const std::string conninfo = around.substr(0, at) + " password=" + secret + " " + around.substr(at);
    char *err = nullptr;
    PQconninfoOption *options = PQconninfoParse(conninfo.c_str(), &err);
    if (options != nullptr) PQconninfoFree(options);
    if (err != nullptr) {
        const std::string shown = tls_audit::redact_conninfo_error(err);
        PQfreemem(err);
        if (shown.find("zqx") != std::string::npos) std::abort();
    }
    return 0;
}
