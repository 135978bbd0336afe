// The reload pre-flight: what pg_reload_conf() would do with the TLS files
// and settings as they are now. Builds a throw-away SSL_CTX in the calling
// process the way PostgreSQL's be_tls_init() builds the server's (same
// OpenSSL library and configuration, hence the same security level), stage by
// stage, and reports each stage's outcome with OpenSSL's reason verbatim.
//
// Every file is read by read_regular_file() (base/file_reader.hpp) and handed
// to OpenSSL as a memory BIO, never as a path: a FIFO, device, socket or
// directory at a path fails its stage at once ("ssl_cert_file ... is a FIFO:
// the next reload or restart will hang or fail") instead of hanging the
// caller. ssl_crl_dir is only recorded, as the server records it (OpenSSL
// reads that directory's files when it verifies a client certificate).
//
// Nothing here touches the running server's TLS state: the context is freed
// on return. The passphrase command is never run: a passphrase-protected key
// is reported as such. Private key material is parsed into OpenSSL objects and
// freed; no part of it is returned or formatted.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/file_reader.hpp"

TLS_AUDIT_AREA(certs);

namespace tls_audit {

// The settings a reload would apply (current values, overridden by the ones
// changed in the configuration files and not applied yet).
struct PreflightSettings {
    std::string cert_file, key_file, ca_file, crl_file, crl_dir;
    std::string dh_params_file;
    std::string ciphers;        // ssl_ciphers
    std::string tls13_ciphers;  // ssl_tls13_ciphers (18+); '' = OpenSSL's default
    std::string groups;         // ssl_groups (18+) or ssl_ecdh_curve; '' = OpenSSL's default
    bool groups_is_list = false;  // ssl_groups (a colon-separated list) rather than one curve name
    std::string min_protocol, max_protocol;  // '' = no limit
    bool passphrase_command = false;          // ssl_passphrase_command is set
    bool passphrase_supports_reload = false;  // ssl_passphrase_command_supports_reload
    std::uint32_t server_uid = 0;             // for the key file's permission rule
};

// One stage of the load, in the server's order: certificate, key, key_match,
// ca, crl, dh_params, ciphers, protocols.
struct PreflightStage {
    std::string stage;
    std::string file;         // the file of the stage; empty when none
    std::optional<bool> ok;   // nullopt: could not be decided (passphrase command not run)
    std::string error;        // OpenSSL's reason (or the server's own rule); empty when ok
    std::string file_kind;    // "a FIFO", "a directory", ... when the stage's file is not a regular file
};

// The stage names, in order.
const std::vector<std::string> &preflight_stage_names();

// Runs every stage. When `cancel` says stop (between file chunks), throws
// CoreError (57014).
std::vector<PreflightStage> run_reload_preflight(const PreflightSettings &s, const CancelCheck &cancel = {});

// False when a stage failed (ok == false); stages that could not be decided
// do not count as failures.
bool preflight_would_succeed(const std::vector<PreflightStage> &stages);

// The first failed stage, as "stage (file): error"; empty when none failed.
std::string preflight_failure(const std::vector<PreflightStage> &stages);

}  // namespace tls_audit
