// Datapath action execution: applies an encoded action list to one packet, in order.
//
// Ownership: ExecuteActions() always consumes `m`. It hands the packet to the sink (output,
// userspace, recirculation), or frees it (explicit drop, end of list, malformed action). An
// output that is not the last action sends a copy from sink.ClonePool() and keeps working on
// the original, so the common single-output list costs no copy.
//
// The Sink is a compile-time interface (no virtual calls per packet):
//   void Output(uint32_t port, rte_mbuf* m);            // takes ownership
//   void Userspace(const ActUserspace& a, rte_mbuf* m); // takes ownership
//   void Recirc(uint32_t recirc_id, rte_mbuf* m);       // takes ownership
//   rte_mempool* ClonePool();                           // pool for copies
//   void CountDrop();                                   // a packet (or copy) was lost
//   bool Meter(uint32_t meter_id, rte_mbuf* m);         // optional: false = drop the packet;
//                                                       // a sink without it drops and counts
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "datapath/actions/action_list.h"
#include "datapath/actions/mpls.h"

namespace sluice::dp {

// Packet rewrites, usable on their own. All of them look only at the first mbuf segment.

// Inserts a tag after the MAC addresses; the CFI bit of `a.tci` (kVlanCfi, a key-only marker) is
// cleared on the wire. Returns false, leaving the packet unchanged, if the first segment has
// fewer than 12 bytes or no 4 bytes of headroom.
bool PushVlan(rte_mbuf* m, const ActPushVlan& a) noexcept;

// Removes the outermost 802.1Q/802.1ad tag; a packet without one is left unchanged.
void PopVlan(rte_mbuf* m) noexcept;

// Rewrites the bits of one header selected by the mask and fixes the checksums that cover them
// (incrementally for IPv4/TCP/UDP/ICMP/ICMPv6, recomputed CRC32c for SCTP; ARP has none). Headers
// are found by parsing the packet; if the header is absent the packet is left unchanged. Returns
// false only for an unknown SetHeader value.
bool SetMasked(rte_mbuf* m, const ActSetMasked& a) noexcept;

// SCTP's CRC32c (Castagnoli) over `len` bytes, continuing from `crc` (start with 0xffffffff; the
// wire value is the complement, stored least significant byte first).
uint32_t Crc32c(uint32_t crc, const uint8_t* data, uint32_t len) noexcept;

namespace exec_internal {

template <class Sink>
inline void Fail(rte_mbuf* m, Sink& sink) noexcept {
  rte_pktmbuf_free(m);
  sink.CountDrop();
}

template <class Sink>
inline rte_mbuf* Copy(rte_mbuf* m, Sink& sink) noexcept {
  rte_mbuf* c = rte_pktmbuf_copy(m, sink.ClonePool(), 0, UINT32_MAX);
  if (c == nullptr) sink.CountDrop();
  return c;
}

// meter(N): the sink meters the packet; a sink that cannot is a lost packet, never an
// unmetered one.
template <class Sink>
inline bool Meter(Sink& sink, uint32_t meter_id, rte_mbuf* m) noexcept {
  if constexpr (requires { sink.Meter(meter_id, m); }) {
    return sink.Meter(meter_id, m);
  } else {
    sink.CountDrop();
    return false;
  }
}

}  // namespace exec_internal

template <class Sink>
void ExecuteActions(ActionView actions, rte_mbuf* m, Sink& sink) noexcept {
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
        if (rte_mbuf* c = exec_internal::Copy(m, sink)) sink.Output(port, c);
        break;
      }
      case ActionType::kUserspace: {
        if (payload_len < sizeof(ActUserspace)) return exec_internal::Fail(m, sink);
        const auto& a = *reinterpret_cast<const ActUserspace*>(payload);
        if (last) {
          sink.Userspace(a, m);
          return;
        }
        if (rte_mbuf* c = exec_internal::Copy(m, sink)) sink.Userspace(a, c);
        break;
      }
      case ActionType::kRecirc: {
        if (payload_len < sizeof(ActRecirc)) return exec_internal::Fail(m, sink);
        uint32_t id = reinterpret_cast<const ActRecirc*>(payload)->recirc_id;
        if (last) {
          sink.Recirc(id, m);
          return;
        }
        if (rte_mbuf* c = exec_internal::Copy(m, sink)) sink.Recirc(id, c);
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
        rte_pktmbuf_free(m);
        return;
      case ActionType::kMeter:
        if (payload_len < sizeof(ActMeter)) return exec_internal::Fail(m, sink);
        if (!exec_internal::Meter(sink, reinterpret_cast<const ActMeter*>(payload)->meter_id, m)) {
          rte_pktmbuf_free(m);
          return;
        }
        break;
      default:
        return exec_internal::Fail(m, sink);
    }
  }
  // No action took the packet: an action list without an output drops it.
  rte_pktmbuf_free(m);
}

}  // namespace sluice::dp
