#include "certs/x509.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <ctime>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/openssl_compat.hpp"
#include "certs/pem.hpp"

namespace tls_audit {

std::string take_openssl_error(const char *fallback) {
    unsigned long first = ERR_get_error();
    if (first == 0) return fallback;
    ERR_clear_error();
    // Keep the first error: later ones are usually "PEM lib"-style wrappers.
    // A system error (fopen of a CA file, ...) carries errno as its reason
    // and has no reason string: say what errno says ("Permission denied").
    if (ERR_GET_LIB(first) == ERR_LIB_SYS) {
        const int err = ERR_GET_REASON(first);
        return err != 0 ? std::string(std::strerror(err)) : std::string(fallback);
    }
    if (ERR_GET_LIB(first) == ERR_LIB_ASN1 && ERR_GET_REASON(first) == ASN1_R_INVALID_UTF8STRING)
        return "a UTF8String is not valid UTF-8";
    const char *reason = ERR_reason_error_string(first);
    if (reason == nullptr) return fallback;
    return reason;
}

namespace {


std::string bio_text(BIO *bio) {
    char *data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    if (len <= 0 || data == nullptr) return {};
    return std::string(data, static_cast<std::size_t>(len));
}

BioPtr new_mem_bio() {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio) throw std::bad_alloc();
    return bio;
}

std::int64_t asn1_time_to_epoch(const ASN1_TIME *t) {
    struct tm tm {};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return static_cast<std::int64_t>(timegm(&tm));
}

std::string serial_hex(X509 *cert) {
    const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
    std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>> bn(ASN1_INTEGER_to_BN(serial, nullptr));
    if (!bn) return {};
    OpenSslString hex(BN_bn2hex(bn.get()));
    return hex ? std::string(hex.get()) : std::string();
}

std::string key_type_name(int base_id) {
    switch (base_id) {
    case EVP_PKEY_RSA: return "RSA";
    case EVP_PKEY_RSA_PSS: return "RSA-PSS";
    case EVP_PKEY_EC: return "EC";
    case EVP_PKEY_ED25519: return "Ed25519";
    case EVP_PKEY_ED448: return "Ed448";
    case EVP_PKEY_DSA: return "DSA";
    case EVP_PKEY_DH: return "DH";
    default: {
        const char *sn = OBJ_nid2sn(base_id);
        return sn != nullptr ? sn : "unknown";
    }
    }
}

std::string general_name_text(const GENERAL_NAME *gn) {
    switch (gn->type) {
    case GEN_DNS:
    case GEN_EMAIL:
    case GEN_URI: {
        const ASN1_IA5STRING *s = gn->d.ia5;
        std::string value(reinterpret_cast<const char *>(ASN1_STRING_get0_data(s)),
                          static_cast<std::size_t>(ASN1_STRING_length(s)));
        const char *prefix = gn->type == GEN_DNS ? "DNS:" : gn->type == GEN_EMAIL ? "email:" : "URI:";
        return prefix + value;
    }
    case GEN_IPADD: {
        const ASN1_OCTET_STRING *ip = gn->d.ip;
        char buf[INET6_ADDRSTRLEN] = {0};
        int len = ASN1_STRING_length(ip);
        const unsigned char *bytes = ASN1_STRING_get0_data(ip);
        if (len == 4 && inet_ntop(AF_INET, bytes, buf, sizeof buf) != nullptr) return std::string("IP:") + buf;
        if (len == 16 && inet_ntop(AF_INET6, bytes, buf, sizeof buf) != nullptr) return std::string("IP:") + buf;
        return "IP:<invalid>";
    }
    case GEN_DIRNAME: return "DirName:" + name_to_string(gn->d.directoryName);
    default: return "othername:<unsupported>";
    }
}

std::vector<std::string> subject_alt_names(X509 *cert) {
    std::vector<std::string> out;
    GeneralNamesPtr names(
        static_cast<GENERAL_NAMES *>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    if (!names) return out;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i)
        out.push_back(general_name_text(sk_GENERAL_NAME_value(names.get(), i)));
    return out;
}

bool is_self_signed(X509 *cert) {
    return openssl_compat::self_signed(cert);
}

Error bad_input(std::string message, std::string hint = {}) {
    return make_error(sqlstate::kInvalidParameter, std::move(message), std::move(hint));
}

Expected<std::vector<X509Ptr>> parse_der(std::string_view input) {
    const auto *p = reinterpret_cast<const unsigned char *>(input.data());
    const unsigned char *start = p;
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(input.size())));
    if (!cert) {
        std::string why = take_openssl_error("not a DER certificate");
        // A complete DER SEQUENCE whose content OpenSSL refused is a broken
        // certificate, not some other format: say what is wrong in it.
        const unsigned char *q = start;
        long length = 0;
        int tag = 0, cls = 0;
        const int info = ASN1_get_object(&q, &length, &tag, &cls, static_cast<long>(input.size()));
        const bool der_sequence = (info & 0x80) == 0 && tag == V_ASN1_SEQUENCE && cls == V_ASN1_UNIVERSAL &&
                                  static_cast<std::size_t>(q - start) + static_cast<std::size_t>(length) == input.size();
        if (der_sequence)
            return bad_input("invalid DER certificate: " + why,
                             "The input is DER-encoded but not a valid X.509 certificate; check how it was produced.");
        return bad_input("input is neither PEM nor a DER certificate (" + why + ")",
                         "Pass DER bytes of one certificate, or PEM text with -----BEGIN CERTIFICATE----- blocks.");
    }
    if (static_cast<std::size_t>(p - start) != input.size())
        return bad_input("invalid certificate: trailing data after the DER certificate",
                         "Pass exactly one DER certificate, or PEM text.");
    std::vector<X509Ptr> out;
    out.push_back(std::move(cert));
    return out;
}

bool is_certificate_label(std::string_view label) {
    return label == PEM_STRING_X509 || label == PEM_STRING_X509_OLD || label == PEM_STRING_X509_TRUSTED;
}

Expected<std::vector<X509Ptr>> parse_pem(std::string_view input) {
    std::vector<X509Ptr> out;
    auto failed = for_each_pem_block(
        input, [&](int block, std::string_view label, const unsigned char *der, long len) -> std::optional<Error> {
            if (!is_certificate_label(label)) return std::nullopt;  // keys, CRLs, ...: skipped
            const unsigned char *p = der;
            X509Ptr cert(label == PEM_STRING_X509_TRUSTED ? d2i_X509_AUX(nullptr, &p, len)
                                                          : d2i_X509(nullptr, &p, len));
            if (!cert)
                return bad_input("invalid certificate in PEM block " + std::to_string(block) + ": " +
                                 take_openssl_error("not a certificate"));
            out.push_back(std::move(cert));
            return std::nullopt;
        });
    if (failed) return *failed;
    if (out.empty())
        return bad_input("no certificate found in PEM input",
                         "Expected at least one -----BEGIN CERTIFICATE----- block.");
    return out;
}

}  // namespace

std::string name_to_string(const X509_NAME *name) {
    if (name == nullptr) return {};
    BioPtr bio = new_mem_bio();
    // RFC 2253 with UTF-8 kept as is (the same flags PostgreSQL uses for peer DNs).
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    return bio_text(bio.get());
}

std::string sha256_hex(X509 *cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(digits[md[i] >> 4]);
        out.push_back(digits[md[i] & 0xf]);
    }
    return out;
}

CertInfo describe_certificate_brief(X509 *cert) {
    CertInfo info;
    info.subject = name_to_string(X509_get_subject_name(cert));
    info.issuer = name_to_string(X509_get_issuer_name(cert));
    info.serial = serial_hex(cert);
    info.not_before = asn1_time_to_epoch(X509_get0_notBefore(cert));
    info.not_after = asn1_time_to_epoch(X509_get0_notAfter(cert));
    if (EVP_PKEY *key = X509_get0_pubkey(cert)) {
        info.key_type = key_type_name(EVP_PKEY_get_base_id(key));
        info.key_bits = EVP_PKEY_get_bits(key);
        char group[80] = {0};
        std::size_t glen = 0;
        if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
            EVP_PKEY_get_group_name(key, group, sizeof group, &glen) == 1)
            info.key_curve.assign(group, glen);
    } else {
        info.key_type = "unknown";
    }
    const char *sig = OBJ_nid2ln(X509_get_signature_nid(cert));
    info.signature_algorithm = sig != nullptr ? sig : "unknown";
    info.is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
    ERR_clear_error();
    return info;
}

CertInfo describe_certificate(X509 *cert) {
    CertInfo info = describe_certificate_brief(cert);
    info.sha256 = sha256_hex(cert);
    info.san = subject_alt_names(cert);
    info.self_signed = is_self_signed(cert);
    ERR_clear_error();
    return info;
}

std::int64_t days_left(std::int64_t not_after, std::int64_t now) {
    const std::int64_t diff = not_after - now;
    const std::int64_t day = 86400;
    // Floor division, so that an hour past expiry is day -1, not 0.
    return diff >= 0 ? diff / day : -((-diff + day - 1) / day);
}

Expected<std::vector<X509Ptr>> parse_certificates(std::string_view input) {
    if (input.empty())
        return bad_input("empty certificate input", "Pass DER bytes or PEM text of a certificate.");
    if (input.size() > kMaxCertificateInput)
        return make_error(sqlstate::kProgramLimit,
                          "certificate input too large: " + std::to_string(input.size()) + " bytes",
                          "The limit is " + std::to_string(kMaxCertificateInput) + " bytes.");
    ERR_clear_error();
    return looks_like_pem(input) ? parse_pem(input) : parse_der(input);
}

Expected<std::vector<CertInfo>> certificate_infos(std::string_view input) {
    auto parsed = parse_certificates(input);
    if (!parsed) return parsed.error();
    std::vector<CertInfo> out;
    out.reserve(parsed.value().size());
    for (auto &cert : parsed.value()) out.push_back(describe_certificate(cert.get()));
    return out;
}

}  // namespace tls_audit
