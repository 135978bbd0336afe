// The server's own TLS files, read as the server would read them: the
// certificate chain file, the private key (only to learn whether it belongs
// to the certificate, and its mode and owner), the CA file and the CRL file.
//
// Private key material never leaves this file: the key is parsed into an
// OpenSSL object, compared with the certificate and freed; the bytes read are
// wiped. No function here returns, logs or formats any part of a key.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/crypto.h>

#include "base/error.hpp"
#include "certs/file_cache.hpp"
#include "base/openssl_ptr.hpp"
#include "certs/x509.hpp"

TLS_AUDIT_AREA(certs);

namespace tls_audit {

// Largest key, certificate, CA or CRL file read (bytes).
inline constexpr std::size_t kMaxServerFileSize = kMaxCertificateInput;

// ssl_cert_file and friends, as the server's settings name them (relative
// paths are relative to the current directory: the data directory in a
// backend). Empty means "not set".
struct ServerFileSettings {
    std::string cert_file;
    std::string key_file;
    std::string ca_file;
    std::string crl_file;
    std::string crl_dir;  // ssl_crl_dir (PostgreSQL 14+)
    std::uint32_t server_uid = 0;  // effective uid of the server process
};

// Mode and owner of the private key file judged by PostgreSQL's own rule
// (src/backend/libpq/be-secure-common.c, check_ssl_key_file_permissions): a
// regular file, owned by the server user with no group or other access
// (0600 or less), or owned by root with at most group read (0640 or less).
struct KeyFilePermissions {
    std::string mode;  // permission bits in octal, e.g. "0600"
    std::uint32_t owner_uid = 0;
    std::string owner;  // user name, or the uid as text when it has none
    bool ok = false;
    std::string problem;  // why PostgreSQL would refuse it, when !ok
};

// The rule alone, over stat() results.
KeyFilePermissions judge_key_file_permissions(std::uint32_t st_mode, std::uint32_t owner_uid,
                                              std::uint32_t server_uid);

// stat(path) and judge it. A missing file is an Error (58030).
Expected<KeyFilePermissions> check_key_file(const std::string &path, std::uint32_t server_uid);

// Whether the private key in `key_path` (PEM, as PostgreSQL requires) belongs
// to `leaf`. `matches` is nullopt when the key cannot be checked (missing,
// unreadable, passphrase-protected, not a key); `error` then says why, in
// words that never quote the file's contents.
struct KeyMatch {
    std::optional<bool> matches;
    std::string error;
};
KeyMatch key_matches_certificate(const std::string &key_path, X509 *leaf, const CancelCheck &cancel = {});

// Whether a chain from the leaf to a trust anchor can be built from the
// certificate file's other certificates (untrusted) and the CA certificates
// (trusted; when `use_system_store`, the system's default store instead).
// Self-signed certificates of the certificate file count as anchors too.
// Validity periods are ignored here (days_left reports them); any other
// verification failure makes the chain incomplete, with a reason.
struct ChainCheck {
    bool complete = false;
    std::string error;  // empty when complete
};
ChainCheck check_chain(const std::vector<X509Ptr> &cert_file, const std::vector<X509Ptr> &ca_certs,
                       bool use_system_store);

// One certificate revocation list.
struct CrlInfo {
    std::string issuer;  // RFC 2253
    std::int64_t last_update = 0;
    std::optional<std::int64_t> next_update;
    int revoked = 0;  // number of revoked serials listed
};

// PEM (one or more "X509 CRL" blocks; other blocks are skipped undecoded) or
// one DER CRL. Errors as for certificates (22023).
Expected<std::vector<CrlInfo>> parse_crls(std::string_view input);

// Most files read from ssl_crl_dir.
inline constexpr std::size_t kMaxCrlDirFiles = 1000;

// Whether `name` is a file OpenSSL's hashed-directory lookup (which the server
// uses for ssl_crl_dir) reads as a CRL: the issuer's name hash in 8 lower-case
// hex digits, ".r" and a decimal sequence number, as `openssl rehash` names
// them. Other files in the directory are invisible to the server.
bool is_hashed_crl_name(std::string_view name);

// The paths of the CRL files in `dir` (see is_hashed_crl_name), sorted by
// name, at most kMaxCrlDirFiles of them (`more` is set when there were more;
// the listing stops at ten times that, so the ones kept are then not
// necessarily the first by name).
// Errors: the directory cannot be opened (58030).
Expected<std::vector<std::string>> hashed_crl_files(const std::string &dir, bool &more);

// Where a loopback self-probe of this server should connect, from
// listen_addresses: nullopt when the server listens on no TCP address. '*'
// and '0.0.0.0' become 127.0.0.1, '::' becomes ::1, anything else is the
// first entry itself.
std::optional<std::string> self_probe_host(std::string_view listen_addresses);

// Everything server_tls(), server_certificates and ca_certificates show about
// the files.
struct ServerFilesReport {
    std::vector<CertInfo> chain;  // ssl_cert_file in file order, [0] = leaf; empty when unreadable
    std::optional<bool> key_matches_cert;
    std::optional<KeyFilePermissions> key_permissions;  // nullopt when the key file cannot be stat'ed
    std::optional<bool> chain_complete;
    std::string chain_error;
    std::vector<CertInfo> ca_certificates;                  // ssl_ca_file in file order
    std::vector<std::optional<std::int64_t>> ca_crl_next_update;  // per CA: its CRL's next update
    std::vector<bool> ca_crl_present;  // per CA: a CRL it issued is in ssl_crl_file or ssl_crl_dir
    std::vector<CrlInfo> crls;                              // ssl_crl_file, then ssl_crl_dir
    std::optional<std::int64_t> crl_next_update;            // the earliest next update of all CRLs
    std::vector<std::string> errors;  // each file problem, "ssl_cert_file \"x\": reason"
};

// Whether the certificate the server serves differs from ssl_cert_file, so
// that a configuration reload is pending: another leaf, or another chain
// where the chain is comparable (a leaf-only file is completed from
// ssl_ca_file when served, which a self-probe sees but the file does not
// show; a handshake capture records exactly what was sent). nullopt when
// either side is unknown. `served` and `file_chain` are leaf first;
// certificates are compared by SHA-256.
std::optional<bool> reload_pending(const std::vector<CertInfo> &served, bool served_from_handshake,
                                   const std::vector<CertInfo> &file_chain);

// Reads the files through caches keyed by path and file identity: a file is
// parsed again only when its identity changes. Mode and owner of the key file
// are looked at on every read. One per backend; not thread-safe. Every file
// goes through read_regular_file(): a FIFO, device, socket or directory at a
// path is reported in `errors` ("is a FIFO, not a regular file"), never
// waited on. When `cancel` says stop, read() throws CoreError (57014) and
// caches nothing.
class ServerFilesReader {
  public:
    ServerFilesReport read(const ServerFileSettings &settings, const CancelCheck &cancel = {});

    // Parses done so far (certificate files, key checks, chain checks, CRLs); for tests.
    std::size_t loads() const;

  private:
    struct ParsedCerts {
        std::vector<X509Ptr> certs;
        std::vector<CertInfo> infos;
        std::string error;  // when the file could not be read or parsed
    };
    struct ParsedCrls {
        std::vector<CrlInfo> crls;
        std::string error;
    };
    std::shared_ptr<const ParsedCerts> certificates(const std::string &path, const CancelCheck &cancel);
    std::shared_ptr<const ParsedCrls> crls_of(const std::string &path, const CancelCheck &cancel);

    FileCache<ParsedCerts> certs_;
    FileCache<KeyMatch> keys_;
    FileCache<ChainCheck> chains_;
    FileCache<ParsedCrls> crls_;
};

// Overwrites a buffer that held key material when it goes out of scope (the
// server files reader and the reload pre-flight both read key files).
class Wiper {
  public:
    explicit Wiper(std::string &s) : s_(s) {}
    Wiper(const Wiper &) = delete;
    Wiper &operator=(const Wiper &) = delete;
    ~Wiper() {
        if (!s_.empty()) OPENSSL_cleanse(&s_[0], s_.size());
    }

  private:
    std::string &s_;
};

}  // namespace tls_audit
