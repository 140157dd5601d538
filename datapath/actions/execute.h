// Datapath action execution on rte_mbufs: odp_execute.h's ExecuteActions() and rewrites with
// the mbuf's packet operations. Copies for non-final outputs come from the sink's
// `rte_mempool* ClonePool()`; the rewrites look only at the first mbuf segment.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>

#include "datapath/actions/meter.h"
#include "datapath/actions/odp_execute.h"

namespace sluice::dp {

template <>
struct PacketOps<rte_mbuf*> {
  static uint8_t* Data(rte_mbuf* m) noexcept { return rte_pktmbuf_mtod(m, uint8_t*); }
  static uint32_t DataLen(rte_mbuf* m) noexcept { return rte_pktmbuf_data_len(m); }
  static uint8_t* Prepend(rte_mbuf* m, uint16_t n) noexcept {
    return reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, n));
  }
  static void Adj(rte_mbuf* m, uint16_t n) noexcept { rte_pktmbuf_adj(m, n); }
  static void Free(rte_mbuf* m) noexcept { rte_pktmbuf_free(m); }
  template <class Sink>
  static rte_mbuf* Copy(rte_mbuf* m, Sink& sink) noexcept {
    return rte_pktmbuf_copy(m, sink.ClonePool(), 0, UINT32_MAX);
  }
};

// Meters an mbuf through `meters` (MeterTable::Run on its first segment, its whole length).
inline bool MeterMbuf(MeterTable& meters, uint32_t id, uint64_t now, rte_mbuf* m) noexcept {
  return meters.Run(id, now, rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_data_len(m),
                    rte_pktmbuf_pkt_len(m));
}

}  // namespace sluice::dp
