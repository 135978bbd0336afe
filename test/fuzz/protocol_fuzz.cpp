// libFuzzer target: protocol-name parsing (the names GUCs and SQL arguments
// accept) and the floor comparison built on it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <strings.h>

#include "protocol.hpp"

using namespace tls_audit;

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

constexpr Protocol kAll[] = {Protocol::SSLv3, Protocol::TLSv1, Protocol::TLSv1_1, Protocol::TLSv1_2,
                             Protocol::TLSv1_3};
constexpr const char *kTransports[] = {"unix", "tcp", "tls", ""};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char *>(data), size);

    // The whole input as a name: a match is exactly one of the known names,
    // ignoring case, and survives the round trips.
    if (auto p = parse_protocol(input)) {
        std::string_view name = protocol_name(*p);
        require(name.size() == input.size() && strncasecmp(name.data(), input.data(), name.size()) == 0);
        require(parse_protocol(name) == p);
        require(protocol_from_openssl(protocol_to_openssl(*p)) == p);
    }

    // First byte: transport and floor; the rest: the negotiated protocol.
    if (size > 0) {
        const char *transport = kTransports[data[0] % 4];
        Protocol floor = kAll[(data[0] / 4) % 5];
        std::string_view negotiated = input.substr(1);
        auto reason = below_floor_reason(transport, negotiated, floor);
        if (std::string_view(transport) == "unix") require(!reason);
        if (std::string_view(transport) != "unix" && std::string_view(transport) != "tls")
            require(reason && *reason == "no TLS");
        if (std::string_view(transport) == "tls") {
            auto p = parse_protocol(negotiated);
            if (!p) require(reason.has_value());
            else require(reason.has_value() == (*p < floor));
        }
    }
    return 0;
}
