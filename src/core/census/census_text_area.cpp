#include "census/census_text_area.hpp"

namespace tls_audit {

std::uint32_t CensusTextArea::append(const char *text, std::uint16_t length, std::uint64_t owner) noexcept {
    const std::uint32_t offset = state_.used;
    std::memcpy(bytes_ + offset, &owner, sizeof owner);
    std::memcpy(bytes_ + offset + sizeof owner, &length, sizeof length);
    std::memcpy(bytes_ + offset + kCensusTextRecordHeader, text, length);
    state_.used += static_cast<std::uint32_t>(kCensusTextRecordHeader + length);
    return offset;
}

void CensusTextArea::set_owner(std::uint32_t offset, std::uint64_t owner) noexcept {
    std::memcpy(bytes_ + offset, &owner, sizeof owner);
}

std::uint16_t CensusTextArea::length(std::uint32_t offset) const noexcept {
    std::uint16_t length = 0;
    std::memcpy(&length, bytes_ + offset + sizeof(std::uint64_t), sizeof length);
    return length;
}

void CensusTextArea::release(std::uint32_t offset) noexcept {
    std::uint64_t owner = 0;
    std::memcpy(&owner, bytes_ + offset, sizeof owner);
    if (owner == 0) return;  // already dead: counted once
    const std::uint64_t none = 0;
    std::memcpy(bytes_ + offset, &none, sizeof none);
    state_.dead += static_cast<std::uint32_t>(kCensusTextRecordHeader + length(offset));
}

}  // namespace tls_audit
