#include "pooler/pooler_connections.hpp"

#include <arpa/inet.h>

#include <cstdlib>

namespace tls_audit {

std::optional<std::string> numeric_address(const std::string &addr) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, addr.c_str(), buf) == 1 || inet_pton(AF_INET6, addr.c_str(), buf) == 1) return addr;
    return std::nullopt;
}

Expected<std::vector<PoolerConnection>> pooler_connections(const std::vector<std::string> &columns,
                                                           const std::vector<std::vector<PoolerCell>> &rows) {
    auto find = [&](const char *name) -> int {
        for (std::size_t i = 0; i < columns.size(); ++i)
            if (columns[i] == name) return static_cast<int>(i);
        return -1;
    };
    const int user = find("user"), database = find("database"), addr = find("addr"), port = find("port"),
              tls = find("tls");
    for (auto [name, index] : {std::pair<const char *, int>{"type", find("type")}, {"user", user},
                               {"database", database}, {"addr", addr}, {"port", port}, {"tls", tls}})
        if (index < 0)
            return make_error(sqlstate::kDataCorrupted,
                              std::string("the pooler's answer has no column \"") + name + "\"",
                              "pg_tls_audit reads SHOW CLIENTS and SHOW SERVERS of pgbouncer 1.18 or later.");
    if (rows.size() > kMaxPoolerRows)
        return make_error(sqlstate::kProgramLimit,
                          "the pooler lists " + std::to_string(rows.size()) + " connections, more than " +
                              std::to_string(kMaxPoolerRows));
    const int state = find("state"), connect_time = find("connect_time"), ptr = find("ptr"),
              application_name = find("application_name"), id = find("id");
    std::vector<PoolerConnection> out;
    out.reserve(rows.size());
    for (const auto &row : rows) {
        auto get = [&](int index) -> std::string {
            if (index < 0 || static_cast<std::size_t>(index) >= row.size() || !row[index]) return {};
            return *row[index];
        };
        PoolerConnection c;
        c.user = get(user);
        c.database = get(database);
        c.state = get(state);
        c.addr = get(addr);
        c.address = numeric_address(c.addr);
        const std::string p = get(port);
        char *end = nullptr;
        const long n = p.empty() ? -1 : std::strtol(p.c_str(), &end, 10);
        if (end != nullptr && *end == '\0' && n >= 0 && n <= 65535) c.port = static_cast<int>(n);
        c.connect_time = get(connect_time);
        c.ptr = get(ptr);
        c.id = get(id);
        c.application_name = get(application_name);
        c.tls_column = get(tls);
        auto parsed = parse_pooler_tls(c.tls_column);
        if (parsed.ok())
            c.tls = parsed.value();
        else
            c.tls_error = parsed.error().message;
        if (c.tls || !c.tls_error.empty())
            c.transport = "tls";
        else
            c.transport = c.addr == "unix" ? "unix" : "tcp";
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace tls_audit
