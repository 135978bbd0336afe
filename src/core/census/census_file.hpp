// The census persistence file: serialising and validating census entries.
//
// Layout (host byte order; the file is written and read by the same server):
//   offset 0   8 bytes   magic "PGTLSCEN"
//          8   u32       format version (kCensusFileVersion)
//         12   u32       record size in bytes (detects a changed key layout)
//         16   i64       since_reset: when the census was last reset (opaque timestamp)
//         24   i64       evicted: entries evicted since the reset
//         32   u64       record count
//         40   records   count * record size: CensusKey bytes, then
//                        connections i64, first_seen i64, last_seen i64
//   end - 4    u32       CRC-32C of every byte before it
// Version 2 (1.2) stores the whole key (with its source); version 1, written
// by 1.0 and 1.1, stores its first kCensusKeyV1Size bytes, and still loads:
// its entries have no source (the server's own connections). A file that is
// shorter or longer than the count says, has another magic, version or
// record size, a bad checksum, or a record that is not in canonical form is
// rejected as a whole, with a reason.
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "census/census_key.hpp"
#include "base/error.hpp"

TLS_AUDIT_AREA(census);

namespace tls_audit {

inline constexpr char kCensusFileMagic[8] = {'P', 'G', 'T', 'L', 'S', 'C', 'E', 'N'};
inline constexpr std::uint32_t kCensusFileVersion = 2;
inline constexpr std::size_t kCensusFileHeaderSize = 40;
inline constexpr std::size_t kCensusRecordSize = sizeof(CensusKey) + 3 * sizeof(std::int64_t);
// Version 1 (1.0 and 1.1): the key without its source.
inline constexpr std::uint32_t kCensusFileVersion1 = 1;
inline constexpr std::size_t kCensusRecordSizeV1 = kCensusKeyV1Size + 3 * sizeof(std::int64_t);

struct CensusRecord {
    CensusKey key;
    std::int64_t connections = 0;
    std::int64_t first_seen = 0;  // timestamps are opaque to the core (the glue uses TimestampTz)
    std::int64_t last_seen = 0;
};

struct CensusSnapshot {
    std::int64_t since_reset = 0;
    std::int64_t evicted = 0;
    std::vector<CensusRecord> records;
};

// CRC-32C (Castagnoli), as used by iSCSI and PostgreSQL's pg_crc32c.
std::uint32_t crc32c(const void *data, std::size_t len, std::uint32_t crc = 0) noexcept;

// The whole file's bytes for `snapshot`.
std::string serialize_census(const CensusSnapshot &snapshot);

// Parse and validate a file's bytes. `max_records` bounds what is accepted
// (a larger count is refused before anything is allocated). The Error's
// message is the reason the file is ignored, e.g. "bad magic",
// "checksum mismatch", "unsupported version 7", "truncated (...)".
Expected<CensusSnapshot> deserialize_census(std::string_view bytes, std::uint64_t max_records);

// Saving a census file durably (the periodic save): first write_file_synced() to a
// temporary path, then rename_synced() over the real one, so a reader finds
// either the old file or the new one, whole. Plain POSIX calls: a failure is
// returned (io_error, "could not <step> \"<path>\": <strerror>"), never
// escalated, so a census save can never take the server down.

// Create or truncate `path` (mode 0600), write `bytes`, fsync and close it.
// On failure the partial file is removed.
std::optional<Error> write_file_synced(const std::string &path, std::string_view bytes);

// Rename `from` to `to` and fsync the directory that holds `to`. On failure
// `from` is removed.
std::optional<Error> rename_synced(const std::string &from, const std::string &to);

}  // namespace tls_audit
