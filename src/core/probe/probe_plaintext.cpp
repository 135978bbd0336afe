#include "probe/probe_plaintext.hpp"
#include "probe/wire_bytes.hpp"

#include <fcntl.h>

#include <algorithm>

namespace tls_audit {

namespace {

PlaintextReport unknown(std::string detail) {
    PlaintextReport r;
    r.verdict = PlaintextVerdict::Unknown;
    r.detail = std::move(detail);
    return r;
}

// The name of an authentication request code; empty for codes that cannot be
// a server's first answer.
std::string auth_request_name(std::uint32_t code, std::string_view body) {
    switch (code) {
    case 0: return "AuthenticationOk";
    case 2: return "AuthenticationKerberosV5";
    case 3: return "AuthenticationCleartextPassword";
    case 5: return "AuthenticationMD5Password";
    case 6: return "AuthenticationSCMCredential";
    case 7: return "AuthenticationGSS";
    case 9: return "AuthenticationSSPI";
    case 10: {
        // The mechanisms: NUL-terminated names, an empty one ends the list.
        std::string mechs;
        while (!body.empty() && body[0] != '\0') {
            std::size_t end = body.find('\0');
            if (end == std::string_view::npos) break;
            mechs += (mechs.empty() ? "" : ", ") + printable(body.substr(0, end), 64);
            body.remove_prefix(end + 1);
        }
        return "AuthenticationSASL" + (mechs.empty() ? std::string() : " (" + mechs + ")");
    }
    default: return {};
    }
}

}  // namespace

const char *plaintext_verdict_name(PlaintextVerdict v) {
    switch (v) {
    case PlaintextVerdict::Accepted: return "accepted";
    case PlaintextVerdict::Refused: return "refused";
    case PlaintextVerdict::Unknown: return "unknown";
    }
    return "unknown";
}

std::optional<Error> validate_startup_names(const std::string &user, const std::string &database) {
    auto bad = [](std::string msg) {
        return make_error(sqlstate::kInvalidParameter, std::move(msg),
                          "Name a user (and database) of at most " + std::to_string(kMaxStartupName) + " bytes.");
    };
    if (user.empty()) return bad("the plaintext probe's user name must not be empty");
    if (user.size() > kMaxStartupName) return bad("the plaintext probe's user name is too long");
    if (database.size() > kMaxStartupName) return bad("the plaintext probe's database name is too long");
    if (user.find('\0') != std::string::npos || database.find('\0') != std::string::npos)
        return bad("the plaintext probe's user and database names must not contain NUL bytes");
    return std::nullopt;
}

std::string build_startup_message(const std::string &user, const std::string &database) {
    std::string body;
    put32(body, 196608);  // protocol 3.0
    auto param = [&body](const char *name, const std::string &value) {
        body += name;
        body += '\0';
        body += value;
        body += '\0';
    };
    param("user", user);
    if (!database.empty()) param("database", database);
    param("application_name", kPlaintextApplicationName);
    body += '\0';
    std::string out;
    put32(out, static_cast<std::uint32_t>(body.size() + 4));
    return out + body;
}

bool parse_error_fields(std::string_view message, std::string &sqlstate_out, std::string &text,
                        std::string *field_codes) {
    if (message.size() < 5) return false;
    std::uint32_t len = be32(message.substr(1));
    if (len < 5 || len > kMaxPlaintextAnswer || message.size() < 1 + static_cast<std::size_t>(len)) return false;
    std::string_view fields = message.substr(5, len - 4);
    bool any = false;
    while (!fields.empty() && fields[0] != '\0') {
        char type = fields[0];
        std::size_t end = fields.find('\0', 1);
        if (end == std::string_view::npos) return false;
        std::string_view value = fields.substr(1, end - 1);
        if (field_codes != nullptr && field_codes->size() < 32) *field_codes += printable(std::string_view(&type, 1), 1);
        if (type == 'C') {
            sqlstate_out = printable(value, 5);
            any = true;
        } else if (type == 'M') {
            text = printable(value, 400);
            any = true;
        }
        fields.remove_prefix(end + 1);
    }
    return any && !fields.empty();  // the terminating 0 byte is there
}

std::optional<PlaintextReport> classify_plaintext_answer(std::string_view answer, bool closed) {
    if (answer.empty()) {
        if (closed) return unknown("the server closed the connection without answering the StartupMessage");
        return std::nullopt;
    }
    const unsigned char type = static_cast<unsigned char>(answer[0]);
    if (type != 'R' && type != 'E')
        return unknown("not a PostgreSQL answer to a StartupMessage: got byte " + byte_text(type));
    if (answer.size() < 5) {
        if (closed) return unknown("the server closed the connection in the middle of its answer");
        return std::nullopt;
    }
    const std::uint32_t len = be32(answer.substr(1));
    if (len < 4 || len > kMaxPlaintextAnswer || (type == 'R' && len < 8))
        return unknown("not a PostgreSQL answer to a StartupMessage: message '" + std::string(1, static_cast<char>(type)) +
                       "' with length " + std::to_string(len));
    if (answer.size() < 1 + static_cast<std::size_t>(len)) {
        if (closed) return unknown("the server closed the connection in the middle of its answer");
        return std::nullopt;
    }
    if (type == 'R') {
        std::uint32_t code = be32(answer.substr(5));
        std::string name = auth_request_name(code, answer.substr(9, len - 8));
        if (name.empty()) return unknown("unexpected authentication message code " + std::to_string(code));
        PlaintextReport r;
        r.verdict = PlaintextVerdict::Accepted;
        r.auth_request = std::move(name);
        return r;
    }
    PlaintextReport r;
    std::string codes;
    if (!parse_error_fields(answer, r.sqlstate, r.message, &codes))
        return unknown("the server sent a malformed ErrorResponse");
    r.verdict = PlaintextVerdict::Refused;
    r.pooler = pooler_evidence(codes, r.sqlstate, r.message);
    return r;
}

std::string pooler_evidence(std::string_view field_codes, std::string_view sqlstate, std::string_view message) {
    // PostgreSQL (9.6 and later) writes S, V, C, M, then F, L and R (the
    // source file, line and routine of the ereport) into every ErrorResponse.
    // pgbouncer's own errors (send_pooler_error in its src/proto.c) carry
    // exactly S, C and M; it refuses a plaintext StartupMessage, when its
    // client_tls_sslmode is require or stricter, with 08P01 "SSL required".
    if (field_codes != "SCM") return "";
    if (sqlstate == "08P01" && message == "SSL required")
        return "pgbouncer's refusal (08P01 \"SSL required\": its client_tls_sslmode is require or stricter)";
    return "an ErrorResponse shaped like pgbouncer's (severity, SQLSTATE and message only; PostgreSQL also "
           "sends V, F, L and R)";
}

Expected<PlaintextReport> probe_plaintext_on_fd(int fd, const ProbeTarget &target, const std::string &user,
                                                const std::string &database, const CancelCheck &cancel) {
    if (auto err = validate_startup_names(user, database)) return *err;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return make_error(sqlstate::kInvalidParameter, "the probe socket is not usable");
    ProbeContext ctx(format_host_port(target.host, target.port), target.timeout_ms, cancel);
    const std::string startup = build_startup_message(user, database);
    if (auto err = send_all(fd, reinterpret_cast<const unsigned char *>(startup.data()), startup.size(), ctx,
                            "sending the StartupMessage"))
        return *err;
    std::string answer;
    unsigned char buf[1024];
    std::optional<PlaintextReport> report;
    for (;;) {
        auto n = recv_some(fd, buf, sizeof buf, ctx, "waiting for the answer to the StartupMessage");
        if (!n) {
            if (n.error().sqlstate == sqlstate::kQueryCanceled) return n.error();
            // A silent peer (or a reset) leaves the answer unknown.
            report = unknown(n.error().message);
            break;
        }
        bool closed = n.value() == 0;
        answer.append(reinterpret_cast<const char *>(buf), n.value());
        report = classify_plaintext_answer(answer, closed);
        if (report) break;
        if (answer.size() > kMaxPlaintextAnswer + 5) {
            report = unknown("the server's first answer is too long");
            break;
        }
    }
    // Nothing more is sent: the caller's close ends the conversation, which a
    // server waiting for a password takes silently (as from psql asking the
    // user for one and giving up).
    report->user = user;
    report->database = database;
    return std::move(*report);
}

Expected<PlaintextReport> probe_plaintext(const ProbeTarget &target, const std::string &user,
                                          const std::string &database, const CancelCheck &cancel) {
    if (auto err = validate_target(target)) return *err;
    if (auto err = validate_startup_names(user, database)) return *err;
    ProbeContext ctx(format_host_port(target.host, target.port), target.timeout_ms, cancel);
    auto fd = connect_tcp(target.host, target.port, ctx);
    if (!fd) return fd.error();
    // The budget covers connect and answer together, as for the TLS probes.
    ProbeTarget rest = target;
    rest.timeout_ms = std::max(1, ctx.deadline.remaining_ms());
    return probe_plaintext_on_fd(fd.value().get(), rest, user, database, cancel);
}

}  // namespace tls_audit
