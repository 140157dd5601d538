// Byte-order helpers for packet bytes, shared by the parser and the header rewrites.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace sluice::dp {

// Host <-> network order (an involution, so one function serves both ways).
constexpr uint16_t Be16(uint16_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) return std::byteswap(v);
  return v;
}
constexpr uint32_t Be32(uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) return std::byteswap(v);
  return v;
}

// Raw (network-order) 16-bit read; packet memory has no alignment guarantee.
inline uint16_t Load16(const uint8_t* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

}  // namespace sluice::dp
