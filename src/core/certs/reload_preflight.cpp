// See reload_preflight.hpp. The stages follow be_tls_init() of
// src/backend/libpq/be-secure-openssl.c (PostgreSQL 15 and 18), one function
// each: the certificate chain file, the key file's permissions and the key
// (with a passphrase callback that never supplies one, as on a reload without
// ssl_passphrase_command_supports_reload), the key against the certificate,
// the CA file (what SSL_CTX_load_verify_locations and SSL_load_client_CA_file
// do), the CRL file and directory (what X509_STORE_load_locations does), the
// DH parameters, the groups and cipher lists, the protocol range. The server
// hands OpenSSL paths; the pre-flight reads each file itself (never blocking,
// regular files only, size-capped) and hands OpenSSL the bytes in a memory
// BIO, decoding them with the same PEM readers the file functions use.
#include "certs/reload_preflight.hpp"

#include <cstring>
#include <new>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "base/file_reader.hpp"
#include "base/openssl_ptr.hpp"
#include "base/protocol.hpp"
#include "certs/pem.hpp"
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

BioPtr memory_bio(const std::string &bytes) {
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) throw std::bad_alloc();
    return bio;
}

// The end of a PEM stream: reading stopped at the end of the input, not at
// a bad block (as SSL_CTX_use_certificate_chain_file tells them apart).
bool at_pem_end() {
    const unsigned long code = ERR_peek_last_error();
    if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        return true;
    }
    return false;
}

const char *kPassphraseReason =
    "the private key is passphrase-protected: a reload keeps the previous key (the server "
    "cannot ask for a passphrase on reload; see ssl_passphrase_command_supports_reload)";


// Everything the stages share: the context being built, what loaded so far.
struct Preflight {
    const PreflightSettings &s;
    const CancelCheck &cancel;
    PassphraseProbe probe;
    SslCtxPtr ctx;
    bool cert_loaded = false;
    EvpPkeyPtr key;  // the key, once it loaded alone

    Preflight(const PreflightSettings &settings, const CancelCheck &c) : s(settings), cancel(c) {
        ctx = new_context(probe);
        // As be_tls_init(): no SSLv2/SSLv3, whatever the protocol settings say.
        SSL_CTX_set_options(ctx.get(), SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3);
    }

    // The bytes of the stage's file, or nullopt with the stage failed. A
    // path that is not a regular file fails with what it is: the server
    // would open it as a file and wait on it or read it forever.
    std::optional<std::string> read(PreflightStage &st, const char *setting, const std::string &path) {
        FileReadResult r = read_regular_file(path, kMaxServerFileSize, cancel);
        if (r.failure == FileReadFailure::Cancelled) throw CoreError(r.error);
        if (r.ok()) return std::move(r.bytes);
        if (r.failure == FileReadFailure::NotRegular) {
            st.file_kind = file_kind_phrase(r.kind);
            fail(st, std::string(setting) + " \"" + path + "\" is " + st.file_kind +
                         ": the next reload or restart will hang or fail");
        } else if (r.failure == FileReadFailure::Open && r.error_number != 0) {
            fail(st, std::strerror(r.error_number));  // what OpenSSL (and the server's log) says
        } else {
            fail(st, r.error.message);
        }
        return std::nullopt;
    }
};

// SSL_CTX_use_certificate_chain_file over bytes: the first certificate is
// the leaf, every further one goes to the chain.
PreflightStage certificate_stage(Preflight &p) {
    auto st = stage("certificate", p.s.cert_file);
    if (p.s.cert_file.empty()) {
        fail(st, "ssl_cert_file is not set");
        return st;
    }
    auto bytes = p.read(st, "ssl_cert_file", p.s.cert_file);
    if (!bytes) return st;
    BioPtr bio = memory_bio(*bytes);
    ERR_clear_error();
    X509Ptr leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, refuse_passphrase, &p.probe));
    if (!leaf || SSL_CTX_use_certificate(p.ctx.get(), leaf.get()) != 1) {
        fail(st, openssl_reason("could not load the certificate"));
        return st;
    }
    SSL_CTX_clear_chain_certs(p.ctx.get());
    for (;;) {
        X509Ptr ca(PEM_read_bio_X509(bio.get(), nullptr, refuse_passphrase, &p.probe));
        if (!ca) break;
        if (SSL_CTX_add0_chain_cert(p.ctx.get(), ca.get()) != 1) {
            fail(st, openssl_reason("could not add a chain certificate"));
            return st;
        }
        (void)ca.release();  // owned by the context now
    }
    if (!at_pem_end()) {
        fail(st, openssl_reason("could not load the certificate chain"));
        return st;
    }
    pass(st);
    p.cert_loaded = true;
    return st;
}

// The key file's permissions first (check_ssl_key_file_permissions), then
// the key alone, so that a key that does not belong to the certificate fails
// at key_match, not here.
PreflightStage key_stage(Preflight &p) {
    auto st = stage("key", p.s.key_file);
    if (p.s.key_file.empty()) {
        fail(st, "ssl_key_file is not set");
        return st;
    }
    auto perms = check_key_file(p.s.key_file, p.s.server_uid);
    if (!perms) {
        fail(st, perms.error().message);
        return st;
    }
    if (!perms.value().ok && perms.value().problem != "not a regular file") {
        // In the server's words (check_ssl_key_file_permissions), which it logs.
        std::string problem = perms.value().problem;
        if (const auto cut = problem.find(" (mode"); cut != std::string::npos) problem.resize(cut);
        fail(st, "private key file \"" + p.s.key_file + "\" " + problem);
        return st;
    }
    // Not a regular file: the reader names what it is.
    auto bytes = p.read(st, "ssl_key_file", p.s.key_file);
    if (!bytes) return st;
    Wiper wipe(*bytes);
    PassphraseProbe alone;
    BioPtr bio = memory_bio(*bytes);
    ERR_clear_error();
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, &alone));
    if (key) {
        pass(st);
        p.key = std::move(key);
    } else if (alone.asked) {
        ERR_clear_error();
        if (p.s.passphrase_command && p.s.passphrase_supports_reload) {
            st.ok.reset();
            st.error = "the private key is passphrase-protected: a reload runs ssl_passphrase_command, "
                       "which the pre-flight does not run";
        } else {
            fail(st, kPassphraseReason);
        }
    } else {
        fail(st, openssl_reason("could not load the private key"));
    }
    return st;
}

PreflightStage key_match_stage(Preflight &p) {
    auto st = stage("key_match", p.s.key_file);
    if (!p.cert_loaded || !p.key) {
        not_reached(st, !p.cert_loaded ? "the certificate did not load" : "the key did not load");
    } else if (SSL_CTX_use_PrivateKey(p.ctx.get(), p.key.get()) != 1 || SSL_CTX_check_private_key(p.ctx.get()) != 1) {
        fail(st, openssl_reason("the key does not match the certificate"));
    } else {
        pass(st);
    }
    return st;
}

// SSL_CTX_load_verify_locations, then SSL_load_client_CA_file (which needs
// at least one certificate).
PreflightStage ca_stage(Preflight &p) {
    auto st = stage("ca", p.s.ca_file);
    if (p.s.ca_file.empty()) {
        pass(st);
        return st;
    }
    auto bytes = p.read(st, "ssl_ca_file", p.s.ca_file);
    if (!bytes) return st;
    ERR_clear_error();
    if (auto why = load_pem_into_store(SSL_CTX_get_cert_store(p.ctx.get()), *bytes,
                                      "could not load the root certificate file");
        !why.empty()) {
        fail(st, why);
        return st;
    }
    BioPtr bio = memory_bio(*bytes);
    int names = 0;
    while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) ++names;
    if (names == 0 || !at_pem_end())
        fail(st, openssl_reason("could not load the root certificate file"));
    else
        pass(st);
    ERR_clear_error();
    return st;
}

// The CRL file is loaded; the directory is only recorded, as by the server.
PreflightStage crl_stage(Preflight &p) {
    const PreflightSettings &s = p.s;
    auto st = stage("crl", !s.crl_file.empty() ? s.crl_file : s.crl_dir);
    if (!s.crl_file.empty() && !s.crl_dir.empty()) st.file = s.crl_file + " and " + s.crl_dir;
    X509_STORE *store = SSL_CTX_get_cert_store(p.ctx.get());
    if (!s.crl_file.empty()) {
        auto bytes = p.read(st, "ssl_crl_file", s.crl_file);
        if (!bytes) return st;
        ERR_clear_error();
        if (auto why = load_pem_into_store(store, *bytes, "could not load the certificate revocation list");
            !why.empty()) {
            fail(st, why);
            return st;
        }
    }
    if (!s.crl_dir.empty() &&
        (store == nullptr || X509_STORE_load_locations(store, nullptr, s.crl_dir.c_str()) != 1)) {
        fail(st, openssl_reason("could not load the certificate revocation list"));
        return st;
    }
    pass(st);
    return st;
}

// A file that does not load is logged by the server, which then uses its
// built-in 2048-bit group: the reload goes on (a start fails).
PreflightStage dh_params_stage(Preflight &p) {
    auto st = stage("dh_params", p.s.dh_params_file);
    pass(st);
    if (p.s.dh_params_file.empty()) return st;
    FileReadResult r = read_regular_file(p.s.dh_params_file, kMaxServerFileSize, p.cancel);
    if (r.failure == FileReadFailure::Cancelled) throw CoreError(r.error);
    if (r.failure == FileReadFailure::NotRegular) {
        // Not a file the server could fall back from: it would wait or read forever.
        st.file_kind = file_kind_phrase(r.kind);
        fail(st, "ssl_dh_params_file \"" + p.s.dh_params_file + "\" is " + st.file_kind +
                     ": the next reload or restart will hang or fail");
        return st;
    }
    if (!r.ok()) {
        st.error = r.error.message;
    } else {
        BioPtr bio = memory_bio(r.bytes);
        EvpPkeyPtr params(PEM_read_bio_Parameters(bio.get(), nullptr));
        if (!params)
            st.error = openssl_reason("could not load the DH parameters file");
        else if (EVP_PKEY_base_id(params.get()) != EVP_PKEY_DH)
            st.error = "not DH parameters";
    }
    if (!st.error.empty()) st.error += " (a reload logs this and uses the built-in parameters; a restart fails)";
    ERR_clear_error();
    return st;
}

// The key exchange groups first, then the lists (be_tls_init's order).
PreflightStage ciphers_stage(Preflight &p) {
    const PreflightSettings &s = p.s;
    auto st = stage("ciphers", "");
    if (!s.groups.empty() && !s.groups_is_list && OBJ_sn2nid(s.groups.c_str()) == NID_undef) {
        fail(st, "ECDH: unrecognized curve name: " + s.groups);
    } else if (!s.groups.empty() && s.groups_is_list && SSL_CTX_set1_groups_list(p.ctx.get(), s.groups.c_str()) != 1) {
        fail(st, openssl_reason("could not set the group names of ssl_groups"));
    } else if (SSL_CTX_set_cipher_list(p.ctx.get(),
                                       s.ciphers.empty() ? "HIGH:MEDIUM:+3DES:!aNULL" : s.ciphers.c_str()) != 1) {
        fail(st, openssl_reason("no valid ciphers available"));
    } else if (!s.tls13_ciphers.empty() && SSL_CTX_set_ciphersuites(p.ctx.get(), s.tls13_ciphers.c_str()) != 1) {
        fail(st, openssl_reason("no valid TLS 1.3 cipher suites available"));
    } else {
        pass(st);
    }
    return st;
}

PreflightStage protocols_stage(Preflight &p) {
    const PreflightSettings &s = p.s;
    auto st = stage("protocols", "");
    std::optional<Protocol> lo, hi;
    if (!s.min_protocol.empty()) lo = parse_protocol(s.min_protocol);
    if (!s.max_protocol.empty()) hi = parse_protocol(s.max_protocol);
    if (!s.min_protocol.empty() && !lo) {
        fail(st, "ssl_min_protocol_version setting \"" + s.min_protocol + "\" not supported by this build");
    } else if (!s.max_protocol.empty() && !hi) {
        fail(st, "ssl_max_protocol_version setting \"" + s.max_protocol + "\" not supported by this build");
    } else if (lo && SSL_CTX_set_min_proto_version(p.ctx.get(), protocol_to_openssl(*lo)) != 1) {
        fail(st, openssl_reason("could not set minimum SSL protocol version"));
    } else if (hi && SSL_CTX_set_max_proto_version(p.ctx.get(), protocol_to_openssl(*hi)) != 1) {
        fail(st, openssl_reason("could not set maximum SSL protocol version"));
    } else if (lo && hi && *lo > *hi) {
        fail(st, "could not set SSL protocol version range: \"" + s.min_protocol + "\" cannot be higher than \"" +
                     s.max_protocol + "\"");
    } else {
        pass(st);
    }
    return st;
}

}  // namespace

const std::vector<std::string> &preflight_stage_names() {
    static const std::vector<std::string> names{"certificate", "key",       "key_match", "ca",
                                                "crl",         "dh_params", "ciphers",   "protocols"};
    return names;
}

std::vector<PreflightStage> run_reload_preflight(const PreflightSettings &s, const CancelCheck &cancel) {
    ERR_clear_error();
    Preflight p(s, cancel);
    std::vector<PreflightStage> out;
    out.push_back(certificate_stage(p));
    out.push_back(key_stage(p));
    out.push_back(key_match_stage(p));
    out.push_back(ca_stage(p));
    out.push_back(crl_stage(p));
    out.push_back(dh_params_stage(p));
    out.push_back(ciphers_stage(p));
    out.push_back(protocols_stage(p));
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
