#include "ofproto/dpif/megaflows.h"

#include <cstring>

#include "ofproto/group/group_table.h"

namespace sluice::ofp {

uint64_t MegaflowTable::FloodKey(const XBridge* br, uint16_t vlan, const Mac& mac) {
  uint64_t v = vlan;
  for (uint8_t b : mac) v = (v << 8) | b;
  return v ^ (reinterpret_cast<uintptr_t>(br) * 0x9e3779b97f4a7c15ULL);
}

void MegaflowTable::AddFloods(const std::vector<MacRef>& flooded, const dp::FlowKey& key) {
  for (const auto& f : flooded) flood_index_.emplace(FloodKey(f.bridge, f.vlan, f.mac), key);
}

std::vector<dp::FlowKey> MegaflowTable::TakeFloods(const std::vector<MacRef>& learned) {
  std::vector<dp::FlowKey> keys;
  for (const auto& l : learned) {
    auto [b, e] = flood_index_.equal_range(FloodKey(l.bridge, l.vlan, l.mac));
    for (auto it = b; it != e; ++it) keys.push_back(it->second);
    flood_index_.erase(b, e);
  }
  return keys;
}

void CreditTranslation(const std::vector<std::shared_ptr<const Rule>>& rules,
                       const std::vector<std::pair<std::shared_ptr<const Group>, int>>& groups,
                       uint64_t packets, uint64_t bytes, int64_t now) {
  for (const auto& rule : rules) rule->AddStats(packets, bytes, now);
  for (const auto& [g, bucket] : groups) {
    g->CountPackets(packets, bytes);
    if (bucket >= 0) g->CountBucketPackets(static_cast<size_t>(bucket), packets, bytes);
    if (bucket == -1) {
      for (size_t i = 0; i < g->buckets().size(); ++i) g->CountBucketPackets(i, packets, bytes);
    }
  }
}

bool MaskSubset(const dp::FlowMask& inner, const dp::FlowMask& outer) {
  const uint64_t* a = inner.bits.words();
  const uint64_t* b = outer.bits.words();
  for (size_t i = 0; i < dp::FlowKey::kWords; ++i) {
    if (a[i] & ~b[i]) return false;
  }
  return true;
}

bool SameActions(const dp::ActionBuilder& a, const dp::ActionBuilder& b) {
  if (a.size() != b.size()) return false;
  return a.size() == 0 || std::memcmp(a.view().data(), b.view().data(), a.size()) == 0;
}

}  // namespace sluice::ofp
