// The L2 part of the parser, inline: the PMD parses L2 only (ParsePacketL2) when its classifier
// compares nothing beyond, once per packet, so the call is worth saving. parse.cc uses the same
// ParseL2 for the full parse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "datapath/flow/flow_key.h"
#include "datapath/packet/byte_order.h"

namespace sluice::dp {
namespace parse_detail {

inline constexpr uint32_t kEthHdrLen = 14;
inline constexpr uint16_t kEthTypeMin = 0x0600;
inline constexpr uint16_t kEthType8023 = 0x05ff;
inline constexpr uint16_t kEthTypeVlan = 0x8100;
inline constexpr uint16_t kEthTypeQinQ = 0x88a8;

inline uint16_t Read16Host(const uint8_t* p) noexcept {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// Returns the offset just past the L2 header(s), or 0 if there is no complete Ethernet header.
inline uint32_t ParseL2(const uint8_t* d, uint32_t len, FlowKey* key) noexcept {
  if (len < kEthHdrLen) return 0;
  std::memcpy(key->eth_dst.data(), d, 6);
  std::memcpy(key->eth_src.data(), d + 6, 6);
  uint32_t ofs = 12;
  for (VlanHdr& vlan : key->vlans) {
    uint16_t tpid = Read16Host(d + ofs);
    // A tag counts only if the type field after it is present too.
    if ((tpid != kEthTypeVlan && tpid != kEthTypeQinQ) || len - ofs < 6) break;
    vlan.tpid = Load16(d + ofs);
    vlan.tci = Load16(d + ofs + 2) | Be16(kVlanCfi);
    ofs += 4;
  }
  uint16_t type = Read16Host(d + ofs);
  ofs += 2;
  if (type >= kEthTypeMin) {
    key->eth_type = Be16(type);
    return ofs;
  }
  // 802.3 length field: only LLC/SNAP with OUI 0 carries a real ethertype.
  key->eth_type = Be16(kEthType8023);
  const uint8_t* llc = d + ofs;
  if (len - ofs < 8 || llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 || llc[3] != 0 ||
      llc[4] != 0 || llc[5] != 0) {
    return ofs;
  }
  type = Read16Host(llc + 6);
  if (type >= kEthTypeMin) key->eth_type = Be16(type);
  return ofs + 8;
}

}  // namespace parse_detail

// Only the L2 words of the key (eth_dst up to the VLAN tags, i.e. the words before kFlowL3Word),
// exactly as ParsePacket fills them, and tcp_flags (zeroed). Every other word from kFlowL3Word
// on is left as it was: for the PMD when no classifier subtable compares any of them.
inline void ParsePacketL2(const uint8_t* data, uint32_t len, FlowKey* key) noexcept {
  uint64_t* w = key->words();
  for (size_t i = kFlowL2Word; i < kFlowL3Word; ++i) w[i] = 0;
  key->tcp_flags = 0;
  parse_detail::ParseL2(data, len, key);
}

}  // namespace sluice::dp
