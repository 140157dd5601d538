// A megaflow: a masked flow key with its datapath actions and statistics. One Megaflow object
// belongs to exactly one PMD's classifier. The writer (control or handler thread, serialised by
// the owning Datapath) creates, publishes and retires it; the PMD reads it lock-free.
//
// Lifetime (QSBR): the writer unlinks a megaflow from the classifier, sets `dead`, and frees it
// only after the PMD has passed two quiescent points (the PMD sweeps dead entries out of its EMC
// between them). So a PMD may use any Megaflow* it found during one loop iteration.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "datapath/actions/action_list.h"
#include "datapath/flow/flow_key.h"

namespace sluice::dp {

// Immutable once published; replaced as a whole (mod-flow) and freed after a grace period.
struct MegaflowActions {
  static constexpr uint32_t kNoPort = UINT32_MAX;
  std::vector<uint64_t> storage;
  size_t len = 0;
  // The port when the actions are exactly one output (the PMD then hands a whole batch to the
  // port's tx buffer at once), else kNoPort.
  uint32_t lone_output = kNoPort;
  ActionView view() const { return {reinterpret_cast<const uint8_t*>(storage.data()), len}; }
  static std::unique_ptr<MegaflowActions> From(ActionView v) {
    return From(ActionBuilder::FromBytes(v.data(), v.size()));
  }
  static std::unique_ptr<MegaflowActions> From(const ActionBuilder& b) {
    auto a = std::make_unique<MegaflowActions>();
    a->storage = b.storage();
    a->len = b.size();
    a->lone_output = LoneOutput(a->view());
    return a;
  }
  static uint32_t LoneOutput(ActionView v) {
    if (v.size() != sizeof(ActionHeader) + sizeof(ActOutput)) return kNoPort;
    auto it = v.begin();
    if (it->type != static_cast<uint16_t>(ActionType::kOutput)) return kNoPort;
    return it.payload<ActOutput>().port;
  }
};

// Up to this many mask words of a megaflow's key are also kept, compacted in its subtable's word
// order, on the megaflow's first cache line (Megaflow::match).
inline constexpr uint32_t kMegaflowMatchWords = 4;

// Layout: the PMD compares the masked words its subtable looks at, then (on a hit) reads
// `lone_output` (or `actions`) and updates the counters. For a subtable of at most
// kMegaflowMatchWords words (in_port + MACs + VLANs for NORMAL, in_port + eth_type + nw_dst for
// prefix rules, ...) all of that is on the first cache line, which the classifier prefetches;
// wider masks compare the full key on the following lines.
struct alignas(64) Megaflow {
  // ---- line 0: what a hit touches ----
  // The subtable's masked key words in its word order, when it has at most kMegaflowMatchWords
  // (set by Dpcls::Insert; zero otherwise).
  uint64_t match[kMegaflowMatchWords] = {};
  // Statistics written only by the owning PMD (relaxed atomics so the control side can read them
  // without tearing).
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> used_ms{0};  // clock::NowMs() of the last hit, 0 = never
  std::atomic<uint16_t> tcp_flags{0};
  // MegaflowActions::lone_output of `actions`, cached here so that the PMD does not have to
  // follow `actions` for the commonest megaflow. Written together with `actions` (SetActions);
  // a reader may briefly see the new value of one with the old value of the other, i.e. the old
  // or the new translation, never anything else.
  std::atomic<uint32_t> lone_output{MegaflowActions::kNoPort};
  // ---- the rest ----
  FlowKey key;  // already masked with `mask`
  std::atomic<const MegaflowActions*> actions{nullptr};
  std::atomic<bool> dead{false};
  FlowMask mask;      // the subtable's mask (copied, so a Megaflow is self-describing)
  uint32_t hash = 0;  // the subtable hash of the masked key, as computed by the classifier
  uint64_t id = 0;    // datapath-unique id (a stand-in for OVS's ufid)
  int64_t created_ms = 0;
  bool expires = false;  // installed by the upcall path: removed after max-idle without hits

  // PMD only.
  void AddStats(uint64_t pkts, uint64_t byts, int64_t now_ms, uint16_t flags) noexcept {
    packets.store(packets.load(std::memory_order_relaxed) + pkts, std::memory_order_relaxed);
    bytes.store(bytes.load(std::memory_order_relaxed) + byts, std::memory_order_relaxed);
    used_ms.store(now_ms, std::memory_order_relaxed);
    if (flags) {
      tcp_flags.store(tcp_flags.load(std::memory_order_relaxed) | flags, std::memory_order_relaxed);
    }
  }
  ActionView Actions() const noexcept {
    const MegaflowActions* a = actions.load(std::memory_order_acquire);
    return a ? a->view() : ActionView{};
  }
  // Publishes new actions (ownership passes to the megaflow) and returns the previous ones, which
  // the caller must free only after a grace period.
  const MegaflowActions* SetActions(std::unique_ptr<MegaflowActions> a) noexcept {
    const uint32_t lone = a ? a->lone_output : MegaflowActions::kNoPort;
    const MegaflowActions* old = actions.exchange(a.release(), std::memory_order_acq_rel);
    lone_output.store(lone, std::memory_order_release);
    return old;
  }
};
// What a hit touches shares the first cache line (see above).
static_assert(offsetof(Megaflow, lone_output) + sizeof(uint32_t) <= 64);
static_assert(offsetof(Megaflow, key) == 64);

}  // namespace sluice::dp
