// Datapath meters for OpenFlow meters. Every bridge's meters share the datapath's meter table,
// so each (bridge, OpenFlow meter id) gets a datapath meter id, handed out round-robin so that a
// freed id is not reused while megaflows may still name it; xlate reads the mapping from each
// XBridge::dp_meters. Datapath meter counters go back to the OpenFlow meter tables as deltas.
// Every method needs the ofproto-dpif lock.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ofproto/codec/messages.h"
#include "ofproto/meter/meter_table.h"

namespace sluice::ofp {

class Backer;
struct BridgeState;

class DpMeters {
 public:
  explicit DpMeters(Backer& b);
  // Meter `m` was added to or modified in `br`'s meter table: program the datapath's.
  std::optional<OfpError> SetLocked(BridgeState& br, const Meter& m);
  void DelLocked(BridgeState& br, uint32_t meter_id);
  // Frees every datapath meter of `br` (the bridge goes).
  void ReleaseLocked(BridgeState& br);
  // Datapath meter counters -> the OpenFlow meter tables.
  void PushStatsLocked();

 private:
  Backer& b_;
  std::vector<bool> used_;  // datapath meter ids in use
  uint32_t next_ = 0;
};

}  // namespace sluice::ofp
