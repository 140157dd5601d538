// MPLS rewrites on packet bytes, for the datapath actions push_mpls, pop_mpls and
// set(mpls(...)) (odp_execute.h). Like the VLAN rewrites they look only at the first segment,
// allocate nothing and leave a packet they cannot handle unchanged.
#include <cstring>

#include "datapath/actions/odp_execute.h"
#include "datapath/flow/flow_key.h"

namespace sluice::dp {
namespace {

inline uint16_t Read16(const uint8_t* p) noexcept {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

}  // namespace

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

bool PopMplsBytes(uint8_t* d, uint32_t len, const ActPopMpls& a) noexcept {
  uint32_t et = InnerEthTypeOffset(d, len);
  if (et == 0 || !IsMplsEthType(Read16(d + et)) || len - et < 6) return false;
  std::memcpy(d + et + 4, &a.ethertype, 2);
  std::memmove(d + 4, d, et);
  return true;
}

void SetMplsLseBytes(uint8_t* d, uint32_t len, uint32_t value_be, uint32_t mask_be) noexcept {
  uint32_t et = InnerEthTypeOffset(d, len);
  if (et == 0 || !IsMplsEthType(Read16(d + et)) || len - et < 6) return;
  uint32_t lse;
  std::memcpy(&lse, d + et + 2, 4);
  lse = (lse & ~mask_be) | (value_be & mask_be);
  std::memcpy(d + et + 2, &lse, 4);
}

}  // namespace sluice::dp
