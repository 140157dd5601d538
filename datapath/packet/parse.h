// Packet parsing: extracts the L2..L4 fields of a FlowKey from raw frame bytes, following OVS's
// miniflow_extract() semantics so that flows written for OVS match the same packets here.
// Truncated or malformed packets are parsed as far as they are valid; nothing is read past `len`.
#pragma once

#include <cstdint>

#include "datapath/flow/flow_key.h"
#include "datapath/packet/parse_l2.h"  // ParsePacketL2

namespace sluice::dp {

// Where ParsePacket found the headers, for code that rewrites them in place (set actions).
// An offset of 0 means "absent" (no header can legitimately start at offset 0 except L2).
struct PacketLayout {
  uint32_t l3_ofs = 0;    // start of a valid IPv4/IPv6 or Ethernet/IPv4 ARP header, or of the
                          // MPLS label stack
  uint32_t l4_ofs = 0;    // start of a complete TCP/UDP/SCTP/ICMP/ICMPv6 header
  uint32_t l4_end = 0;    // end of the IP payload (IP padding and trailers excluded)
  uint16_t eth_type = 0;  // network order, same as FlowKey::eth_type
  uint8_t nw_proto = 0;   // same as FlowKey::nw_proto
  // IPv6 only: a routing header with segments left is present, so the L4 pseudo-header carries
  // the final destination, not ip6_dst, and rewriting ip6_dst must not touch the L4 checksum.
  bool ipv6_routed = false;
};

// Fills every field of `key` from eth_dst to the end (zeroing them first). The tunnel and
// metadata words before eth_dst are left untouched: the caller owns them.
//
// Deliberate OVS-compatible details:
//  - 802.2 frames get eth_type 0x05ff unless they carry SNAP with OUI 0 and a real ethertype.
//  - At most two VLAN tags are parsed; a third leaves eth_type 0x8100/0x88a8 and no L3.
//  - MPLS (0x8847/0x8848): the outermost label stack entry goes to mpls_lse (if all 4 bytes are
//    there); nothing beyond it is parsed, so L3/L4 fields stay zero.
//  - ARP/RARP: fields only for Ethernet/IPv4 ARP; an opcode above 0xff gives nw_proto 0.
//  - An IPv4 header with a bad version, IHL or total length parses as L2 only.
//  - IPv6 later fragments get nw_proto 44 (fragment header) and no L4; a malformed extension
//    header chain keeps the base header fields with nw_proto 0 and no L4.
//  - ICMP/ICMPv6 need 8 bytes; type and code go to tp_src/tp_dst as htons(type)/htons(code).
//  - A malformed ND option list keeps the ND fields parsed before the bad option.
void ParsePacket(const uint8_t* data, uint32_t len, FlowKey* key) noexcept;

// The same, also reporting header offsets in `layout` (may be null).
void ParsePacket(const uint8_t* data, uint32_t len, FlowKey* key, PacketLayout* layout) noexcept;

}  // namespace sluice::dp
