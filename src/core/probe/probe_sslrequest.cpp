#include "probe/probe_sslrequest.hpp"
#include "probe/wire_bytes.hpp"

#include <cstdint>

namespace tls_audit {

namespace {

// Before it knows the client's protocol version (as when it refuses an
// SSLRequest), PostgreSQL writes an error the old way: 'E', then the text
// and a NUL, with no length word ("FATAL:  sorry, too many clients
// already\n"). The text, or empty when the bytes are not such a message.
std::string old_style_error(std::string_view response) {
    const std::size_t end = response.find('\0');
    if (end == std::string_view::npos || end == 0) return {};
    std::string_view text = response.substr(0, end);
    for (char c : text)
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') return {};
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    return printable(text, 200);
}
}  // namespace

std::string error_response_message(std::string_view response) {
    if (response.size() < 4) return old_style_error(response);
    std::uint32_t len = be32(response);
    if (len < 4 || len > kMaxErrorResponse) return old_style_error(response);
    std::string_view fields = response.substr(4, len - 4);
    // Fields: a type byte, then a NUL-terminated string; a 0 type byte ends them.
    while (!fields.empty() && fields[0] != '\0') {
        char type = fields[0];
        std::size_t end = fields.find('\0', 1);
        if (end == std::string_view::npos) return {};
        if (type == 'M') return printable(fields.substr(1, end - 1), 200);
        fields.remove_prefix(end + 1);
    }
    return {};
}

Error ssl_refusal_error(unsigned char reply, std::string_view error_body, const std::string &where) {
    if (reply == 'N')
        return make_error(sqlstate::kCannotConnect, "server does not support SSL",
                          "Set ssl = on in the server's postgresql.conf.",
                          where + " answered 'N' to SSLRequest.");
    if (reply == 'E') {
        std::string text = error_response_message(error_body);
        if (!text.empty())
            return make_error(sqlstate::kConnectionFailure,
                              "server refused SSLRequest with an error: " + text, {},
                              where + " answered SSLRequest with an ErrorResponse.");
        return make_error(sqlstate::kConnectionFailure,
                          "server refused SSLRequest with an error (its message could not be read)", {},
                          where + " answered 'E'; the ErrorResponse that should follow was missing or malformed.");
    }
    return make_error(sqlstate::kConnectionFailure,
                      "not a PostgreSQL server or it refused SSLRequest: got byte " + byte_text(reply),
                      "Check the port: a PostgreSQL server answers SSLRequest with 'S' or 'N'.",
                      where + " sent an unexpected reply.");
}

namespace {

// After 'E': read what the server sends until it closes, up to the limit, to
// quote its message. Any failure only makes the message less specific.
std::string read_error_body(int fd, const ProbeContext &ctx) {
    std::string body;
    unsigned char buf[1024];
    while (body.size() < kMaxErrorResponse) {
        auto n = recv_some(fd, buf, sizeof buf, ctx, "reading the server's error response");
        if (!n || n.value() == 0) break;
        body.append(reinterpret_cast<const char *>(buf), n.value());
        if (body.size() >= 4 && body.size() >= be32(body)) break;  // the whole message is here
    }
    return body;
}

}  // namespace

std::optional<Error> negotiate_ssl_request(int fd, const ProbeContext &ctx) {
    if (auto err = send_all(fd, kSslRequest, sizeof kSslRequest, ctx, "sending SSLRequest"))
        return err;
    unsigned char reply = 0;
    auto n = recv_some(fd, &reply, 1, ctx, "waiting for the answer to SSLRequest");
    if (!n) return n.error();
    if (n.value() == 0)
        return make_error(sqlstate::kConnectionFailure,
                          "server closed the connection before answering SSLRequest", {},
                          ctx.where + " accepted the TCP connection, then closed it.");
    if (reply == 'S') return std::nullopt;
    std::string body = reply == 'E' ? read_error_body(fd, ctx) : std::string();
    return ssl_refusal_error(reply, body, ctx.where);
}

}  // namespace tls_audit
