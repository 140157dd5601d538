// MPLS packet rewrites for the datapath actions push_mpls, pop_mpls and set(mpls(...)).
// Like the VLAN rewrites they look only at the first mbuf segment, allocate nothing and leave a
// packet they cannot handle unchanged (or report false where the action list must fail).
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "datapath/actions/action_list.h"

namespace sluice::dp {

// Inserts `a.lse` as the new outermost label stack entry right after the Ethernet header and
// its (up to two) VLAN tags, and sets the ethertype in front of it to `a.ethertype`. Returns
// false, leaving the packet unchanged, if the L2 header is incomplete or there are not 4 bytes
// of headroom.
bool PushMpls(rte_mbuf* m, const ActPushMpls& a) noexcept;

// Removes the outermost label stack entry of an MPLS packet and sets the ethertype in front of
// it to `a.ethertype`. A packet that is not MPLS (or has no complete entry) is left unchanged.
void PopMpls(rte_mbuf* m, const ActPopMpls& a) noexcept;

// Rewrites the bits of the outermost label stack entry selected by `mask_be` (network order)
// with those of `value_be`. A packet that is not MPLS is left unchanged.
void SetMplsLse(rte_mbuf* m, uint32_t value_be, uint32_t mask_be) noexcept;

}  // namespace sluice::dp
