// The shared census's text area: where the key texts (census_key_text.hpp)
// live, outside the hash table, as pg_stat_statements keeps its query texts
// outside its hash. Append-only: a new entry appends its text at the end, a
// removed entry marks its text dead, and when a text no longer fits at the
// end the live texts are slid down over the dead ones (compact()), in place,
// in one pass, without allocating.
//
// The area is plain bytes (it lives in shared memory); this class is a view
// over it and never owns or allocates memory. Each record is a 10-byte
// header (the owner tag, 8 bytes, zero when dead; the text length, 2 bytes)
// and the text; records are byte-packed (read with memcpy), so nothing is
// lost to alignment. Callers serialise every change (the census's exclusive
// lock) and may read texts concurrently with each other (its shared lock).
#pragma once

#include "base/pure_cpp.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>

TLS_AUDIT_AREA(census);

namespace tls_audit {

// What the area needs in the shared memory besides its bytes.
struct CensusTextAreaState {
    std::uint32_t capacity;  // bytes
    std::uint32_t used;      // bytes from the start, live and dead records
    std::uint32_t dead;      // bytes of dead records
    std::uint32_t compactions;
};

inline constexpr std::size_t kCensusTextRecordHeader = 10;

// Bytes of text area a census of `max_entries` gets: the typical key text
// (user, database, address, application, TLS facts and a short client
// subject: 100-150 bytes) fits twice over; when long texts fill it the
// census evicts as when the table is full (doc/census.md).
inline constexpr std::size_t kCensusTextBytesPerEntry = 280;
constexpr std::size_t census_text_area_bytes(long max_entries) noexcept {
    return max_entries > 0 ? static_cast<std::size_t>(max_entries) * kCensusTextBytesPerEntry : 0;
}

class CensusTextArea {
public:
    CensusTextArea(CensusTextAreaState &state, char *bytes) noexcept : state_(state), bytes_(bytes) {}

    static void init(CensusTextAreaState &state, std::size_t capacity) noexcept {
        state.capacity = static_cast<std::uint32_t>(capacity);
        state.used = 0;
        state.dead = 0;
        state.compactions = 0;
    }

    // Does a text of `length` bytes fit at the end now / after compact()?
    bool fits(std::size_t length) const noexcept {
        return state_.used + kCensusTextRecordHeader + length <= state_.capacity;
    }
    bool fits_after_compaction(std::size_t length) const noexcept {
        return state_.used - state_.dead + kCensusTextRecordHeader + length <= state_.capacity;
    }

    // Append a text owned by `owner` (non-zero); returns its record's offset.
    // The caller checked fits().
    std::uint32_t append(const char *text, std::uint16_t length, std::uint64_t owner) noexcept;
    void set_owner(std::uint32_t offset, std::uint64_t owner) noexcept;

    // The text of the record at `offset`.
    const char *text(std::uint32_t offset) const noexcept { return bytes_ + offset + kCensusTextRecordHeader; }
    std::uint16_t length(std::uint32_t offset) const noexcept;

    // The record's entry is gone: its bytes become free at the next compact().
    void release(std::uint32_t offset) noexcept;

    // Slide the live records down over the dead ones. `moved(owner, offset)`
    // is called for each live record with its new offset (before its bytes
    // move; a record's bytes are only ever overwritten after its own move).
    template <typename Moved>
    void compact(Moved &&moved) noexcept {
        std::uint32_t read = 0;
        std::uint32_t write = 0;
        while (read < state_.used) {
            std::uint64_t owner = 0;
            std::memcpy(&owner, bytes_ + read, sizeof owner);
            const std::uint32_t size = static_cast<std::uint32_t>(kCensusTextRecordHeader + length(read));
            if (owner != 0) {
                moved(owner, write);
                if (write != read) std::memmove(bytes_ + write, bytes_ + read, size);
                write += size;
            }
            read += size;
        }
        state_.used = write;
        state_.dead = 0;
        state_.compactions++;
    }

    void clear() noexcept {
        state_.used = 0;
        state_.dead = 0;
    }

private:
    CensusTextAreaState &state_;
    char *bytes_;
};

}  // namespace tls_audit
