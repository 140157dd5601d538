#include "ofproto/dpif/revalidator.h"

#include <algorithm>

#include "common/clock.h"
#include "datapath/flow/odp_text.h"
#include "ofproto/dpif/backer.h"

namespace sluice::ofp {

void Revalidator::MarkDirtyLocked() {
  b_.mu.AssertHeld();
  dirty_ = true;
  if (posted_) return;
  posted_ = true;
  // Runs after the messages already read from the connections, so a burst of flow mods costs
  // one pass.
  asio::post(b_.io, [this, alive = std::weak_ptr<bool>(b_.alive)] {
    if (alive.expired()) return;
    std::lock_guard lk(b_.mu);
    posted_ = false;
    if (dirty_) RevalidateLocked();
  });
}

std::optional<XlateResult> Revalidator::RetranslateLocked(const TrackedMegaflow& t) {
  XBridge* xbr = nullptr;
  uint32_t ofport = 0;
  if (!b_.ResolveInputLocked(t.orig, &xbr, &ofport)) return std::nullopt;
  XlateInput in;
  in.bridge = xbr;
  in.key = t.orig;
  in.in_ofport = ofport;
  in.learn = false;
  in.count = false;
  in.now_ms = clock::NowMs();
  return Translate(b_.EnvLocked(), in);
}

Revalidator::Outcome Revalidator::RevalidateOneLocked(const MfKey& mk, TrackedMegaflow& t) {
  ++b_.ctr.revalidated_flows;
  std::optional<XlateResult> again = RetranslateLocked(t);
  // A translation that needs bits the megaflow does not match on would be wrong for some of the
  // packets it covers.
  if (!again || again->no_install || !MaskSubset(again->mask, mk.mask)) {
    (void)b_.dpif.FlowDel(mk.key, mk.mask);
    ++b_.ctr.revalidate_deleted;
    return Outcome::kDelete;
  }
  XlateResult& r = *again;
  if (!SameActions(r.actions, t.actions)) {
    if (!b_.dpif.FlowPut(mk.key, mk.mask, r.actions.view(), dp::kFlowModify)) {
      return Outcome::kDelete;  // gone from the datapath (idle expiry)
    }
    ++b_.ctr.revalidate_modified;
    t.actions = r.actions;
  }
  t.rules = std::move(r.rules);
  t.groups = std::move(r.groups);
  t.tables = std::move(r.tables);
  b_.megaflows.AddFloods(r.flooded, mk.key);
  return Outcome::kKeep;
}

void Revalidator::RevalidateLocked() {
  b_.mu.AssertHeld();
  dirty_ = false;
  ++b_.ctr.revalidations;
  MegaflowTable::Map& map = b_.megaflows.map();
  b_.megaflows.ClearFloods();
  for (auto it = map.begin(); it != map.end();) {
    if (RevalidateOneLocked(it->first, it->second) == Outcome::kDelete) {
      it = map.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [n, br] : b_.bridges) br->ofp->mutable_pipeline().Purge(br->ofp->pipeline().version());
}

// NORMAL learned new addresses: megaflows that flooded towards them would keep flooding until
// they idle out, so they are re-translated now (they become unicast).
void Revalidator::ForgetFloodsLocked(const std::vector<MacRef>& learned) {
  b_.mu.AssertHeld();
  std::vector<dp::FlowKey> keys = b_.megaflows.TakeFloods(learned);
  if (keys.empty()) return;
  // The index holds masked keys; find their entries by scanning only when there are any.
  MegaflowTable::Map& map = b_.megaflows.map();
  for (auto it = map.begin(); it != map.end();) {
    bool hit = std::any_of(keys.begin(), keys.end(),
                           [&](const dp::FlowKey& k) { return k == it->first.key; });
    if (hit && RevalidateOneLocked(it->first, it->second) == Outcome::kDelete) {
      it = map.erase(it);
    } else {
      ++it;
    }
  }
}

void Revalidator::SyncLocked() {
  b_.mu.AssertHeld();
  if (dirty_) RevalidateLocked();
  // Megaflows deleted or given new actions are reclaimed only after every datapath thread has
  // passed a quiescent point; waiting for that means none still runs the old actions.
  b_.dpif.Synchronize();
}

std::vector<std::string> Revalidator::VerifyLocked() {
  b_.mu.AssertHeld();
  std::vector<std::string> problems;
  for (auto& [mk, t] : b_.megaflows.map()) {
    std::string flow = dp::FormatOdpFlow(mk.key, mk.mask);
    std::optional<XlateResult> again = RetranslateLocked(t);
    if (!again) {
      problems.push_back("megaflow on a port no bridge has: " + flow);
      continue;
    }
    const XlateResult& r = *again;
    if (r.no_install || !MaskSubset(r.mask, mk.mask)) {
      problems.push_back("megaflow needs a narrower mask now: " + flow);
    } else if (!SameActions(r.actions, t.actions)) {
      problems.push_back("stale actions " + dp::FormatOdpActions(t.actions.view()) + " (now " +
                         dp::FormatOdpActions(r.actions.view()) + "): " + flow);
    }
    for (const auto& e : b_.dpif.FlowGet(mk.key, mk.mask)) {
      if (!SameActions(e.actions, t.actions)) {
        problems.push_back("datapath holds other actions than remembered: " + flow);
      }
    }
  }
  return problems;
}

}  // namespace sluice::ofp
