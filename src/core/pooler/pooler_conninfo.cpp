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

Expected<PoolerAddress> pooler_probe_address(const ConnOptions &options) {
    const std::string host = first_of_list(option_value(options, "host"));
    const std::string hostaddr = first_of_list(option_value(options, "hostaddr"));
    const std::string port = first_of_list(option_value(options, "port"));
    PoolerAddress out;
    out.host = !hostaddr.empty() ? hostaddr : host;
    // No host is libpq's default unix socket.
    if (out.host.empty() || out.host[0] == '/' || out.host[0] == '@')
        return make_error(sqlstate::kInvalidParameter,
                          "the admin console is reached over a unix socket: the certificate is not probed");
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
                              "the connection string's port is not a number from 1 to 65535: the certificate is "
                              "not probed");
        out.port = value;
    }
    return out;
}

}  // namespace tls_audit
