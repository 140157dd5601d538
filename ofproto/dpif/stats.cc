#include "ofproto/dpif/stats.h"

#include <unordered_set>

#include "common/clock.h"
#include "ofproto/dpif/backer.h"

namespace sluice::ofp {
namespace {

// Flows copied per dump batch (each batch is one hold of the datapath's lock).
constexpr size_t kDumpBatch = 1024;

}  // namespace

StatsPusher::StatsPusher(Backer& b) : b_(b), timer_(b.io) {}

void StatsPusher::Start() { Arm(); }

void StatsPusher::Stop() { timer_.cancel(); }

void StatsPusher::Arm() {
  timer_.expires_after(std::chrono::milliseconds(b_.cfg.stats_interval_ms));
  timer_.async_wait([this](std::error_code ec) {
    if (ec) return;
    {
      std::lock_guard lk(b_.mu);
      PushLocked();
      for (auto& [n, br] : b_.bridges) {
        if (br->mac.Expire(clock::NowMs())) b_.reval.MarkDirtyLocked();
      }
    }
    Arm();
  });
}

// Datapath counters -> the rules and groups each megaflow came from; megaflows the datapath no
// longer has (idle expiry) are forgotten.
void StatsPusher::PushLocked() {
  b_.mu.AssertHeld();
  b_.meters.PushStatsLocked();
  MegaflowTable& mf = b_.megaflows;
  const uint64_t gen = mf.NextStatsGen();
  struct Agg {
    uint64_t packets = 0, bytes = 0;
    int64_t used = 0;
  };
  std::unordered_map<MfKey, Agg, MfKeyHash> agg;
  agg.reserve(mf.size());
  dp::FlowDumpOptions opts;
  opts.actions = false;
  auto dump = b_.dpif.FlowDumpStart(opts);
  std::vector<dp::DpifFlow> batch;
  while (true) {
    batch.clear();
    if (dump->Next(batch, kDumpBatch) == 0) break;
    for (const auto& e : batch) {
      Agg& a = agg[MfKey{e.key, e.mask}];
      a.packets += e.packets;
      a.bytes += e.bytes;
      a.used = std::max(a.used, e.used_ms);
    }
  }
  MegaflowTable::Map& map = mf.map();
  for (auto it = map.begin(); it != map.end();) {
    auto a = agg.find(it->first);
    if (a == agg.end()) {
      // Gone from the datapath (idle expiry), unless installed after the dump began.
      if (it->second.gen < gen) {
        it = map.erase(it);
        continue;
      }
      ++it;
      continue;
    }
    TrackedMegaflow& t = it->second;
    if (a->second.packets > t.packets) {
      uint64_t dpk = a->second.packets - t.packets;
      uint64_t dby = a->second.bytes >= t.bytes ? a->second.bytes - t.bytes : 0;
      CreditTranslation(t.rules, t.groups, dpk, dby, a->second.used);
      for (const auto& [table, matched] : t.tables) table->CountLookups(dpk, matched ? dpk : 0);
      t.packets = a->second.packets;
      t.bytes = a->second.bytes;
    }
    ++it;
  }
  SweepRecircLocked();
}

void StatsPusher::SweepRecircLocked() {
  if (b_.recirc_registry.size() == 0) return;
  std::unordered_set<uint32_t> keep;
  for (const auto& [mk, t] : b_.megaflows.map()) {
    if (mk.key.recirc_id) keep.insert(mk.key.recirc_id);  // a second pass
    for (auto a = t.actions.view().begin(); a != t.actions.view().end(); ++a) {
      if (static_cast<dp::ActionType>(a->type) == dp::ActionType::kRecirc) {
        keep.insert(a.payload<dp::ActRecirc>().recirc_id);  // a first pass
      }
    }
  }
  b_.ctr.recirc_states_dropped +=
      b_.recirc_registry.Sweep(keep, clock::NowMs(), b_.cfg.recirc_grace_ms);
}

}  // namespace sluice::ofp
