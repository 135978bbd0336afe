// libFuzzer target: certificate parsing (DER, PEM single and multi-block,
// other PEM blocks mixed in) through parse_certificates / certificate_infos,
// and the CRL parser (parse_crls) on the same bytes.
// Any crash, sanitizer report, leak or broken invariant below is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "certs/server_files.hpp"
#include "certs/x509.hpp"

using namespace tls_audit;

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

bool is_lower_hex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char *>(data), size);

    auto infos = certificate_infos(input);
    if (!infos) {
        // A clean error: SQLSTATE set and a message to show.
        require(infos.error().sqlstate.size() == 5);
        require(!infos.error().message.empty());
    } else {
        require(!infos.value().empty());
        for (const CertInfo &info : infos.value()) {
            require(info.sha256.size() == 64 && is_lower_hex(info.sha256));
            require(!info.key_type.empty());
            require(!info.signature_algorithm.empty());
            require(info.key_bits >= 0);
            (void)days_left(info.not_after, info.not_before);
            for (const auto &san : info.san) require(!san.empty());
        }
    }

    // The handle-returning parser must agree with the describing one.
    auto certs = parse_certificates(input);
    require(certs.ok() == infos.ok());
    if (certs) {
        require(certs.value().size() == infos.value().size());
        for (std::size_t i = 0; i < certs.value().size(); ++i)
            require(sha256_hex(certs.value()[i].get()) == infos.value()[i].sha256);
    }

    auto crls = parse_crls(input);
    if (!crls) {
        require(crls.error().sqlstate.size() == 5);
        require(!crls.error().message.empty());
    } else {
        require(!crls.value().empty());
        for (const CrlInfo &crl : crls.value()) require(crl.revoked >= 0);
    }
    return 0;
}
