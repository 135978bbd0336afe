// See reload_preflight.hpp. The stages follow be_tls_init() of
// src/backend/libpq/be-secure-openssl.c (PostgreSQL 15 and 18): the
// certificate chain file, the key file's permissions and the key (with a
// passphrase callback that never supplies one, as on a reload without
// ssl_passphrase_command_supports_reload), the key against the certificate,
// the CA file (SSL_CTX_load_verify_locations and SSL_load_client_CA_file), the
// CRL file and directory (X509_STORE_load_locations), the DH parameters, the
// groups and cipher lists, the protocol range.
#include "certs/reload_preflight.hpp"

#include <cstring>
#include <new>

#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "base/openssl_ptr.hpp"
#include "base/protocol.hpp"
#include "certs/server_files.hpp"

namespace tls_audit {

namespace {

// The reason of the first error on OpenSSL's queue, as PostgreSQL's
// SSLerrmessage() words it; the queue is cleared.
std::string openssl_reason(const char *fallback) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return fallback;
    if (const char *reason = ERR_reason_error_string(code)) return reason;
#ifdef ERR_SYSTEM_ERROR
    if (ERR_SYSTEM_ERROR(code)) return std::strerror(static_cast<int>(ERR_GET_REASON(code)));
#endif
    return "SSL error code " + std::to_string(code);
}

struct PassphraseProbe {
    bool asked = false;
};

// Never supplies a passphrase (the passphrase command is not run): records
// that one was asked for, as PostgreSQL's dummy_ssl_passwd_cb does.
int refuse_passphrase(char *buf, int size, int, void *userdata) {
    static_cast<PassphraseProbe *>(userdata)->asked = true;
    if (size > 0) buf[0] = '\0';
    return 0;
}

PreflightStage stage(const char *name, const std::string &file) {
    PreflightStage s;
    s.stage = name;
    s.file = file;
    return s;
}
void pass(PreflightStage &s) { s.ok = true; }
void fail(PreflightStage &s, std::string why) {
    s.ok = false;
    s.error = std::move(why);
}
void not_reached(PreflightStage &s, const char *why) {
    s.ok.reset();
    s.error = std::string("not checked: ") + why;
}

SslCtxPtr new_context(PassphraseProbe &probe) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
    if (!ctx) throw std::bad_alloc();
    SSL_CTX_set_default_passwd_cb(ctx.get(), refuse_passphrase);
    SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), &probe);
    return ctx;
}

const char *kPassphraseReason =
    "the private key is passphrase-protected: a reload keeps the previous key (the server "
    "cannot ask for a passphrase on reload; see ssl_passphrase_command_supports_reload)";

}  // namespace

const std::vector<std::string> &preflight_stage_names() {
    static const std::vector<std::string> names{"certificate", "key",       "key_match", "ca",
                                                "crl",         "dh_params", "ciphers",   "protocols"};
    return names;
}

std::vector<PreflightStage> run_reload_preflight(const PreflightSettings &s) {
    std::vector<PreflightStage> out;
    ERR_clear_error();
    PassphraseProbe probe;
    SslCtxPtr ctx = new_context(probe);
    // As be_tls_init(): no SSLv2/SSLv3, whatever the protocol settings say.
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3);

    // certificate
    auto cert = stage("certificate", s.cert_file);
    bool cert_loaded = false;
    if (s.cert_file.empty()) {
        fail(cert, "ssl_cert_file is not set");
    } else {
        struct stat st {};
        if (::stat(s.cert_file.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            // OpenSSL would read a directory as an empty file; the server fails on it too.
            SSL_CTX_use_certificate_chain_file(ctx.get(), s.cert_file.c_str());
            fail(cert, openssl_reason("is a directory"));
        } else if (SSL_CTX_use_certificate_chain_file(ctx.get(), s.cert_file.c_str()) != 1) {
            fail(cert, openssl_reason("could not load the certificate"));
        } else {
            pass(cert);
            cert_loaded = true;
        }
    }
    out.push_back(std::move(cert));

    // key: its file's permissions first (check_ssl_key_file_permissions), then
    // the key alone, in a context of its own, so that a key that does not
    // belong to the certificate fails at key_match, not here.
    auto key = stage("key", s.key_file);
    bool key_loaded = false;
    if (s.key_file.empty()) {
        fail(key, "ssl_key_file is not set");
    } else {
        auto perms = check_key_file(s.key_file, s.server_uid);
        if (!perms) {
            fail(key, perms.error().message);
        } else if (!perms.value().ok) {
            // In the server's words (check_ssl_key_file_permissions), which it logs.
            std::string problem = perms.value().problem;
            if (const auto cut = problem.find(" (mode"); cut != std::string::npos) problem.resize(cut);
            if (problem == "not a regular file") problem = "is " + problem;
            fail(key, "private key file \"" + s.key_file + "\" " + problem);
        } else {
            PassphraseProbe alone_probe;
            SslCtxPtr alone = new_context(alone_probe);
            if (SSL_CTX_use_PrivateKey_file(alone.get(), s.key_file.c_str(), SSL_FILETYPE_PEM) == 1) {
                pass(key);
                key_loaded = true;
            } else if (alone_probe.asked) {
                ERR_clear_error();
                if (s.passphrase_command && s.passphrase_supports_reload) {
                    key.ok.reset();
                    key.error = "the private key is passphrase-protected: a reload runs ssl_passphrase_command, "
                                "which the pre-flight does not run";
                } else {
                    fail(key, kPassphraseReason);
                }
            } else {
                fail(key, openssl_reason("could not load the private key"));
            }
        }
    }
    out.push_back(std::move(key));

    auto match = stage("key_match", s.key_file);
    if (!cert_loaded || !key_loaded) {
        not_reached(match, !cert_loaded ? "the certificate did not load" : "the key did not load");
    } else if (SSL_CTX_use_PrivateKey_file(ctx.get(), s.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
               SSL_CTX_check_private_key(ctx.get()) != 1) {
        fail(match, openssl_reason("the key does not match the certificate"));
    } else {
        pass(match);
    }
    out.push_back(std::move(match));

    // ca
    auto ca = stage("ca", s.ca_file);
    if (s.ca_file.empty()) {
        pass(ca);
    } else if (SSL_CTX_load_verify_locations(ctx.get(), s.ca_file.c_str(), nullptr) != 1) {
        fail(ca, openssl_reason("could not load the root certificate file"));
    } else {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(s.ca_file.c_str());
        if (names == nullptr) {
            fail(ca, openssl_reason("could not load the root certificate file"));
        } else {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            pass(ca);
        }
    }
    out.push_back(std::move(ca));

    // crl: the file and the directory at once, as the server loads them.
    auto crl = stage("crl", !s.crl_file.empty() ? s.crl_file : s.crl_dir);
    if (!s.crl_file.empty() && !s.crl_dir.empty()) crl.file = s.crl_file + " and " + s.crl_dir;
    if (s.crl_file.empty() && s.crl_dir.empty()) {
        pass(crl);
    } else {
        X509_STORE *store = SSL_CTX_get_cert_store(ctx.get());
        if (store == nullptr ||
            X509_STORE_load_locations(store, s.crl_file.empty() ? nullptr : s.crl_file.c_str(),
                                      s.crl_dir.empty() ? nullptr : s.crl_dir.c_str()) != 1)
            fail(crl, openssl_reason("could not load the certificate revocation list"));
        else
            pass(crl);
    }
    out.push_back(std::move(crl));

    // dh_params: a file that does not load is logged by the server, which then
    // uses its built-in 2048-bit group: the reload goes on (a start fails).
    auto dh = stage("dh_params", s.dh_params_file);
    pass(dh);
    if (!s.dh_params_file.empty()) {
        BioPtr bio(BIO_new_file(s.dh_params_file.c_str(), "r"));
        if (!bio) {
            dh.error = openssl_reason("could not open the DH parameters file");
        } else {
            EvpPkeyPtr params(PEM_read_bio_Parameters(bio.get(), nullptr));
            if (!params)
                dh.error = openssl_reason("could not load the DH parameters file");
            else if (EVP_PKEY_base_id(params.get()) != EVP_PKEY_DH)
                dh.error = "not DH parameters";
        }
        if (!dh.error.empty())
            dh.error += " (a reload logs this and uses the built-in parameters; a restart fails)";
        ERR_clear_error();
    }
    out.push_back(std::move(dh));

    // ciphers: the key exchange groups first, then the lists (be_tls_init's order).
    auto ciphers = stage("ciphers", "");
    if (!s.groups.empty() && !s.groups_is_list && OBJ_sn2nid(s.groups.c_str()) == NID_undef) {
        fail(ciphers, "ECDH: unrecognized curve name: " + s.groups);
    } else if (!s.groups.empty() && s.groups_is_list && SSL_CTX_set1_groups_list(ctx.get(), s.groups.c_str()) != 1) {
        fail(ciphers, openssl_reason("could not set the group names of ssl_groups"));
    } else if (SSL_CTX_set_cipher_list(ctx.get(), s.ciphers.empty() ? "HIGH:MEDIUM:+3DES:!aNULL" : s.ciphers.c_str()) !=
               1) {
        fail(ciphers, openssl_reason("no valid ciphers available"));
    } else if (!s.tls13_ciphers.empty() && SSL_CTX_set_ciphersuites(ctx.get(), s.tls13_ciphers.c_str()) != 1) {
        fail(ciphers, openssl_reason("no valid TLS 1.3 cipher suites available"));
    } else {
        pass(ciphers);
    }
    out.push_back(std::move(ciphers));

    // protocols
    auto protocols = stage("protocols", "");
    std::optional<Protocol> lo, hi;
    if (!s.min_protocol.empty()) lo = parse_protocol(s.min_protocol);
    if (!s.max_protocol.empty()) hi = parse_protocol(s.max_protocol);
    if (!s.min_protocol.empty() && !lo) {
        fail(protocols, "ssl_min_protocol_version setting \"" + s.min_protocol + "\" not supported by this build");
    } else if (!s.max_protocol.empty() && !hi) {
        fail(protocols, "ssl_max_protocol_version setting \"" + s.max_protocol + "\" not supported by this build");
    } else if (lo && SSL_CTX_set_min_proto_version(ctx.get(), protocol_to_openssl(*lo)) != 1) {
        fail(protocols, openssl_reason("could not set minimum SSL protocol version"));
    } else if (hi && SSL_CTX_set_max_proto_version(ctx.get(), protocol_to_openssl(*hi)) != 1) {
        fail(protocols, openssl_reason("could not set maximum SSL protocol version"));
    } else if (lo && hi && *lo > *hi) {
        fail(protocols, "could not set SSL protocol version range: \"" + s.min_protocol + "\" cannot be higher than \"" +
                            s.max_protocol + "\"");
    } else {
        pass(protocols);
    }
    out.push_back(std::move(protocols));

    ERR_clear_error();
    return out;
}

bool preflight_would_succeed(const std::vector<PreflightStage> &stages) {
    for (const auto &s : stages)
        if (s.ok && !*s.ok) return false;
    return true;
}

std::string preflight_failure(const std::vector<PreflightStage> &stages) {
    for (const auto &s : stages)
        if (s.ok && !*s.ok) return s.stage + (s.file.empty() ? "" : " (" + s.file + ")") + ": " + s.error;
    return {};
}

}  // namespace tls_audit
