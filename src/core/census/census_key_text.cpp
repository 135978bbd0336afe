#include "census/census_key_text.hpp"

#include <cstring>

#include "base/hot_path.hpp"
namespace tls_audit {

namespace {

struct FieldRef {
    std::size_t offset;
    std::size_t capacity;
};

// The string fields in key-text order (the struct's order). Read by every
// connection (encode_census_key): kept with the hot code (TLS_AUDIT_HOT_RODATA).
TLS_AUDIT_HOT_RODATA constexpr FieldRef kFields[] = {
    {offsetof(CensusKey, usename), kCensusNameLen},
    {offsetof(CensusKey, datname), kCensusNameLen},
    {offsetof(CensusKey, client_addr), kCensusAddrLen},
    {offsetof(CensusKey, application_name), kCensusAppLen},
    {offsetof(CensusKey, transport), kCensusTransportLen},
    {offsetof(CensusKey, protocol), kCensusProtocolLen},
    {offsetof(CensusKey, cipher), kCensusCipherLen},
    {offsetof(CensusKey, client_subject), kCensusSubjectLen},
    {offsetof(CensusKey, reason), kCensusReasonLen},
    {offsetof(CensusKey, source), kCensusSourceLen},
};

// The one-byte facts after the strings: outcome through key_exchange_group.
constexpr std::size_t kFixedOffset = offsetof(CensusKey, outcome);
static_assert(offsetof(CensusKey, source) - kFixedOffset == kCensusFixedBytes, "eight bytes of facts before source");

TLS_AUDIT_HOT std::uint64_t rotl(std::uint64_t x, int b) noexcept { return (x << b) | (x >> (64 - b)); }

TLS_AUDIT_HOT void sip_round(std::uint64_t &v0, std::uint64_t &v1, std::uint64_t &v2, std::uint64_t &v3) noexcept {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
}

}  // namespace

TLS_AUDIT_HOT std::size_t encode_census_key(const CensusKey &key, char *out) noexcept {
    const auto *base = reinterpret_cast<const char *>(&key);
    std::memcpy(out, base + kFixedOffset, kCensusFixedBytes);
    std::size_t n = kCensusFixedBytes;
    for (const FieldRef &f : kFields) {
        const std::size_t len = strnlen(base + f.offset, f.capacity - 1);
        std::memcpy(out + n, base + f.offset, len);
        n += len;
        out[n++] = '\0';
    }
    return n;
}

bool decode_census_key(const char *text, std::size_t length, CensusKey &key) noexcept {
    std::memset(static_cast<void *>(&key), 0, sizeof key);
    auto *base = reinterpret_cast<char *>(&key);
    if (length < kCensusFixedBytes || length > kCensusKeyTextMax) return false;
    std::memcpy(base + kFixedOffset, text, kCensusFixedBytes);
    std::size_t n = kCensusFixedBytes;
    for (const FieldRef &f : kFields) {
        const void *nul = n < length ? std::memchr(text + n, '\0', length - n) : nullptr;
        const std::size_t len = nul != nullptr ? static_cast<std::size_t>(static_cast<const char *>(nul) - (text + n)) : 0;
        if (nul == nullptr || len >= f.capacity) {
            std::memset(static_cast<void *>(&key), 0, sizeof key);
            return false;
        }
        std::memcpy(base + f.offset, text + n, len);
        n += len + 1;
    }
    if (n != length || !census_key_canonical(key)) {
        std::memset(static_cast<void *>(&key), 0, sizeof key);
        return false;
    }
    return true;
}

// SipHash-2-4 (Aumasson and Bernstein): keyed, so that the bucket a name
// lands in cannot be predicted without the server's seed.
TLS_AUDIT_HOT std::uint64_t census_key_text_hash(const char *text, std::size_t length, std::uint64_t seed) noexcept {
    const std::uint64_t k0 = seed;
    const std::uint64_t k1 = rotl(seed, 29) ^ 0x9e3779b97f4a7c15ULL;
    std::uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    std::uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    std::uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    std::uint64_t v3 = 0x7465646279746573ULL ^ k1;
    const auto *p = reinterpret_cast<const unsigned char *>(text);
    const std::size_t whole = length - length % 8;
    for (std::size_t i = 0; i < whole; i += 8) {
        std::uint64_t m = 0;
        for (int b = 7; b >= 0; --b) m = (m << 8) | p[i + static_cast<std::size_t>(b)];
        v3 ^= m;
        sip_round(v0, v1, v2, v3);
        sip_round(v0, v1, v2, v3);
        v0 ^= m;
    }
    std::uint64_t last = static_cast<std::uint64_t>(length & 0xff) << 56;
    for (std::size_t i = 0; i < length % 8; ++i) last |= static_cast<std::uint64_t>(p[whole + i]) << (8 * i);
    v3 ^= last;
    sip_round(v0, v1, v2, v3);
    sip_round(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) sip_round(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace tls_audit
