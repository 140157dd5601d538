// The megaflows ofproto-dpif installed, each with what it was translated from: the key of the
// packet that missed (the translation input), the rules, groups and tables it used (to credit
// datapath counters to), and the actions the datapath holds. Also the NORMAL flood index:
// which megaflows flooded towards a (bridge, VLAN, MAC), so that learning it re-translates
// just those. Plain data, guarded by the ofproto-dpif lock.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "datapath/actions/action_list.h"
#include "datapath/flow/flow_key.h"
#include "ofproto/xlate/xlate.h"

namespace sluice::ofp {

// A megaflow as the datapath knows it: the masked key and the mask.
struct MfKey {
  dp::FlowKey key;
  dp::FlowMask mask;
  bool operator==(const MfKey& o) const { return key == o.key && mask == o.mask; }
};
struct MfKeyHash {
  size_t operator()(const MfKey& k) const {
    return dp::HashFlowKey(k.key, dp::HashFlowKey(k.mask.bits));
  }
};

struct TrackedMegaflow {
  dp::FlowKey orig;  // the key of the packet that created it (translation input)
  std::vector<std::shared_ptr<const Rule>> rules;
  std::vector<std::pair<std::shared_ptr<const Group>, int>> groups;
  std::vector<std::pair<FlowTable*, bool>> tables;
  dp::ActionBuilder actions;
  uint64_t packets = 0, bytes = 0;  // as last read from the datapath
  uint64_t gen = 0;                 // statistics generation when installed
};

class MegaflowTable {
 public:
  using Map = std::unordered_map<MfKey, TrackedMegaflow, MfKeyHash>;

  Map& map() { return map_; }
  const Map& map() const { return map_; }
  size_t size() const { return map_.size(); }

  // The statistics generation: bumped by each statistics pass before it dumps the datapath, so
  // a megaflow installed meanwhile (gen > the pass's) is not taken for an expired one.
  uint64_t stats_gen() const { return stats_gen_; }
  uint64_t NextStatsGen() { return ++stats_gen_; }

  // NORMAL flooded towards each of `flooded` in the megaflow with masked key `key`.
  void AddFloods(const std::vector<MacRef>& flooded, const dp::FlowKey& key);
  // The masked keys of the megaflows that flooded towards any of `learned` (now known), taken
  // out of the index.
  std::vector<dp::FlowKey> TakeFloods(const std::vector<MacRef>& learned);
  void ClearFloods() { flood_index_.clear(); }

 private:
  static uint64_t FloodKey(const XBridge* br, uint16_t vlan, const Mac& mac);

  Map map_;
  // (bridge, VLAN, MAC) NORMAL flooded for -> masked keys of those megaflows.
  std::unordered_multimap<uint64_t, dp::FlowKey> flood_index_;
  uint64_t stats_gen_ = 0;
};

// Credits packets to the rules and groups (and buckets) of a translation: datapath counters
// pushed up, or packets the control side forwarded itself (upcalls, packet-outs).
void CreditTranslation(const std::vector<std::shared_ptr<const Rule>>& rules,
                       const std::vector<std::pair<std::shared_ptr<const Group>, int>>& groups,
                       uint64_t packets, uint64_t bytes, int64_t now);

// Whether every bit of `inner` is set in `outer`.
bool MaskSubset(const dp::FlowMask& inner, const dp::FlowMask& outer);
bool SameActions(const dp::ActionBuilder& a, const dp::ActionBuilder& b);

}  // namespace sluice::ofp
