// DpifNetdev's flow operations: every flow is installed on every PMD's classifier (as OVS's
// dpif-netdev does without a PMD id), so each operation visits each PMD under the writer lock.
// Flow dumps walk a per-PMD index of megaflows by id, one bounded batch per lock hold.
#include <algorithm>

#include "common/clock.h"
#include "datapath/cache/megaflow.h"
#include "datapath/dpif_netdev/dpif_netdev.h"

namespace sluice::dp {
namespace {

DpifFlow ToFlow(const Megaflow& f, const Pmd& p, bool actions) {
  DpifFlow e;
  e.key = f.key;
  e.mask = f.mask;
  if (actions) {
    ActionView v = f.Actions();
    e.actions = ActionBuilder::FromBytes(v.data(), v.size());
  }
  e.packets = f.packets.load(std::memory_order_relaxed);
  e.bytes = f.bytes.load(std::memory_order_relaxed);
  e.used_ms = f.used_ms.load(std::memory_order_relaxed);
  e.tcp_flags = f.tcp_flags.load(std::memory_order_relaxed);
  e.pmd = p.index();
  e.core = p.core();
  e.id = f.id;
  return e;
}

}  // namespace

bool DpifNetdev::InsertLocked(size_t pmd, std::unique_ptr<Megaflow> f) {
  mu_.AssertHeld();
  const uint64_t id = f->id;
  Megaflow* raw = pmds_[pmd]->dpcls().Insert(std::move(f));
  if (!raw) return false;
  flows_by_id_[pmd].emplace(id, raw);
  return true;
}

void DpifNetdev::RemoveLocked(size_t pmd, Megaflow* f) {
  mu_.AssertHeld();
  flows_by_id_[pmd].erase(f->id);
  pmds_[pmd]->dpcls().Remove(f);
}

Result<void> DpifNetdev::FlowPut(const FlowKey& key, const FlowMask& mask, ActionView actions,
                                 unsigned flags) {
  std::lock_guard lk(mu_);
  FlowKey masked;
  ApplyMask(key, mask, &masked);
  // Check every PMD first so that the operation is all-or-nothing.
  for (auto& p : pmds_) {
    Megaflow* f = p->dpcls().Find(masked, mask);
    if (f && !(flags & kFlowModify)) return MakeError(Errc::kExists, "flow already exists");
    if (!f && !(flags & kFlowCreate)) return MakeError(Errc::kNotFound, "flow does not exist");
    if (!f && p->dpcls().size() >= cfg_.max_megaflows) {
      return MakeError(Errc::kNoSpace, "too many megaflows");
    }
  }
  int64_t now = clock::NowMs();
  for (size_t i = 0; i < pmds_.size(); ++i) {
    Megaflow* f = pmds_[i]->dpcls().Find(masked, mask);
    if (f) {
      const MegaflowActions* old = f->SetActions(MegaflowActions::From(actions));
      if (old) reclaimer_.Defer([old] { delete old; });
      if (flags & kFlowZeroStats) {
        f->packets.store(0, std::memory_order_relaxed);
        f->bytes.store(0, std::memory_order_relaxed);
        f->tcp_flags.store(0, std::memory_order_relaxed);
      }
      continue;
    }
    auto nf = std::make_unique<Megaflow>();
    nf->key = masked;
    nf->mask = mask;
    nf->SetActions(MegaflowActions::From(actions));
    nf->id = next_flow_id_++;
    nf->created_ms = now;
    nf->expires = flags & kFlowExpires;
    if (!InsertLocked(i, std::move(nf))) {
      return MakeError(Errc::kNoSpace, "classifier is full (too many masks)");
    }
  }
  counters_.flow_puts.fetch_add(1, std::memory_order_relaxed);
  return {};
}

Result<void> DpifNetdev::FlowDel(const FlowKey& key, const FlowMask& mask) {
  std::lock_guard lk(mu_);
  FlowKey masked;
  ApplyMask(key, mask, &masked);
  bool found = false;
  for (size_t i = 0; i < pmds_.size(); ++i) {
    if (Megaflow* f = pmds_[i]->dpcls().Find(masked, mask)) {
      RemoveLocked(i, f);
      found = true;
    }
  }
  if (!found) return MakeError(Errc::kNotFound, "flow does not exist");
  counters_.flow_dels.fetch_add(1, std::memory_order_relaxed);
  return {};
}

void DpifNetdev::FlowFlush() {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < pmds_.size(); ++i) {
    std::vector<Megaflow*> all;
    all.reserve(flows_by_id_[i].size());
    for (const auto& [id, f] : flows_by_id_[i]) all.push_back(f);
    for (Megaflow* f : all) RemoveLocked(i, f);
  }
}

std::vector<DpifFlow> DpifNetdev::FlowGet(const FlowKey& key, const FlowMask& mask) const {
  std::lock_guard lk(mu_);
  std::vector<DpifFlow> out;
  for (const auto& p : pmds_) {
    if (Megaflow* f = p->dpcls().Find(key, mask)) out.push_back(ToFlow(*f, *p, true));
  }
  return out;
}

Result<DpifFlowStats> DpifNetdev::FlowStats(const FlowKey& key, const FlowMask& mask) const {
  std::lock_guard lk(mu_);
  DpifFlowStats s;
  bool found = false;
  for (const auto& p : pmds_) {
    const Megaflow* f = p->dpcls().Find(key, mask);
    if (!f) continue;
    found = true;
    s.packets += f->packets.load(std::memory_order_relaxed);
    s.bytes += f->bytes.load(std::memory_order_relaxed);
    s.used_ms = std::max<int64_t>(s.used_ms, f->used_ms.load(std::memory_order_relaxed));
    s.tcp_flags |= f->tcp_flags.load(std::memory_order_relaxed);
  }
  if (!found) return MakeError(Errc::kNotFound, "flow does not exist");
  return s;
}

size_t DpifNetdev::FlowCount() const {
  std::lock_guard lk(mu_);
  size_t n = 0;
  for (const auto& p : pmds_) n += p->dpcls().size();
  return n;
}

void DpifNetdev::SetMaxIdle(int64_t ms) {
  std::lock_guard lk(mu_);
  cfg_.max_idle_ms = ms;
}

void DpifNetdev::ExpireIdleLocked(int64_t now_ms) {
  mu_.AssertHeld();
  if (cfg_.max_idle_ms <= 0) return;
  for (size_t i = 0; i < pmds_.size(); ++i) {
    std::vector<Megaflow*> dead;
    for (const auto& [id, f] : flows_by_id_[i]) {
      if (!f->expires) continue;
      int64_t last = std::max<int64_t>(f->created_ms, f->used_ms.load());
      if (now_ms - last >= cfg_.max_idle_ms) dead.push_back(f);
    }
    for (Megaflow* f : dead) RemoveLocked(i, f);
    counters_.megaflows_expired.fetch_add(dead.size(), std::memory_order_relaxed);
  }
}

// The cursor: (PMD index, next megaflow id). Flows are dumped PMD by PMD in id order.
class DpifNetdev::FlowDump final : public DpifFlowDump {
 public:
  FlowDump(DpifNetdev& dp, const FlowDumpOptions& opts) : dp_(dp), opts_(opts) {}
  size_t Next(std::vector<DpifFlow>& out, size_t max) override {
    std::lock_guard lk(dp_.mu_);
    size_t n = 0;
    while (n < max && pmd_ < dp_.pmds_.size()) {
      const auto& index = dp_.flows_by_id_[pmd_];
      auto it = index.lower_bound(next_id_);
      for (; it != index.end() && n < max; ++it, ++n) {
        out.push_back(ToFlow(*it->second, *dp_.pmds_[pmd_], opts_.actions));
        next_id_ = it->first + 1;
      }
      if (it == index.end()) {
        ++pmd_;
        next_id_ = 0;
      }
    }
    return n;
  }

 private:
  DpifNetdev& dp_;
  FlowDumpOptions opts_;
  size_t pmd_ = 0;
  uint64_t next_id_ = 0;
};

std::unique_ptr<DpifFlowDump> DpifNetdev::FlowDumpStart(const FlowDumpOptions& options) {
  return std::make_unique<FlowDump>(*this, options);
}

}  // namespace sluice::dp
