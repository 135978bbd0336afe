#include "pooler/pooler_conninfo.hpp"

#include <string_view>

namespace tls_audit {

namespace {

std::string first_of_list(const std::optional<std::string> &value) {
    if (!value) return {};
    return value->substr(0, value->find(','));
}

}  // namespace

bool pooler_conninfo_has_password(const ConnOptions &options) {
    const auto password = option_value(options, "password");
    return password && !password->empty();
}

Expected<PoolerCertTarget> pooler_cert_target(const ConnOptions &options) {
    // The first of each list, as libpq tries it first.
    const std::string host = first_of_list(option_value(options, "host"));
    const std::string hostaddr = first_of_list(option_value(options, "hostaddr"));
    const std::string port = first_of_list(option_value(options, "port"));
    const std::string rootcert = option_value(options, "sslrootcert").value_or("");
    auto socket_path = [](const std::string &h) { return !h.empty() && (h[0] == '/' || h[0] == '@'); };
    PoolerCertTarget out;
    out.address = !hostaddr.empty() ? hostaddr : host;
    if (out.address.empty() || socket_path(out.address))
        return make_error(sqlstate::kInvalidParameter,
                          "the admin console is reached over a unix socket: the certificate is not probed");
    if (!hostaddr.empty() && !host.empty() && !socket_path(host)) out.name = host;
    if (!port.empty()) {
        int value = 0;
        for (char c : port) {
            if (c < '0' || c > '9' || value > 65535) {
                value = -1;
                break;
            }
            value = value * 10 + (c - '0');
        }
        if (value < 1 || value > 65535)
            return make_error(sqlstate::kInvalidParameter,
                              "the port of the admin console is not a port number from 1 to 65535: the "
                              "certificate is not probed");
        out.port = value;
    }
    if (rootcert != "system") out.ca_file = rootcert;  // libpq 16's keyword for the system store
    return out;
}

}  // namespace tls_audit
