#include "certs/server_files.hpp"

#include "certs/pem.hpp"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

namespace tls_audit {

namespace {

// A stack that does not own its certificates.
void free_x509_stack(STACK_OF(X509) * stack) { sk_X509_free(stack); }
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<STACK_OF(X509), free_x509_stack>>;

std::int64_t asn1_epoch(const ASN1_TIME *t) {
    struct tm tm {};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return static_cast<std::int64_t>(timegm(&tm));
}

std::string octal_mode(std::uint32_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

std::string user_name(std::uint32_t uid) {
    struct passwd pw {};
    struct passwd *found = nullptr;
    char buf[4096];
    if (getpwuid_r(static_cast<uid_t>(uid), &pw, buf, sizeof buf, &found) == 0 && found != nullptr &&
        found->pw_name != nullptr)
        return found->pw_name;
    return std::to_string(uid);
}

// Passphrase callback that supplies none: an encrypted key fails to load.
int no_passphrase(char *, int, int, void *) { return 0; }

// Validity problems are days_left's business, not the chain's.
int ignore_validity_period(int ok, X509_STORE_CTX *ctx) {
    if (ok == 1) return 1;
    switch (X509_STORE_CTX_get_error(ctx)) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        X509_STORE_CTX_set_error(ctx, X509_V_OK);
        return 1;
    default:
        return 0;
    }
}

bool is_self_signed_cert(X509 *cert) {
    return (X509_get_extension_flags(cert) & EXFLAG_SS) != 0 &&
           X509_check_issued(cert, cert) == X509_V_OK;
}

std::string quoted(const std::string &s) { return "\"" + s + "\""; }

}  // namespace

KeyFilePermissions judge_key_file_permissions(std::uint32_t st_mode, std::uint32_t owner_uid,
                                              std::uint32_t server_uid) {
    KeyFilePermissions p;
    p.mode = octal_mode(st_mode);
    p.owner_uid = owner_uid;
    p.owner = user_name(owner_uid);
    // The same tests, in the same order, as check_ssl_key_file_permissions.
    if (!S_ISREG(st_mode)) {
        p.problem = "not a regular file";
        return p;
    }
    if (owner_uid != server_uid && owner_uid != 0) {
        p.problem = "must be owned by the database user or root";
        return p;
    }
    if ((owner_uid == server_uid && (st_mode & (S_IRWXG | S_IRWXO)) != 0) ||
        (owner_uid == 0 && (st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) != 0)) {
        p.problem = "has group or world access (mode " + p.mode +
                    "); it must be u=rw (0600) or less if owned by the database user, or u=rw,g=r (0640) or "
                    "less if owned by root";
        return p;
    }
    p.ok = true;
    return p;
}

Expected<KeyFilePermissions> check_key_file(const std::string &path, std::uint32_t server_uid) {
    if (path.empty()) return make_error(sqlstate::kInvalidParameter, "no key file name given");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return make_error(sqlstate::kIoError,
                          "could not access file " + quoted(path) + ": " + std::strerror(errno));
    return judge_key_file_permissions(static_cast<std::uint32_t>(st.st_mode), static_cast<std::uint32_t>(st.st_uid),
                                      server_uid);
}

KeyMatch key_matches_certificate(const std::string &key_path, X509 *leaf, const CancelCheck &cancel) {
    KeyMatch out;
    if (leaf == nullptr) {
        out.error = "no certificate to compare the key with";
        return out;
    }
    FileReadResult read = read_regular_file(key_path, kMaxServerFileSize, cancel);
    if (read.failure == FileReadFailure::Cancelled) throw CoreError(read.error);
    if (!read.ok()) {
        out.error = read.error.message;
        return out;
    }
    std::string bytes = std::move(read.bytes);
    Wiper wipe(bytes);
    // Only markers are looked at, never the contents.
    if (bytes.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string::npos ||
        bytes.find("Proc-Type: 4,ENCRYPTED") != std::string::npos) {
        out.error = "the private key is passphrase-protected; not checked";
        return out;
    }
    ERR_clear_error();
    BioPtr bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (!bio) throw std::bad_alloc();
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!key) {
        out.error = "could not load the private key (" + take_openssl_error("not a PEM private key") + ")";
        return out;
    }
    out.matches = X509_check_private_key(leaf, key.get()) == 1;
    ERR_clear_error();
    return out;
}

ChainCheck check_chain(const std::vector<X509Ptr> &cert_file, const std::vector<X509Ptr> &ca_certs,
                       bool use_system_store) {
    ChainCheck out;
    if (cert_file.empty()) {
        out.error = "no certificate";
        return out;
    }
    ERR_clear_error();
    X509StorePtr store(X509_STORE_new());
    X509StackPtr untrusted(sk_X509_new_null());
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !untrusted || !ctx) throw std::bad_alloc();
    for (const auto &ca : ca_certs) X509_STORE_add_cert(store.get(), ca.get());
    if (use_system_store) X509_STORE_set_default_paths(store.get());
    for (std::size_t i = 0; i < cert_file.size(); ++i) {
        X509 *c = cert_file[i].get();
        if (is_self_signed_cert(c)) X509_STORE_add_cert(store.get(), c);
        if (i > 0 && sk_X509_push(untrusted.get(), c) <= 0) throw std::bad_alloc();
    }
    ERR_clear_error();  // "cert already in hash table" is not a problem
    X509 *leaf = cert_file.front().get();
    if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
        out.error = "could not set up verification (" + take_openssl_error("internal error") + ")";
        return out;
    }
    X509_STORE_CTX_set_verify_cb(ctx.get(), ignore_validity_period);
    const int ok = X509_verify_cert(ctx.get());
    if (ok == 1) {
        out.complete = true;
        ERR_clear_error();
        return out;
    }
    const int err = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509 *at = X509_STORE_CTX_get_current_cert(ctx.get());
    const std::string subject = at != nullptr ? name_to_string(X509_get_subject_name(at)) : std::string("?");
    switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        out.error = "the issuer " + quoted(at != nullptr ? name_to_string(X509_get_issuer_name(at)) : "?") +
                    " of " + quoted(subject) + " (chain position " + std::to_string(depth) +
                    ") is neither in ssl_cert_file nor in ssl_ca_file" +
                    (use_system_store ? " nor in the system's trusted certificates" : "");
        break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        out.error = "the chain ends in the self-signed " + quoted(subject) + ", which is not in ssl_ca_file";
        break;
    default:
        out.error = std::string(X509_verify_cert_error_string(err)) + " at chain position " +
                    std::to_string(depth) + " (" + quoted(subject) + ")";
        break;
    }
    ERR_clear_error();
    return out;
}

Expected<std::vector<CrlInfo>> parse_crls(std::string_view input) {
    auto bad = [](std::string msg) { return make_error(sqlstate::kInvalidParameter, std::move(msg)); };
    if (input.empty()) return bad("empty CRL input");
    if (input.size() > kMaxServerFileSize) return make_error(sqlstate::kProgramLimit, "CRL input too large");
    ERR_clear_error();
    std::vector<X509CrlPtr> crls;
    if (looks_like_pem(input)) {
        auto failed = for_each_pem_block(
            input, [&](int block, std::string_view label, const unsigned char *der, long len) -> std::optional<Error> {
                if (label != PEM_STRING_X509_CRL) return std::nullopt;
                const unsigned char *p = der;
                X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, len));
                if (!crl)
                    return bad("invalid CRL in PEM block " + std::to_string(block) + ": " +
                               take_openssl_error("not a CRL"));
                crls.push_back(std::move(crl));
                return std::nullopt;
            });
        if (failed) return *failed;
        if (crls.empty()) return bad("no CRL found in PEM input");
    } else {
        const auto *p = reinterpret_cast<const unsigned char *>(input.data());
        X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(input.size())));
        if (!crl) return bad("input is neither PEM nor a DER CRL (" + take_openssl_error("not a CRL") + ")");
        crls.push_back(std::move(crl));
    }
    std::vector<CrlInfo> out;
    for (const auto &crl : crls) {
        CrlInfo info;
        info.issuer = name_to_string(X509_CRL_get_issuer(crl.get()));
        info.last_update = asn1_epoch(X509_CRL_get0_lastUpdate(crl.get()));
        if (const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl.get())) info.next_update = asn1_epoch(next);
        if (STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl.get()))
            info.revoked = sk_X509_REVOKED_num(revoked);
        out.push_back(std::move(info));
    }
    ERR_clear_error();
    return out;
}

std::optional<std::string> self_probe_host(std::string_view listen_addresses) {
    // listen_addresses is a comma-separated list; entries may be double-quoted.
    std::size_t pos = 0;
    while (pos <= listen_addresses.size()) {
        std::size_t comma = listen_addresses.find(',', pos);
        std::string_view item = listen_addresses.substr(
            pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        pos = comma == std::string_view::npos ? listen_addresses.size() + 1 : comma + 1;
        const auto first = item.find_first_not_of(" \t\r\n");
        if (first == std::string_view::npos) continue;
        item = item.substr(first, item.find_last_not_of(" \t\r\n") - first + 1);
        if (item.size() >= 2 && item.front() == '"' && item.back() == '"') item = item.substr(1, item.size() - 2);
        if (item.empty()) continue;
        if (item == "*" || item == "0.0.0.0") return std::string("127.0.0.1");
        if (item == "::") return std::string("::1");
        return std::string(item);
    }
    return std::nullopt;
}

namespace {

// One server file read and parsed through `cache`, kept until the file's
// identity changes. `parse(bytes, parsed)` fills the entry or its error; a
// file that cannot be read leaves the read error. A cancelled read throws,
// so that nothing is cached for it.
template <class Parsed, class Parse>
std::shared_ptr<const Parsed> read_parsed(FileCache<Parsed> &cache, const std::string &key, const std::string &path,
                                          const CancelCheck &cancel, Parse parse) {
    return cache.get(key, {file_identity(path)}, [&]() {
        Parsed parsed;
        FileReadResult read = read_regular_file(path, kMaxServerFileSize, cancel);
        if (read.failure == FileReadFailure::Cancelled) throw CoreError(read.error);
        if (!read.ok())
            parsed.error = read.error.message;
        else
            parse(read.bytes, parsed);
        return parsed;
    });
}

}  // namespace

std::shared_ptr<const ServerFilesReader::ParsedCerts> ServerFilesReader::certificates(const std::string &path,
                                                                                        const CancelCheck &cancel) {
    return read_parsed(certs_, "certs\n" + path, path, cancel, [](std::string_view bytes, ParsedCerts &parsed) {
        auto certs = parse_certificates(bytes);
        if (!certs) {
            parsed.error = certs.error().message;
            return;
        }
        parsed.certs = std::move(certs).value();
        for (const auto &c : parsed.certs) parsed.infos.push_back(describe_certificate(c.get()));
    });
}

ServerFilesReport ServerFilesReader::read(const ServerFileSettings &s, const CancelCheck &cancel) {
    ServerFilesReport r;
    auto problem = [&r](const char *setting, const std::string &path, const std::string &why) {
        r.errors.push_back(std::string(setting) + " " + quoted(path) + ": " + why);
    };

    // The certificate chain file.
    std::shared_ptr<const ParsedCerts> cert;
    if (s.cert_file.empty()) {
        r.errors.push_back("ssl_cert_file is not set");
    } else {
        cert = certificates(s.cert_file, cancel);
        if (!cert->error.empty()) {
            problem("ssl_cert_file", s.cert_file, cert->error);
            cert.reset();
        } else {
            r.chain = cert->infos;
        }
    }

    // The key: mode and owner every time (chmod does not change the identity).
    if (s.key_file.empty()) {
        r.errors.push_back("ssl_key_file is not set");
    } else {
        auto perms = check_key_file(s.key_file, s.server_uid);
        if (perms) {
            r.key_permissions = perms.value();
            if (!perms.value().ok) problem("ssl_key_file", s.key_file, perms.value().problem);
        } else {
            problem("ssl_key_file", s.key_file, perms.error().message);
        }
        if (cert) {
            X509 *leaf = cert->certs.front().get();
            auto match = keys_.get("key\n" + s.key_file + "\n" + s.cert_file,
                                   {file_identity(s.key_file), file_identity(s.cert_file)},
                                   [&]() { return key_matches_certificate(s.key_file, leaf, cancel); });
            r.key_matches_cert = match->matches;
            if (!match->matches.has_value()) {
                if (perms) problem("ssl_key_file", s.key_file, match->error);  // else already reported
            } else if (!*match->matches) {
                problem("ssl_key_file", s.key_file, "the private key does not belong to the certificate in ssl_cert_file");
            }
        }
    }

    // The CA file.
    std::shared_ptr<const ParsedCerts> ca;
    if (!s.ca_file.empty()) {
        ca = certificates(s.ca_file, cancel);
        if (!ca->error.empty()) {
            problem("ssl_ca_file", s.ca_file, ca->error);
            ca.reset();
        } else {
            r.ca_certificates = ca->infos;
        }
    }

    // Chain completeness: needs the certificate file and, when set, the CA file.
    if (cert && (s.ca_file.empty() || ca)) {
        static const std::vector<X509Ptr> no_cas;
        const std::vector<X509Ptr> &anchors = ca ? ca->certs : no_cas;
        const bool system = s.ca_file.empty();
        auto chain = chains_.get("chain\n" + s.cert_file + "\n" + s.ca_file,
                                 {file_identity(s.cert_file), file_identity(s.ca_file)},
                                 [&]() { return check_chain(cert->certs, anchors, system); });
        r.chain_complete = chain->complete;
        r.chain_error = chain->error;
    } else if (cert) {
        r.chain_error = "ssl_ca_file could not be read";
    }

    // The CRL file, then the CRL directory (the server loads both).
    auto add_crls = [&r, &problem, &cancel, this](const char *setting, const std::string &path) {
        auto parsed = crls_of(path, cancel);
        if (!parsed->error.empty()) problem(setting, path, parsed->error);
        r.crls.insert(r.crls.end(), parsed->crls.begin(), parsed->crls.end());
    };
    if (!s.crl_file.empty()) add_crls("ssl_crl_file", s.crl_file);
    if (!s.crl_dir.empty()) {
        bool more = false;
        auto files = hashed_crl_files(s.crl_dir, more);
        if (!files) {
            problem("ssl_crl_dir", s.crl_dir, files.error().message);
        } else {
            for (const auto &path : files.value()) add_crls("ssl_crl_dir", path);
            if (more)
                problem("ssl_crl_dir", s.crl_dir,
                        "more than " + std::to_string(kMaxCrlDirFiles) + " CRL files; only " +
                            std::to_string(kMaxCrlDirFiles) + " were read");
        }
    }
    for (const auto &crl : r.crls)
        if (crl.next_update && (!r.crl_next_update || *crl.next_update < *r.crl_next_update))
            r.crl_next_update = crl.next_update;
    for (const auto &c : r.ca_certificates) {
        std::optional<std::int64_t> next;
        bool present = false;
        for (const auto &crl : r.crls) {
            if (crl.issuer != c.subject) continue;
            present = true;
            if (crl.next_update && (!next || *crl.next_update < *next)) next = crl.next_update;
        }
        r.ca_crl_next_update.push_back(next);
        r.ca_crl_present.push_back(present);
    }
    return r;
}

std::shared_ptr<const ServerFilesReader::ParsedCrls> ServerFilesReader::crls_of(const std::string &path,
                                                                                   const CancelCheck &cancel) {
    return read_parsed(crls_, "crl\n" + path, path, cancel, [](std::string_view bytes, ParsedCrls &parsed) {
        auto list = parse_crls(bytes);
        if (!list)
            parsed.error = list.error().message;
        else
            parsed.crls = std::move(list).value();
    });
}

bool is_hashed_crl_name(std::string_view name) {
    if (name.size() < 11 || name.size() > 20 || name.substr(8, 2) != ".r") return false;
    for (std::size_t i = 0; i < 8; ++i)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) return false;
    for (std::size_t i = 10; i < name.size(); ++i)
        if (name[i] < '0' || name[i] > '9') return false;
    return true;
}

Expected<std::vector<std::string>> hashed_crl_files(const std::string &dir, bool &more) {
    more = false;
    std::unique_ptr<DIR, int (*)(DIR *)> d(opendir(dir.c_str()), closedir);
    if (!d) return make_error(sqlstate::kIoError, std::string("could not open directory: ") + std::strerror(errno));
    std::vector<std::string> names;
    while (const struct dirent *e = readdir(d.get())) {
        if (!is_hashed_crl_name(e->d_name)) continue;
        names.emplace_back(e->d_name);
        if (names.size() > 10 * kMaxCrlDirFiles) break;  // bounded memory for an absurd directory
    }
    std::sort(names.begin(), names.end());
    if (names.size() > kMaxCrlDirFiles) {
        names.resize(kMaxCrlDirFiles);
        more = true;
    }
    const std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
    for (auto &n : names) n = prefix + n;
    return names;
}

std::size_t ServerFilesReader::loads() const {
    return certs_.loads() + keys_.loads() + chains_.loads() + crls_.loads();
}

std::optional<bool> reload_pending(const std::vector<CertInfo> &served, bool served_from_handshake,
                                   const std::vector<CertInfo> &file_chain) {
    if (served.empty() || file_chain.empty()) return std::nullopt;
    if (served[0].sha256 != file_chain[0].sha256) return true;
    if (file_chain.size() > 1 || served_from_handshake) {
        if (served.size() != file_chain.size()) return true;
        for (std::size_t i = 0; i < served.size(); ++i)
            if (served[i].sha256 != file_chain[i].sha256) return true;
    }
    return false;
}

}  // namespace tls_audit
