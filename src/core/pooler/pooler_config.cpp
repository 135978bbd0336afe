#include "pooler/pooler_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace tls_audit {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// Bits as libusual's TLS_PROTOCOL_* (one per version, oldest first).
constexpr std::uint32_t kV10 = 1, kV11 = 2, kV12 = 4, kV13 = 8, kAll = 15, kSecure = kV12 | kV13;

}  // namespace

PoolerConfig pooler_config_from_rows(const std::vector<std::pair<std::string, std::string>> &rows) {
    PoolerConfig c;
    // pgbouncer's defaults, for keys an older version does not print.
    c.client = PoolerLegConfig{"disable", "secure", "default", "", "", ""};
    c.server = PoolerLegConfig{"prefer", "secure", "default", "", "", ""};
    for (const auto &[key, value] : rows) {
        for (auto [prefix, leg] : {std::pair<std::string_view, PoolerLegConfig *>{"client_", &c.client},
                                   {"server_", &c.server}}) {
            if (key.rfind(prefix, 0) != 0) continue;
            const std::string_view rest = std::string_view(key).substr(prefix.size());
            if (rest == "tls_sslmode") leg->sslmode = value;
            else if (rest == "tls_protocols") leg->protocols = value;
            else if (rest == "tls_ciphers") leg->ciphers = value;
            else if (rest == "tls13_ciphers") leg->tls13_ciphers = value;
            else if (rest == "tls_cert_file") leg->cert_file = value;
            else if (rest == "tls_ca_file") leg->ca_file = value;
        }
    }
    return c;
}

PoolerConfig pooler_config_from_config_rows(const std::vector<PoolerConfigRow> &rows) {
    std::vector<std::pair<std::string, std::string>> kv;
    kv.reserve(rows.size());
    for (const auto &r : rows) kv.emplace_back(r.key, r.value);
    return pooler_config_from_rows(kv);
}

Expected<std::vector<PoolerConfigRow>> pooler_config_rows(const std::vector<std::string> &columns,
                                                          const std::vector<std::vector<PoolerCell>> &rows) {
    int key = -1, value = -1, def = -1;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i] == "key") key = static_cast<int>(i);
        if (columns[i] == "value") value = static_cast<int>(i);
        if (columns[i] == "default") def = static_cast<int>(i);
    }
    if (key < 0 || value < 0)
        return make_error(sqlstate::kDataCorrupted, "SHOW CONFIG of the pooler has no key and value columns",
                          "pg_tls_audit reads pgbouncer 1.18 or later.");
    if (rows.size() > kMaxPoolerRows)
        return make_error(sqlstate::kProgramLimit, "SHOW CONFIG returned " + std::to_string(rows.size()) +
                                                       " rows, more than " + std::to_string(kMaxPoolerRows));
    std::vector<PoolerConfigRow> out;
    out.reserve(rows.size());
    for (const auto &r : rows) {
        auto cell = [&](int i) {
            return i >= 0 && static_cast<std::size_t>(i) < r.size() && r[i] ? *r[i] : std::string();
        };
        out.push_back(PoolerConfigRow{cell(key), cell(value), cell(def)});
    }
    return out;
}

bool pooler_serves_tls(const PoolerConfig &config) { return !iequals(config.client.sslmode, "disable"); }

bool is_pooler_tls_setting(std::string_view key) {
    for (std::string_view prefix : {"client_tls_", "client_tls13_", "server_tls_", "server_tls13_"})
        if (key.rfind(prefix, 0) == 0) return true;
    return false;
}

Expected<std::vector<Protocol>> parse_pooler_protocols(std::string_view value) {
    std::uint32_t set = 0;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = value.find_first_of(",:", start);
        std::string_view item = value.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        const bool negate = !item.empty() && item.front() == '!';
        if (negate) {
            item.remove_prefix(1);
            if (set == 0) set = kAll;
        }
        std::uint32_t bits = 0;
        if (iequals(item, "all") || iequals(item, "tlsv1")) bits = kAll;
        else if (iequals(item, "default") || iequals(item, "secure")) bits = kSecure;
        else if (iequals(item, "tlsv1.0")) bits = kV10;
        else if (iequals(item, "tlsv1.1")) bits = kV11;
        else if (iequals(item, "tlsv1.2")) bits = kV12;
        else if (iequals(item, "tlsv1.3")) bits = kV13;
        if (bits == 0) {
            std::string shown;
            for (char c : item.substr(0, 32)) shown += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
            return make_error(sqlstate::kInvalidParameter, "unknown protocol \"" + shown + "\" in a pgbouncer tls_protocols value",
                              "pgbouncer accepts tlsv1.0, tlsv1.1, tlsv1.2, tlsv1.3, all, secure and default.");
        }
        set = negate ? (set & ~bits) : (set | bits);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    std::vector<Protocol> out;
    for (auto [bit, p] : {std::pair<std::uint32_t, Protocol>{kV10, Protocol::TLSv1}, {kV11, Protocol::TLSv1_1},
                          {kV12, Protocol::TLSv1_2}, {kV13, Protocol::TLSv1_3}})
        if (set & bit) out.push_back(p);
    return out;
}

std::string pooler_cipher_list(std::string_view value) {
    for (std::string_view keyword : {"default", "secure", "normal", "fast"})
        if (iequals(value, keyword)) return "DEFAULT";
    return std::string(value);
}

}  // namespace tls_audit
