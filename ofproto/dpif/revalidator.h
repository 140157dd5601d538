// Revalidation: keeps the installed megaflows equal to what the OpenFlow tables say now. A
// change marks ofproto-dpif dirty and posts one pass to the control loop (after the messages
// already read, so a burst of flow-mods costs one pass). A pass re-translates every remembered
// megaflow from its original key: same actions -> kept; new actions within the old mask ->
// modified in place (the datapath swaps the action list); a translation needing bits the mask
// lacks -> deleted. New MAC learning re-translates only the megaflows that flooded towards that
// MAC. Sync (a barrier) runs the pending pass at once and then waits for the datapath to
// synchronise. Every method needs the ofproto-dpif lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ofproto/dpif/megaflows.h"

namespace sluice::ofp {

class Backer;

class Revalidator {
 public:
  explicit Revalidator(Backer& b) : b_(b) {}

  // Something changed: a pass is posted to the control loop unless one already is.
  void MarkDirtyLocked();
  // A full pass, now.
  void RevalidateLocked();
  // The barrier: the pending pass if any, then every datapath thread past a quiescent point.
  void SyncLocked();
  // NORMAL learned `learned`: the megaflows that flooded towards them are re-translated.
  void ForgetFloodsLocked(const std::vector<MacRef>& learned);
  // Every remembered megaflow re-translated now must give the actions the datapath holds.
  std::vector<std::string> VerifyLocked();
  // A pass just ran (or the caller saw to it): nothing is pending.
  void ClearDirty() { dirty_ = false; }

 private:
  enum class Outcome { kKeep, kDelete };
  Outcome RevalidateOneLocked(const MfKey& mk, TrackedMegaflow& t);
  // A megaflow's original key translated again now (no learning, no counting); nullopt when its
  // input port or recirculation state is gone.
  std::optional<XlateResult> RetranslateLocked(const TrackedMegaflow& t);

  Backer& b_;
  bool dirty_ = false;
  bool posted_ = false;
};

}  // namespace sluice::ofp
