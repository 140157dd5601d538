#include "datapath/dpif_netdev/pmd.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "common/clock.h"
#include "datapath/actions/execute.h"
#include "datapath/packet/parse.h"
#include "sluice/log.h"

namespace sluice::dp {
namespace {

auto Log() {
  static auto l = log::Get("dpif_netdev");
  return l;
}

}  // namespace

Pmd::Pmd(const PmdContext& ctx, unsigned index, int core)
    : ctx_(ctx),
      index_(index),
      core_(core),
      dpcls_(ctx.reclaimer),
      slots_(kUpcallSlots),
      tx_(kMaxPorts),
      tokens_(kMaxPorts, 0.0),
      last_tsc_(kMaxPorts, 0) {
  emc_.SetInsertInvProb(ctx.emc_insert_inv_prob);
  emc_min_subtables_ = ctx.emc_min_subtables;
}

Pmd::~Pmd() {
  Stop();
  auto drain_free = [](rte_ring*& r) {
    if (r) rte_ring_free(r);
    r = nullptr;
  };
  if (upcall_ring_) {
    void* obj;
    while (rte_ring_dequeue(upcall_ring_, &obj) == 0) {
      auto* u = static_cast<PmdUpcall*>(obj);
      rte_pktmbuf_free(u->packet);
    }
  }
  drain_free(upcall_ring_);
  drain_free(free_ring_);
}

Result<void> Pmd::Start() {
  std::string a = "pmd_free" + std::to_string(index_), b = "pmd_upcall" + std::to_string(index_);
  free_ring_ =
      rte_ring_create(a.c_str(), kUpcallSlots * 2, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  upcall_ring_ =
      rte_ring_create(b.c_str(), kUpcallSlots * 2, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (!free_ring_ || !upcall_ring_) return MakeError(Errc::kNoSpace, "cannot create PMD rings");
  for (auto& s : slots_) rte_ring_enqueue(free_ring_, &s);
  tsc_hz_ = rte_get_tsc_hz();
  ms_per_tsc_ = 1000.0 / static_cast<double>(tsc_hz_);
  for (auto& t : tokens_) t = ctx_.upcall_burst;
  ctx_.reclaimer->Register(index_);
  thread_ = std::thread([this] { Run(); });
  return {};
}

void Pmd::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  thread_.join();
  ctx_.reclaimer->Unregister(index_);
}

void Pmd::Run() {
  if (core_ >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core_, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
      Log()->warn("pmd{}: cannot pin to core {}", index_, core_);
    }
  }
  std::string tname = "pmd-c" + std::to_string(core_);
  pthread_setname_np(pthread_self(), tname.c_str());
  // An lcore id gives this thread a per-lcore mempool cache.
  if (rte_thread_register() != 0) Log()->warn("pmd{}: rte_thread_register failed", index_);
  Log()->info("pmd{} started on core {} (lcore {})", index_, core_, rte_lcore_id());

  rte_mbuf* pkts[kBatch];
  uint32_t zero_ids[kBatch] = {};
  uint64_t iter = 0;
  rerank_tsc_ = rte_rdtsc();
  slow_poll_tsc_ = tsc_hz_ * kSlowPollUs / 1000000;
  while (!stop_.load(std::memory_order_relaxed)) {
    uint64_t t0 = rte_rdtsc();
    // Quiescent point: nothing from the previous iteration is referenced any more.
    ctx_.reclaimer->Quiescent(index_);
    uint64_t gen = ctx_.reclaimer->deletion_generation();
    if (gen != seen_del_gen_) {
      emc_.SweepDead();
      seen_del_gen_ = gen;
    }
    dpcls_.Sync();
    table_ = ctx_.ports->load(std::memory_order_acquire);
    bool busy = false;
    if (table_ && index_ < table_->rxqs_by_pmd.size()) {
      // Ports whose rx is a system call are polled every kSlowPollUs only.
      bool poll_slow = t0 - last_slow_poll_tsc_ >= slow_poll_tsc_;
      if (poll_slow) last_slow_poll_tsc_ = t0;
      for (const auto& rxq : table_->rxqs_by_pmd[index_]) {
        if (rxq.slow && !poll_slow) continue;
        uint16_t n = rxq.port->RxBurst(rxq.qid, pkts, kBatch);
        if (n == 0) continue;
        busy = true;
        now_ms_ = ClockMs(t0);
        uint32_t in_port = rxq.port->port_no();
        for (uint16_t i = 0; i < n; ++i) pkts[i]->port = static_cast<uint16_t>(in_port);
        Bump(ctr_.packets, n);
        ProcessBatch(pkts, zero_ids, n, 0);
        FlushTx();
      }
    }
    uint64_t t1 = rte_rdtsc();
    Bump(busy ? ctr_.busy_cycles : ctr_.idle_cycles, t1 - t0);
    Bump(ctr_.iterations, 1);
    if ((++iter & 0x3ff) == 0 && t1 - rerank_tsc_ > tsc_hz_) {
      dpcls_.Rerank();
      rerank_tsc_ = t1;
    }
  }
  table_ = nullptr;
  rte_thread_unregister();
  Log()->info("pmd{} stopped", index_);
}

inline void Pmd::TxAppendBurst(uint32_t port, rte_mbuf* const* pkts, uint16_t n) noexcept {
  if (port >= kMaxPorts || !table_ || !table_->by_no[port]) [[unlikely]] {
    for (uint16_t i = 0; i < n; ++i) rte_pktmbuf_free(pkts[i]);
    Bump(ctr_.dropped, n);
    return;
  }
  TxBuf& b = tx_[port];
  if (b.n == 0) dirty_[n_dirty_++] = port;
  uint16_t i = 0;
  while (i < n) {
    uint16_t k = std::min<uint16_t>(n - i, kBatch - b.n);
    std::memcpy(&b.pkts[b.n], &pkts[i], k * sizeof(pkts[0]));
    b.n += k;
    i += k;
    if (b.n == kBatch) FlushPort(port);
  }
}

int64_t Pmd::ClockMs(uint64_t tsc) noexcept {
  if (tsc - clock_tsc_ >= tsc_hz_) {
    clock_tsc_ = tsc;
    clock_real_ms_ = clock::RealMs();
  }
  return clock::FromRealMs(
      clock_real_ms_ + static_cast<int64_t>(static_cast<double>(tsc - clock_tsc_) * ms_per_tsc_));
}

void Pmd::ProcessBatch(rte_mbuf** pkts, const uint32_t* recirc_ids, uint16_t n,
                       unsigned depth) noexcept {
  cur_depth_ = depth;
  // Simple match: a burst comes from one rx queue, so one in_port. If that port's traffic all
  // belongs to one in_port-only megaflow, nothing needs parsing or looking up.
  if (depth == 0 && n > 0) {
    if (Megaflow* s = dpcls_.Simple(pkts[0]->port)) {
      uint64_t bytes = 0;
      for (uint16_t i = 0; i < n; ++i) bytes += rte_pktmbuf_pkt_len(pkts[i]);
      Bump(ctr_.simple_hits, n);
      // TCP flags are not collected on this path (the packets are not parsed).
      s->AddStats(n, bytes, now_ms_, 0);
      ExecuteBatch(s, pkts, n);
      return;
    }
  }

  FlowKey keys[kBatch];
  uint32_t hashes[kBatch];
  Megaflow* flows[kBatch];
  const FlowKey* miss_keys[kBatch];
  uint16_t miss_idx[kBatch];
  uint16_t n_miss = 0;
  // With few subtables a classifier probe is cheaper than the EMC's whole-key hash and compare
  // (OVS's EMC has the same trade-off, see bench/README): skip the EMC then.
  const bool use_emc = dpcls_.n_ranked() > emc_min_subtables_;
  // Without the EMC only the words some subtable compares are read: when those are all metadata
  // and L2 (NORMAL switching, MAC rules), parse L2 only. A miss parses the rest for its upcall.
  const bool l2_only = !use_emc && (dpcls_.WordsUsed() >> kFlowL3Word) == 0;

  for (uint16_t i = 0; i < n; ++i) {
    if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void*));
    FlowKey& k = keys[i];
    std::memset(&k, 0, kFlowL2Word * sizeof(uint64_t));  // tunnel and packet metadata
    k.in_port = pkts[i]->port;
    k.recirc_id = recirc_ids[i];
    const uint8_t* data = rte_pktmbuf_mtod(pkts[i], const uint8_t*);
    if (l2_only) {
      ParsePacketL2(data, rte_pktmbuf_data_len(pkts[i]), &k);
    } else {
      ParsePacket(data, rte_pktmbuf_data_len(pkts[i]), &k);
    }
    if (use_emc) {
      hashes[i] = HashFlowKey(k);
      flows[i] = emc_.Lookup(k, hashes[i]);
      if (flows[i]) continue;
    } else {
      flows[i] = nullptr;
    }
    miss_keys[n_miss] = &k;
    miss_idx[n_miss++] = i;
  }
  uint16_t emc_hits = n - n_miss;
  uint16_t mf_hits = 0;
  // No Sync in the lookups: the subtable set must stay the one WordsUsed() described above.
  if (n_miss && !use_emc) {
    // Every packet is in miss_keys, in order: look up straight into flows.
    dpcls_.LookupBatch(miss_keys, n_miss, flows, /*sync=*/false);
    for (uint16_t i = 0; i < n; ++i) mf_hits += flows[i] != nullptr;
  } else if (n_miss) {
    Megaflow* found[kBatch];
    dpcls_.LookupBatch(miss_keys, n_miss, found, /*sync=*/false);
    for (uint16_t j = 0; j < n_miss; ++j) {
      uint16_t i = miss_idx[j];
      if (found[j]) {
        flows[i] = found[j];
        ++mf_hits;
        if (use_emc) emc_.Insert(keys[i], hashes[i], found[j]);
      }
    }
  }
  Bump(ctr_.emc_hits, emc_hits);
  Bump(ctr_.megaflow_hits, mf_hits);

  // Statistics are credited once per run of consecutive packets of the same megaflow.
  Megaflow* run = nullptr;
  rte_mbuf* lone_pkts[kBatch];
  uint32_t lone_ports[kBatch];
  uint16_t n_lone = 0;
  uint64_t run_pkts = 0, run_bytes = 0;
  uint16_t run_flags = 0;
  for (uint16_t i = 0; i < n; ++i) {
    Megaflow* f = flows[i];
    if (!f) {
      Bump(ctr_.misses, 1);
      if (l2_only) {
        ParsePacket(rte_pktmbuf_mtod(pkts[i], const uint8_t*), rte_pktmbuf_data_len(pkts[i]),
                    &keys[i]);
      }
      QueueUpcall(pkts[i], &keys[i], false, 0, 0);
      continue;
    }
    if (f != run) {
      if (run) run->AddStats(run_pkts, run_bytes, now_ms_, run_flags);
      run = f;
      run_pkts = run_bytes = 0;
      run_flags = 0;
    }
    ++run_pkts;
    run_bytes += rte_pktmbuf_pkt_len(pkts[i]);
    run_flags |= keys[i].tcp_flags;
    const uint32_t lone = f->lone_output.load(std::memory_order_acquire);
    if (lone != MegaflowActions::kNoPort) {
      lone_pkts[n_lone] = pkts[i];
      lone_ports[n_lone++] = lone;
    } else {
      const MegaflowActions* a = f->actions.load(std::memory_order_acquire);
      ExecuteActions(a ? a->view() : ActionView{}, pkts[i], *this);
    }
  }
  if (run) run->AddStats(run_pkts, run_bytes, now_ms_, run_flags);
  // Packets of lone-output megaflows go to the tx buffers a run of same-port packets at a time
  // (after the others: order is kept within each megaflow, so within each flow).
  for (uint16_t j = 0; j < n_lone;) {
    uint16_t k = j + 1;
    while (k < n_lone && lone_ports[k] == lone_ports[j]) ++k;
    TxAppendBurst(lone_ports[j], &lone_pkts[j], k - j);
    j = k;
  }

  // Packets recirculated by this batch run through the caches again, depth-limited.
  if (depth < kMaxRecircDepth && recirc_[depth + 1].n) {
    RecircBuf& rb = recirc_[depth + 1];
    uint16_t m = rb.n;
    rb.n = 0;
    rte_mbuf* rp[kBatch];
    uint32_t ids[kBatch];
    std::memcpy(rp, rb.pkts, m * sizeof(rp[0]));
    std::memcpy(ids, rb.ids, m * sizeof(ids[0]));
    ProcessBatch(rp, ids, m, depth + 1);
  }
}

void Pmd::ExecuteBatch(const Megaflow* f, rte_mbuf** pkts, uint16_t n) noexcept {
  const MegaflowActions* a = f->actions.load(std::memory_order_acquire);
  if (!a) {  // no actions: drop
    for (uint16_t i = 0; i < n; ++i) rte_pktmbuf_free(pkts[i]);
    Bump(ctr_.dropped, n);
    return;
  }
  const uint32_t port = a->lone_output;
  if (port == MegaflowActions::kNoPort) {
    for (uint16_t i = 0; i < n; ++i) ExecuteActions(a->view(), pkts[i], *this);
    return;
  }
  TxAppendBurst(port, pkts, n);
}

void Pmd::Output(uint32_t port, rte_mbuf* m) noexcept { TxAppendBurst(port, &m, 1); }

void Pmd::FlushPort(uint32_t port) noexcept {
  TxBuf& b = tx_[port];
  if (b.n == 0) return;
  Port* p = table_ ? table_->by_no[port] : nullptr;
  if (p) {
    p->TxBurst(static_cast<uint16_t>(index_), b.pkts, b.n);
  } else {
    for (uint16_t i = 0; i < b.n; ++i) rte_pktmbuf_free(b.pkts[i]);
    Bump(ctr_.dropped, b.n);
  }
  b.n = 0;
}

void Pmd::FlushTx() noexcept {
  for (uint32_t i = 0; i < n_dirty_; ++i) FlushPort(dirty_[i]);
  n_dirty_ = 0;
}

void Pmd::Userspace(const ActUserspace& u, rte_mbuf* m) noexcept {
  QueueUpcall(m, nullptr, true, u.pid, u.cookie);
}

void Pmd::Recirc(uint32_t recirc_id, rte_mbuf* m) noexcept {
  unsigned d = cur_depth_ + 1;
  if (d > kMaxRecircDepth || recirc_[d].n == kBatch) {
    rte_pktmbuf_free(m);
    CountDrop();
    return;
  }
  RecircBuf& rb = recirc_[d];
  rb.pkts[rb.n] = m;
  rb.ids[rb.n++] = recirc_id;
}

rte_mempool* Pmd::ClonePool() noexcept { return ctx_.pool; }

void Pmd::CountDrop() noexcept { Bump(ctr_.dropped, 1); }

bool Pmd::Meter(uint32_t meter_id, rte_mbuf* m) noexcept {
  return MeterMbuf(*ctx_.meters, meter_id, rte_rdtsc(), m);
}

bool Pmd::AdmitUpcall(uint32_t in_port) noexcept {
  uint32_t p = in_port % kMaxPorts;
  uint64_t now = rte_rdtsc();
  double rate = ctx_.upcall_rate;
  double burst = ctx_.upcall_burst;
  double t = tokens_[p] + static_cast<double>(now - last_tsc_[p]) * rate / tsc_hz_;
  last_tsc_[p] = now;
  tokens_[p] = t > burst ? burst : t;
  if (tokens_[p] < 1.0) return false;
  tokens_[p] -= 1.0;
  return true;
}

void Pmd::QueueUpcall(rte_mbuf* m, const FlowKey* key, bool is_action, uint32_t pid,
                      uint64_t cookie) noexcept {
  void* slot = nullptr;
  if (!AdmitUpcall(m->port) || rte_ring_sc_dequeue(free_ring_, &slot) != 0) {
    Bump(ctr_.lost, 1);
    rte_pktmbuf_free(m);
    return;
  }
  auto* u = static_cast<PmdUpcall*>(slot);
  u->packet = m;
  if (key)
    u->key = *key;
  else
    u->key.Clear();
  u->pmd = index_;
  u->is_action = is_action;
  u->userspace_pid = pid;
  u->cookie = cookie;
  rte_ring_sp_enqueue(upcall_ring_, u);  // cannot fail: the ring holds every slot
  Bump(ctr_.upcalls, 1);
}

unsigned Pmd::TakeUpcalls(PmdUpcall** out, unsigned n) {
  return rte_ring_sc_dequeue_burst(upcall_ring_, reinterpret_cast<void**>(out), n, nullptr);
}

void Pmd::ReleaseUpcall(PmdUpcall* u) {
  u->packet = nullptr;
  rte_ring_sp_enqueue(free_ring_, u);
}

PmdStatsSnapshot Pmd::Stats() const {
  PmdStatsSnapshot s;
  s.index = index_;
  s.core = core_;
  auto rd = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  s.packets = rd(ctr_.packets) - base_.packets;
  s.simple_hits = rd(ctr_.simple_hits) - base_.simple_hits;
  s.emc_hits = rd(ctr_.emc_hits) - base_.emc_hits;
  s.megaflow_hits = rd(ctr_.megaflow_hits) - base_.megaflow_hits;
  s.misses = rd(ctr_.misses) - base_.misses;
  s.lost = rd(ctr_.lost) - base_.lost;
  s.upcalls = rd(ctr_.upcalls) - base_.upcalls;
  s.dropped = rd(ctr_.dropped) - base_.dropped;
  s.busy_cycles = rd(ctr_.busy_cycles) - base_.busy_cycles;
  s.idle_cycles = rd(ctr_.idle_cycles) - base_.idle_cycles;
  s.iterations = rd(ctr_.iterations) - base_.iterations;
  s.megaflows = dpcls_.size();
  s.subtables = dpcls_.n_subtables();
  return s;
}

void Pmd::ClearStats() {
  PmdStatsSnapshot now = Stats();
  base_.packets += now.packets;
  base_.simple_hits += now.simple_hits;
  base_.emc_hits += now.emc_hits;
  base_.megaflow_hits += now.megaflow_hits;
  base_.misses += now.misses;
  base_.lost += now.lost;
  base_.upcalls += now.upcalls;
  base_.dropped += now.dropped;
  base_.busy_cycles += now.busy_cycles;
  base_.idle_cycles += now.idle_cycles;
  base_.iterations += now.iterations;
}

}  // namespace sluice::dp
