// Plaintext acceptance: does a PostgreSQL server let an unencrypted
// connection reach authentication? One StartupMessage without SSLRequest, the
// first answer classified, then the connection is closed without sending
// anything else (never a password). The message building and the answer
// classification are pure (bytes in, values out) for tests and fuzzing.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "probe/probe.hpp"
#include "probe/probe_io.hpp"

TLS_AUDIT_AREA(probe);

namespace tls_audit {

// The user name sent when the caller names none: a role that should not
// exist, so that no real account is touched (pg_hba still decides on it).
inline constexpr const char *kPlaintextDefaultUser = "pg_tls_audit_no_such_user";
// application_name sent with the StartupMessage, so the probe is visible in
// server logs that show it.
inline constexpr const char *kPlaintextApplicationName = "pg_tls_audit plaintext probe";
// Longest user or database name accepted (PostgreSQL's NAMEDATALEN is 64).
inline constexpr std::size_t kMaxStartupName = 63;
// Largest first answer read (an ErrorResponse with a long message).
inline constexpr std::size_t kMaxPlaintextAnswer = 8192;

enum class PlaintextVerdict {
    Accepted,  // an authentication request or AuthenticationOk came back
    Refused,   // an ErrorResponse came back
    Unknown,   // anything else: not PostgreSQL, closed, garbage, silence
};

const char *plaintext_verdict_name(PlaintextVerdict v);  // "accepted", "refused", "unknown"

struct PlaintextReport {
    PlaintextVerdict verdict = PlaintextVerdict::Unknown;
    std::string user;      // as sent
    std::string database;  // as sent; empty: not sent (the server uses the user name)
    // Accepted: the authentication request, e.g. "AuthenticationOk",
    // "AuthenticationSASL (SCRAM-SHA-256)", "AuthenticationMD5Password".
    std::string auth_request;
    // Refused: the ErrorResponse's SQLSTATE ('C') and message ('M'), printable.
    std::string sqlstate;
    std::string message;
    // Refused: non-empty when the answer came from a connection pooler, not
    // PostgreSQL: what shows it (pooler_evidence). The TLS then checked is
    // the client -> pooler leg only.
    std::string pooler;
    // Unknown: what was seen instead ("server closed the connection ...").
    std::string detail;
};

// The StartupMessage (protocol 3.0): user, database when not empty,
// application_name. Names must be checked with validate_startup_names first.
std::string build_startup_message(const std::string &user, const std::string &database);

// 22023 for an empty or too long user, a too long database, or NUL bytes.
std::optional<Error> validate_startup_names(const std::string &user, const std::string &database);

// Classify the first bytes the server sent after the StartupMessage (possibly
// incomplete when `closed` says the server hung up). Returns nullopt when more
// bytes are needed to decide.
std::optional<PlaintextReport> classify_plaintext_answer(std::string_view answer, bool closed);

// The ErrorResponse/NoticeResponse body fields 'C' and 'M' of a message that
// starts with its type byte; false when malformed. `field_codes`, when given,
// gets the field type bytes in order (e.g. "SVCMFLR" from PostgreSQL).
bool parse_error_fields(std::string_view message, std::string &sqlstate, std::string &text,
                        std::string *field_codes = nullptr);

// Why an ErrorResponse (its field codes, SQLSTATE and message) is a pooler's
// (pgbouncer) and not PostgreSQL's; empty when nothing says so.
std::string pooler_evidence(std::string_view field_codes, std::string_view sqlstate, std::string_view message);

// Connect to target.host:target.port, send the StartupMessage, classify the
// first answer, close. Connection failures, bad arguments and cancel are
// Errors (08001/08006, 22023, 57014); a timeout waiting for the answer is an
// Unknown report. target.sni/ca_file are not used.
Expected<PlaintextReport> probe_plaintext(const ProbeTarget &target, const std::string &user,
                                          const std::string &database, const CancelCheck &cancel = {});

// The same over an already connected socket (made non-blocking, not closed).
Expected<PlaintextReport> probe_plaintext_on_fd(int fd, const ProbeTarget &target, const std::string &user,
                                                const std::string &database, const CancelCheck &cancel = {});

}  // namespace tls_audit
