#include "datapath/actions/mpls.h"

#include <bit>
#include <cstring>

#include "datapath/flow/flow_key.h"

namespace sluice::dp {
namespace {

inline uint16_t Read16(const uint8_t* p) noexcept {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

// Offset of the innermost ethertype field (after at most two VLAN tags, as the parser), or 0
// if the frame has no complete Ethernet header.
uint32_t InnerEthTypeOffset(const uint8_t* d, uint32_t len) noexcept {
  if (len < 14) return 0;
  uint32_t ofs = 12;
  for (int i = 0; i < 2; ++i) {
    uint16_t tpid = Read16(d + ofs);
    if ((tpid != 0x8100 && tpid != 0x88a8) || len - ofs < 6) break;
    ofs += 4;
  }
  return ofs;
}

}  // namespace

bool PushMpls(rte_mbuf* m, const ActPushMpls& a) noexcept {
  const auto* d0 = rte_pktmbuf_mtod(m, const uint8_t*);
  uint32_t et = InnerEthTypeOffset(d0, rte_pktmbuf_data_len(m));
  if (et == 0) return false;
  auto* d = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, 4));
  if (d == nullptr) return false;
  // Headers up to and including the ethertype move 4 bytes towards the front; the entry goes
  // into the gap between the ethertype and what followed it.
  std::memmove(d, d + 4, et);
  std::memcpy(d + et, &a.ethertype, 2);
  std::memcpy(d + et + 2, &a.lse, 4);
  return true;
}

void PopMpls(rte_mbuf* m, const ActPopMpls& a) noexcept {
  auto* d = rte_pktmbuf_mtod(m, uint8_t*);
  uint32_t len = rte_pktmbuf_data_len(m);
  uint32_t et = InnerEthTypeOffset(d, len);
  if (et == 0 || !IsMplsEthType(Read16(d + et)) || len - et < 6) return;
  std::memcpy(d + et + 4, &a.ethertype, 2);
  std::memmove(d + 4, d, et);
  rte_pktmbuf_adj(m, 4);
}

void SetMplsLse(rte_mbuf* m, uint32_t value_be, uint32_t mask_be) noexcept {
  auto* d = rte_pktmbuf_mtod(m, uint8_t*);
  uint32_t len = rte_pktmbuf_data_len(m);
  uint32_t et = InnerEthTypeOffset(d, len);
  if (et == 0 || !IsMplsEthType(Read16(d + et)) || len - et < 6) return;
  uint32_t lse;
  std::memcpy(&lse, d + et + 2, 4);
  lse = (lse & ~mask_be) | (value_be & mask_be);
  std::memcpy(d + et + 2, &lse, 4);
}

}  // namespace sluice::dp
