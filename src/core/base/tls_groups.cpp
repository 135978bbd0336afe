#include "base/tls_groups.hpp"

#include <cstdio>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "base/openssl_compat.hpp"
#include "base/openssl_ptr.hpp"

namespace tls_audit {

namespace {

// The hybrid groups OpenSSL 3.5 added, by its names.
constexpr const char *kHybridGroups[] = {"X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024"};

}  // namespace

std::vector<std::uint16_t> client_hello_groups(const unsigned char *data, std::size_t len) {
    // A reader that fails (returns false) instead of reading past the end.
    std::size_t at = 0;
    auto need = [&](std::size_t n) { return at <= len && len - at >= n; };
    auto u8 = [&](std::size_t &out) {
        if (!need(1)) return false;
        out = data[at++];
        return true;
    };
    auto u16 = [&](std::size_t &out) {
        if (!need(2)) return false;
        out = (static_cast<std::size_t>(data[at]) << 8) | data[at + 1];
        at += 2;
        return true;
    };
    auto skip = [&](std::size_t n) {
        if (!need(n)) return false;
        at += n;
        return true;
    };
    std::size_t type = 0, n = 0;
    // Record header: handshake (22), version, length; handshake header:
    // client_hello (1), 24-bit length.
    if (!u8(type) || type != 22 || !skip(2) || !u16(n) || !u8(type) || type != 1 || !skip(3)) return {};
    // legacy_version, random, session id, cipher suites, compression methods.
    if (!skip(2 + 32) || !u8(n) || !skip(n) || !u16(n) || !skip(n) || !u8(n) || !skip(n)) return {};
    std::size_t extensions = 0;
    if (!u16(extensions) || !need(extensions)) return {};
    const std::size_t end = at + extensions;
    while (at + 4 <= end) {
        std::size_t ext = 0, ext_len = 0;
        if (!u16(ext) || !u16(ext_len) || at + ext_len > end) return {};
        if (ext != 10) {  // supported_groups
            at += ext_len;
            continue;
        }
        std::size_t list = 0;
        if (!u16(list) || list > ext_len - 2 || list % 2 != 0) return {};
        std::vector<std::uint16_t> ids;
        for (std::size_t i = 0; i < list / 2; ++i) {
            std::size_t id = 0;
            if (!u16(id)) return {};
            ids.push_back(static_cast<std::uint16_t>(id));
        }
        return ids;
    }
    return {};
}

std::vector<std::string> offered_groups(SSL_CTX *ctx) {
    std::vector<std::string> out;
    if (ctx == nullptr) return out;
    SslPtr ssl = new_memory_client(ctx);
    if (!ssl) {
        ERR_clear_error();
        return out;
    }
    SSL_do_handshake(ssl.get());  // writes the ClientHello, then wants the answer
    char *bytes = nullptr;
    const long len = BIO_get_mem_data(SSL_get_wbio(ssl.get()), &bytes);
    if (len > 0 && bytes != nullptr) {
        for (const std::uint16_t id : client_hello_groups(reinterpret_cast<const unsigned char *>(bytes),
                                                           static_cast<std::size_t>(len))) {
            // An id asks OpenSSL's table as TLSEXT_nid_unknown | id.
            if (const char *name = SSL_group_to_name(ssl.get(), static_cast<int>(TLSEXT_nid_unknown | id));
                name != nullptr) {
                out.emplace_back(name);
            } else {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%04x", static_cast<unsigned>(id));
                out.emplace_back(hex);
            }
        }
    }
    ERR_clear_error();
    return out;
}

Expected<std::vector<std::string>> offered_groups_for_setting(const std::string &value, bool is_list) {
    // TLS_method(), as PostgreSQL makes its context: offered_groups() needs
    // a context that can also act as a client.
    SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
    if (!ctx) return make_error(sqlstate::kOutOfMemory, "could not create an OpenSSL context");
    if (!value.empty()) {
        bool ok = false;
        if (is_list) {
            ok = SSL_CTX_set1_groups_list(ctx.get(), value.c_str()) == 1;
        } else {
            // What SSL_CTX_set_tmp_ecdh() with the curve's key does: that one group.
            int nid = OBJ_sn2nid(value.c_str());
            ok = nid != NID_undef && SSL_CTX_set1_groups(ctx.get(), &nid, 1) == 1;
        }
        if (!ok) {
            ERR_clear_error();
            return make_error(sqlstate::kInvalidParameter,
                              "OpenSSL does not accept the group setting \"" + value.substr(0, 200) + "\"");
        }
    }
    return offered_groups(ctx.get());
}

std::vector<std::string> available_hybrid_groups() {
    std::vector<std::string> out;
    for (const char *g : kHybridGroups)
        if (openssl_compat::group_available(g)) out.emplace_back(g);
    return out;
}

}  // namespace tls_audit
