// libFuzzer target: the parsers of setting values and names: protocol names
// (GUCs and SQL arguments) and the floor comparison built on them, the
// tls_audit.probe_allowed_hosts list and its matching, severity and outcome
// names, and the self-probe address taken from listen_addresses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <strings.h>

#include "census/census_key.hpp"
#include "base/protocol.hpp"
#include "checks/checks.hpp"
#include "certs/server_files.hpp"
#include "probe/target_policy.hpp"

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

    // tls_audit.probe_allowed_hosts: a parsed list is canonical (lower case,
    // no blank or bare-wildcard entry), parses again to itself, and allows
    // each of its plain entries.
    auto hosts = parse_allowed_hosts(input);
    if (hosts) {
        std::string joined;
        for (const auto &entry : hosts.value()) {
            const std::string &h = entry.host;
            require(!h.empty() && h != "*");
            for (char c : h) require(!(c >= 'A' && c <= 'Z') && c != ',' && c != ' ');
            if (entry.port) require(*entry.port >= 1 && *entry.port <= 65535);
            if (h.rfind("*.", 0) != 0) require(host_allowed(h, entry.port.value_or(5432), hosts.value()));
            joined += (joined.empty() ? "" : ",") + to_string(entry);
        }
        auto again = parse_allowed_hosts(joined);
        require(again.ok() && again.value() == hosts.value());
    } else {
        require(hosts.error().sqlstate.size() == 5 && !hosts.error().message.empty());
    }
    // The input as a host against a fixed list, and an empty list allows all.
    static const std::vector<AllowedHost> kList = {
        {"db.example.com", std::nullopt}, {"*.example.org", 5432}, {"127.0.0.1", std::nullopt}};
    (void)host_allowed(input, 5432, kList);
    require(host_allowed(input, 5432, {}));

    if (auto s = parse_severity(input)) require(parse_severity(severity_name(*s)) == s);
    if (auto o = parse_outcome(input)) require(parse_outcome(outcome_name(*o)) == o);
    if (auto host = self_probe_host(input)) require(!host->empty());
    return 0;
}
