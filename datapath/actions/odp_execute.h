// Datapath action execution, independent of how packets are stored (Open vSwitch's
// lib/odp-execute.c plays the same part): applies an encoded action list to one packet, in
// order. The DPDK datapath runs it on rte_mbufs (datapath/actions/execute.h supplies
// PacketOps<rte_mbuf*>), the in-memory test datapath on PacketBuffers; both get the same
// semantics from this one copy.
//
// Ownership: ExecuteActions() always consumes `m`. It hands the packet to the sink (output,
// userspace, recirculation), or frees it (explicit drop, end of list, malformed action). An
// output that is not the last action sends a copy (PacketOps<P>::Copy) and keeps working on the
// original, so the common single-output list costs no copy.
//
// The Sink is a compile-time interface (no virtual calls per packet):
//   void Output(uint32_t port, P m);                 // takes ownership
//   void Userspace(const ActUserspace& a, P m);      // takes ownership
//   void Recirc(uint32_t recirc_id, P m);            // takes ownership
//   void CountDrop();                                // a packet (or copy) was lost
//   bool Meter(uint32_t meter_id, P m);              // optional: false = drop the packet;
//                                                    // a sink without it drops and counts
// and whatever PacketOps<P>::Copy needs of it (for rte_mbuf: rte_mempool* ClonePool()).
//
// PacketOps<P> (P a pointer type) says how packets of type P are handled:
//   static uint8_t* Data(P);              // first segment (all rewrites look only at it)
//   static uint32_t DataLen(P);           // its length
//   static uint8_t* Prepend(P, uint16_t); // grow at the front; nullptr if no headroom
//   static void Adj(P, uint16_t);         // drop bytes at the front
//   static void Free(P);
//   template <class Sink> static P Copy(P, Sink&);  // nullptr on failure
#pragma once

#include <cstdint>
#include <cstring>

#include "datapath/actions/action_list.h"
#include "datapath/packet/byte_order.h"

namespace sluice::dp {

template <class P>
struct PacketOps;

// ---- byte-level rewrites of a packet's first segment (d, len); odp_execute.cc, mpls.cc ----

// Rewrites the bits of one header selected by the mask and fixes the checksums that cover them
// (incrementally for IPv4/TCP/UDP/ICMP/ICMPv6, recomputed CRC32c for SCTP; ARP has none). Headers
// are found by parsing the packet; if the header is absent the packet is left unchanged. Returns
// false only for an unknown SetHeader value.
bool SetMaskedBytes(uint8_t* d, uint32_t len, const ActSetMasked& a) noexcept;

// Offset of the innermost ethertype field (after at most two VLAN tags, as the parser), or 0 if
// the frame has no complete Ethernet header.
uint32_t InnerEthTypeOffset(const uint8_t* d, uint32_t len) noexcept;
// The MPLS rewrites on bytes. PopMplsBytes moves the headers in front of the entry 4 bytes on
// and returns true when the caller must then drop the first 4 bytes (false: not MPLS, or no
// complete entry; unchanged).
bool PopMplsBytes(uint8_t* d, uint32_t len, const ActPopMpls& a) noexcept;
void SetMplsLseBytes(uint8_t* d, uint32_t len, uint32_t value_be, uint32_t mask_be) noexcept;

// SCTP's CRC32c (Castagnoli) over `len` bytes, continuing from `crc` (start with 0xffffffff; the
// wire value is the complement, stored least significant byte first).
uint32_t Crc32c(uint32_t crc, const uint8_t* data, uint32_t len) noexcept;

// ---- the rewrites on a packet, usable on their own ----

// Inserts a tag after the MAC addresses; the CFI bit of `a.tci` (kVlanCfi, a key-only marker) is
// cleared on the wire. Returns false, leaving the packet unchanged, if the first segment has
// fewer than 12 bytes or no 4 bytes of headroom.
template <class P>
inline bool PushVlan(P m, const ActPushVlan& a) noexcept {
  if (PacketOps<P>::DataLen(m) < 12) return false;
  uint8_t* d = PacketOps<P>::Prepend(m, 4);
  if (d == nullptr) return false;
  std::memmove(d, d + 4, 12);
  const uint16_t tci = static_cast<uint16_t>(a.tci & ~Be16(kVlanCfi));
  std::memcpy(d + 12, &a.tpid, 2);
  std::memcpy(d + 14, &tci, 2);
  return true;
}

// Removes the outermost 802.1Q/802.1ad tag; a packet without one is left unchanged.
template <class P>
inline void PopVlan(P m) noexcept {
  if (PacketOps<P>::DataLen(m) < 18) return;
  uint8_t* d = PacketOps<P>::Data(m);
  const uint16_t tpid = Load16(d + 12);
  if (tpid != Be16(0x8100) && tpid != Be16(0x88a8)) return;
  std::memmove(d + 4, d, 12);
  PacketOps<P>::Adj(m, 4);
}

// Inserts `a.lse` as the new outermost label stack entry right after the Ethernet header and
// its (up to two) VLAN tags, and sets the ethertype in front of it to `a.ethertype`. Returns
// false, leaving the packet unchanged, if the L2 header is incomplete or there are not 4 bytes
// of headroom.
template <class P>
inline bool PushMpls(P m, const ActPushMpls& a) noexcept {
  const uint32_t et = InnerEthTypeOffset(PacketOps<P>::Data(m), PacketOps<P>::DataLen(m));
  if (et == 0) return false;
  uint8_t* d = PacketOps<P>::Prepend(m, 4);
  if (d == nullptr) return false;
  // Headers up to and including the ethertype move 4 bytes towards the front; the entry goes
  // into the gap between the ethertype and what followed it.
  std::memmove(d, d + 4, et);
  std::memcpy(d + et, &a.ethertype, 2);
  std::memcpy(d + et + 2, &a.lse, 4);
  return true;
}

// Removes the outermost label stack entry of an MPLS packet and sets the ethertype in front of
// it to `a.ethertype`. A packet that is not MPLS (or has no complete entry) is left unchanged.
template <class P>
inline void PopMpls(P m, const ActPopMpls& a) noexcept {
  if (PopMplsBytes(PacketOps<P>::Data(m), PacketOps<P>::DataLen(m), a)) PacketOps<P>::Adj(m, 4);
}

template <class P>
inline bool SetMasked(P m, const ActSetMasked& a) noexcept {
  return SetMaskedBytes(PacketOps<P>::Data(m), PacketOps<P>::DataLen(m), a);
}

namespace exec_internal {

template <class P, class Sink>
inline void Fail(P m, Sink& sink) noexcept {
  PacketOps<P>::Free(m);
  sink.CountDrop();
}

template <class P, class Sink>
inline P Copy(P m, Sink& sink) noexcept {
  P c = PacketOps<P>::Copy(m, sink);
  if (c == nullptr) sink.CountDrop();
  return c;
}

// meter(N): the sink meters the packet; a sink that cannot is a lost packet, never an
// unmetered one.
template <class P, class Sink>
inline bool Meter(Sink& sink, uint32_t meter_id, P m) noexcept {
  if constexpr (requires { sink.Meter(meter_id, m); }) {
    return sink.Meter(meter_id, m);
  } else {
    sink.CountDrop();
    return false;
  }
}

}  // namespace exec_internal

template <class P, class Sink>
void ExecuteActions(ActionView actions, P m, Sink& sink) noexcept {
  using Ops = PacketOps<P>;
  // Walks the TLVs by hand rather than with ActionView::Iterator so that a zero or oversized
  // length, or a payload shorter than its type needs, is caught before anything is read.
  const uint8_t* p = actions.data();
  const uint8_t* const end = p + actions.size();
  while (p < end) {
    size_t left = static_cast<size_t>(end - p);
    if (left < sizeof(ActionHeader)) return exec_internal::Fail(m, sink);
    const auto& hdr = *reinterpret_cast<const ActionHeader*>(p);
    if (hdr.len < sizeof(ActionHeader) || hdr.len > left || hdr.len % 8 != 0) {
      return exec_internal::Fail(m, sink);
    }
    const uint8_t* payload = p + sizeof(ActionHeader);
    const size_t payload_len = hdr.len - sizeof(ActionHeader);
    const bool last = hdr.len == left;
    p += hdr.len;

    switch (static_cast<ActionType>(hdr.type)) {
      case ActionType::kOutput: {
        if (payload_len < sizeof(ActOutput)) return exec_internal::Fail(m, sink);
        uint32_t port = reinterpret_cast<const ActOutput*>(payload)->port;
        if (last) {
          sink.Output(port, m);
          return;
        }
        if (P c = exec_internal::Copy(m, sink)) sink.Output(port, c);
        break;
      }
      case ActionType::kUserspace: {
        if (payload_len < sizeof(ActUserspace)) return exec_internal::Fail(m, sink);
        const auto& a = *reinterpret_cast<const ActUserspace*>(payload);
        if (last) {
          sink.Userspace(a, m);
          return;
        }
        if (P c = exec_internal::Copy(m, sink)) sink.Userspace(a, c);
        break;
      }
      case ActionType::kRecirc: {
        if (payload_len < sizeof(ActRecirc)) return exec_internal::Fail(m, sink);
        uint32_t id = reinterpret_cast<const ActRecirc*>(payload)->recirc_id;
        if (last) {
          sink.Recirc(id, m);
          return;
        }
        if (P c = exec_internal::Copy(m, sink)) sink.Recirc(id, c);
        break;
      }
      case ActionType::kPushVlan:
        if (payload_len < sizeof(ActPushVlan) ||
            !PushVlan(m, *reinterpret_cast<const ActPushVlan*>(payload))) {
          return exec_internal::Fail(m, sink);
        }
        break;
      case ActionType::kPopVlan:
        PopVlan(m);
        break;
      case ActionType::kSetMasked:
        if (payload_len < sizeof(ActSetMasked) ||
            !SetMasked(m, *reinterpret_cast<const ActSetMasked*>(payload))) {
          return exec_internal::Fail(m, sink);
        }
        break;
      case ActionType::kPushMpls:
        if (payload_len < sizeof(ActPushMpls) ||
            !PushMpls(m, *reinterpret_cast<const ActPushMpls*>(payload))) {
          return exec_internal::Fail(m, sink);
        }
        break;
      case ActionType::kPopMpls:
        if (payload_len < sizeof(ActPopMpls)) return exec_internal::Fail(m, sink);
        PopMpls(m, *reinterpret_cast<const ActPopMpls*>(payload));
        break;
      case ActionType::kDrop:
        Ops::Free(m);
        return;
      case ActionType::kMeter:
        if (payload_len < sizeof(ActMeter)) return exec_internal::Fail(m, sink);
        if (!exec_internal::Meter(sink, reinterpret_cast<const ActMeter*>(payload)->meter_id, m)) {
          Ops::Free(m);
          return;
        }
        break;
      default:
        return exec_internal::Fail(m, sink);
    }
  }
  // No action took the packet: an action list without an output drops it.
  Ops::Free(m);
}

}  // namespace sluice::dp
