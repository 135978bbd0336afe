// The hot window (hot_window.hpp): one allocation, aligned by hand to a
// 64 kB boundary of the address every process maps it at (children inherit
// the postmaster's mapping, so the aligned address is the same in each).
#include "hot_window.hpp"

#include <cstdint>

namespace tls_audit::pg {

namespace {

constexpr const char *kName = "pg_tls_audit hot window";
constexpr std::size_t kParts = sizeof(kHotPartOffset) / sizeof(kHotPartOffset[0]);
// The last bytes of the window: which parts were initialized.
constexpr std::size_t kFlagsOffset = kHotWindow - 64;
static_assert(kHotPartOffset[kParts - 1] + kHotPartCapacity[kParts - 1] <= kFlagsOffset, "parts before the flags");

bool requested = false;

}  // namespace

void request_hot_window() {
    if (requested) return;
    requested = true;
    // Twice the window: room to start at a 64 kB boundary wherever the allocation falls.
    RequestAddinShmemSpace(2 * kHotWindow);
}

void *hot_window_part(HotPart part, std::size_t size, bool &first) {
    const auto index = static_cast<std::size_t>(part);
    if (index >= kParts || size > kHotPartCapacity[index])
        elog(ERROR, "pg_tls_audit: hot window part %zu of %zu bytes does not fit", index, size);
    bool found = false;
    void *raw = ShmemInitStruct(kName, 2 * kHotWindow, &found);
    auto *base = reinterpret_cast<char *>(TYPEALIGN(kHotWindow, raw));
    if (!found) memset(base, 0, kHotWindow);
    auto *flags = reinterpret_cast<bool *>(base + kFlagsOffset);
    first = !flags[index];
    flags[index] = true;
    return base + kHotPartOffset[index];
}

}  // namespace tls_audit::pg
