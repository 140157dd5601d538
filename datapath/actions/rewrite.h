// Internal to datapath/actions: byte and checksum helpers shared by the header rewrites, and the
// rewrites of ARP, ICMP/ICMPv6 and IPv6 neighbour discovery (rewrite_arp_icmp_nd.cc) that
// SetMasked() dispatches to. Fast path: no allocation, no locks, nothing read past the headers
// ParsePacket() found.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "datapath/actions/action_list.h"
#include "datapath/packet/byte_order.h"
#include "datapath/packet/parse.h"

namespace sluice::dp::rewrite {

using dp::Be16;
using dp::Be32;
using dp::Load16;
inline void Store16(uint8_t* p, uint16_t v) noexcept { std::memcpy(p, &v, sizeof(v)); }

// dst = (dst & ~mask) | (value & mask), bytewise.
inline void MaskedCopy(uint8_t* dst, const void* value, const void* mask, size_t n) noexcept {
  const auto* v = static_cast<const uint8_t*>(value);
  const auto* k = static_cast<const uint8_t*>(mask);
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<uint8_t>((dst[i] & ~k[i]) | (v[i] & k[i]));
}

// Incremental checksum update, RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). The one's complement sum
// is byte-order independent, so the 16-bit words are used exactly as they sit in memory.
// CsumDiff accumulates ~m + m' for the words that changed (n even, both at even header offsets);
// skipping unchanged words keeps a checksum that needs no change bit-identical.
inline uint32_t CsumDiff(uint32_t acc, const uint8_t* old_bytes, const uint8_t* new_bytes,
                         size_t n) noexcept {
  for (size_t i = 0; i < n; i += 2) {
    uint16_t o = Load16(old_bytes + i);
    uint16_t w = Load16(new_bytes + i);
    if (o != w) acc += static_cast<uint16_t>(~o) + static_cast<uint32_t>(w);
  }
  return acc;
}

inline uint16_t CsumApply(uint16_t csum, uint32_t acc) noexcept {
  if (acc == 0) return csum;
  uint32_t sum = static_cast<uint16_t>(~csum) + acc;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Ethernet/IPv4 ARP (or RARP) at lay.l3_ofs: opcode, addresses. No checksum to fix.
void SetArp(uint8_t* d, const PacketLayout& lay, const OdpKeyArp& v, const OdpKeyArp& k) noexcept;

// ICMP (ipv6 = false, IPv4 protocol 1) or ICMPv6 (IPv6 next header 58) type and code, with the
// ICMP checksum fixed incrementally (for ICMPv6 the pseudo-header does not change).
void SetIcmp(uint8_t* d, const PacketLayout& lay, bool ipv6, const OdpKeyIcmp& v,
             const OdpKeyIcmp& k) noexcept;

// Neighbour solicitation/advertisement (ICMPv6 type 135/136, code 0): target address, and the
// link-layer address of the first source (sll) / target (tll) link-layer address option, when
// the packet carries one (none is added). The ICMPv6 checksum is fixed incrementally.
void SetNd(uint8_t* d, const PacketLayout& lay, const OdpKeyNd& v, const OdpKeyNd& k) noexcept;

}  // namespace sluice::dp::rewrite
