// Deferred reclamation hook: Defer() hands over a closure that frees memory a datapath thread
// may still be reading; the implementation runs it once every reader has passed a quiescent
// state (DpifNetdev's QsbrReclaimer; for megaflows two, see datapath/cache/megaflow.h, so that
// the PMD's EMC sweep sits in between). Used by the writers of the megaflow classifier and the
// meter table.
#pragma once

#include <functional>

namespace sluice::dp {

class Reclaimer {
 public:
  virtual ~Reclaimer() = default;
  virtual void Defer(std::function<void()> free_fn) = 0;
};

}  // namespace sluice::dp
