// The census key in the compact form the shared census keeps.
//
// A CensusKey is a 976-byte fixed struct (every string field at its full
// capacity), which is what the census file stores and the readers use. Kept
// like that in shared memory it made each census entry cost about 1.1 kB,
// although a typical key holds some 100 bytes of text. The shared census
// therefore keeps each key as its "key text": the eight one-byte facts, then
// the ten string fields (source, 1.2, last), each NUL-terminated, nothing else. Encoding is
// lossless (a canonical key, as make_census_key() makes it, decodes back to
// the same bytes, client subjects of every length included) and never
// allocates, so the connection hook can encode on its stack before it takes
// the census lock.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <cstdint>

#include "census/census_key.hpp"

TLS_AUDIT_AREA(census);

namespace tls_audit {

// The longest key text: the fixed bytes plus every field at its capacity
// (capacity - 1 bytes of text and its NUL).
inline constexpr std::size_t kCensusFixedBytes = 8;
inline constexpr std::size_t kCensusKeyTextMax = kCensusFixedBytes + kCensusNameLen * 2 + kCensusAddrLen +
                                                 kCensusAppLen + kCensusTransportLen + kCensusProtocolLen +
                                                 kCensusCipherLen + kCensusSubjectLen + kCensusReasonLen +
                                                 kCensusSourceLen;
static_assert(kCensusKeyTextMax <= 0xFFFF, "a key text's length fits in 16 bits");

// Write the key text of `key` into `out` (kCensusKeyTextMax bytes) and
// return its length. A field without its NUL (not canonical) is cut at its
// capacity - 1 bytes, so the result always decodes.
std::size_t encode_census_key(const CensusKey &key, char *out) noexcept;

// Rebuild the key from its text (every byte of `key` written). False, with
// `key` zeroed, when `text` is not a key text: missing or extra fields, a
// field longer than its capacity, or a result that is not canonical.
bool decode_census_key(const char *text, std::size_t length, CensusKey &key) noexcept;

// A 64-bit hash of a key text, with a per-server seed so that clients cannot
// choose names that all land in one hash bucket. Equal texts, equal hashes;
// the census still compares the full text on a match.
std::uint64_t census_key_text_hash(const char *text, std::size_t length, std::uint64_t seed) noexcept;

}  // namespace tls_audit
