#include "datapath/dpif_netdev/datapath.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "common/clock.h"
#include "datapath/actions/execute.h"
#include "datapath/dpif_netdev/pmd.h"
#include "datapath/packet/parse.h"
#include "datapath/port/dummy_port.h"
#include "datapath/port/netlink_link.h"
#include "sluice/log.h"

namespace sluice::dp {
namespace {

auto Log() {
  static auto l = log::Get("dpif_netdev");
  return l;
}

// Executes actions for packets sent from non-PMD threads (control, handler).
class ControlSink {
 public:
  ControlSink(Datapath& dp, const Datapath::PortTable* table, uint16_t txq, uint64_t* drops,
              const Datapath::UserspaceFn& on_userspace, const Datapath::RecircFn& on_recirc)
      : dp_(dp),
        table_(table),
        txq_(txq),
        drops_(drops),
        on_userspace_(on_userspace),
        on_recirc_(on_recirc) {}
  void Output(uint32_t port, rte_mbuf* m) noexcept {
    Port* p = port < kMaxPorts && table_ ? table_->by_no[port] : nullptr;
    if (!p) {
      rte_pktmbuf_free(m);
      ++*drops_;
      return;
    }
    p->TxBurst(txq_, &m, 1);
  }
  void Userspace(const ActUserspace& a, rte_mbuf* m) noexcept {
    if (on_userspace_) {
      on_userspace_(a, m);
      return;
    }
    rte_pktmbuf_free(m);
    ++*drops_;
  }
  void Recirc(uint32_t id, rte_mbuf* m) noexcept {
    if (on_recirc_) {
      on_recirc_(id, m);
      return;
    }
    rte_pktmbuf_free(m);
    ++*drops_;
  }
  rte_mempool* ClonePool() noexcept { return dp_.pool(); }
  void CountDrop() noexcept { ++*drops_; }
  bool Meter(uint32_t id, rte_mbuf* m) noexcept { return dp_.meters().Run(id, rte_rdtsc(), m); }

 private:
  Datapath& dp_;
  const Datapath::PortTable* table_;
  uint16_t txq_;
  uint64_t* drops_;
  const Datapath::UserspaceFn& on_userspace_;
  const Datapath::RecircFn& on_recirc_;
};

}  // namespace

Datapath::Datapath(const DatapathConfig& cfg, rte_mempool* pool)
    : cfg_(cfg),
      pool_(pool),
      reclaimer_(std::max<unsigned>(cfg.pmd_cores.size(), 1)),
      meters_(&reclaimer_, rte_get_tsc_hz()) {
  ports_.resize(kMaxPorts);
}

Result<std::unique_ptr<Datapath>> Datapath::Create(const DatapathConfig& cfg, rte_mempool* pool) {
  if (cfg.pmd_cores.empty()) return MakeError(Errc::kInvalid, "at least one PMD core is needed");
  std::unique_ptr<Datapath> dp(new Datapath(cfg, pool));
  {
    std::lock_guard lk(dp->mu_);
    dp->PublishPortsLocked();
  }
  for (size_t i = 0; i < cfg.pmd_cores.size(); ++i) {
    dp->pmds_.push_back(
        std::make_unique<Pmd>(*dp, static_cast<unsigned>(i), static_cast<int>(cfg.pmd_cores[i])));
  }
  for (auto& p : dp->pmds_) {
    if (auto r = p->Start(); !r) return std::unexpected(r.error());
  }
  dp->handler_thread_ = std::thread([d = dp.get()] { d->HandlerLoop(); });
  return dp;
}

Datapath::~Datapath() {
  stop_.store(true);
  if (handler_thread_.joinable()) handler_thread_.join();
  for (auto& p : pmds_) p->Stop();
  // No reader is left: free flows and ports directly.
  FlowFlush();
  reclaimer_.Synchronize();
  pmds_.clear();
  for (auto& p : ports_) {
    if (p) p->Stop();
    p.reset();
  }
  delete ports_pub_.exchange(nullptr);
}

void Datapath::PublishPortsLocked() {
  auto* t = new PortTable();
  t->rxqs_by_pmd.resize(std::max<size_t>(cfg_.pmd_cores.size(), 1));
  size_t next = 0;
  for (uint32_t i = 0; i < kMaxPorts; ++i) {
    Port* p = ports_[i].get();
    if (!p) continue;
    t->by_no[i] = p;
    for (uint16_t q = 0; q < p->n_rxq(); ++q) {
      t->rxqs_by_pmd[next++ % t->rxqs_by_pmd.size()].push_back({p, q, p->SlowPoll()});
    }
  }
  const PortTable* old = ports_pub_.exchange(t, std::memory_order_acq_rel);
  if (old) reclaimer_.Defer([old] { delete old; });
}

Result<uint32_t> Datapath::PortAdd(const PortSpec& spec, uint32_t requested_no) {
  std::lock_guard lk(mu_);
  for (uint32_t i = 0; i < kMaxPorts; ++i) {
    if (ports_[i] && ports_[i]->name() == spec.name) {
      return MakeError(Errc::kExists, "port '" + spec.name + "' already exists");
    }
  }
  uint32_t no = requested_no;
  if (no != 0) {
    if (no >= kMaxPorts) return MakeError(Errc::kInvalid, "port number out of range");
    if (ports_[no])
      return MakeError(Errc::kExists, "port number " + std::to_string(no) + " in use");
  } else {
    for (no = 1; no < kMaxPorts && ports_[no]; ++no) {
    }
    if (no == kMaxPorts) return MakeError(Errc::kNoSpace, "too many ports");
  }
  auto port = CreatePort(spec);
  if (!port) return std::unexpected(port.error());
  PortEnv env;
  env.pool = pool_;
  env.n_txq_wanted = static_cast<uint16_t>(pmds_.size() + 1);
  if (auto r = (*port)->Start(env); !r) {
    (*port)->Stop();
    return std::unexpected(r.error());
  }
  if (spec.type == "internal") {
    std::optional<std::string> mac;
    std::optional<unsigned> mtu;
    if (auto it = spec.options.find("mac"); it != spec.options.end()) mac = it->second;
    if (auto it = spec.options.find("mtu"); it != spec.options.end()) mtu = std::stoul(it->second);
    if (auto r = netlink::SetLink(spec.name, mac, mtu, true); !r) {
      Log()->warn("{}: {}", spec.name, r.error().message);
    }
  }
  (*port)->set_port_no(no);
  ports_[no] = std::move(*port);
  PublishPortsLocked();
  Log()->info("added port {} ({}) as port {}", spec.name, spec.type, no);
  return no;
}

Result<void> Datapath::PortDel(uint32_t port_no) {
  PortPtr victim;
  {
    std::lock_guard lk(mu_);
    if (port_no >= kMaxPorts || !ports_[port_no]) {
      return MakeError(Errc::kNotFound, "no port number " + std::to_string(port_no));
    }
    victim = std::move(ports_[port_no]);
    PublishPortsLocked();
  }
  // Wait until no PMD can still be polling or sending to it.
  reclaimer_.Synchronize();
  victim->Stop();
  Log()->info("deleted port {} (port {})", victim->name(), port_no);
  return {};
}

Result<uint32_t> Datapath::PortNumber(const std::string& name) const {
  std::lock_guard lk(mu_);
  for (uint32_t i = 0; i < kMaxPorts; ++i) {
    if (ports_[i] && ports_[i]->name() == name) return i;
  }
  return MakeError(Errc::kNotFound, "no port named '" + name + "'");
}

std::vector<PortInfo> Datapath::Ports() const {
  std::lock_guard lk(mu_);
  std::vector<PortInfo> out;
  for (uint32_t i = 0; i < kMaxPorts; ++i) {
    const Port* p = ports_[i].get();
    if (!p) continue;
    out.push_back({i, p->name(), std::string(p->Type()), p->Describe(), p->Stats(), p->LinkUp()});
  }
  return out;
}

Result<DummyPort*> Datapath::Dummy(const std::string& name) const {
  std::lock_guard lk(mu_);
  for (const auto& p : ports_) {
    if (p && p->name() == name) {
      if (p->Type() != "dummy") return MakeError(Errc::kInvalid, name + " is not a dummy port");
      return static_cast<DummyPort*>(p.get());
    }
  }
  return MakeError(Errc::kNotFound, "no such port: " + name);
}

Result<void> Datapath::FlowPut(const FlowKey& key, const FlowMask& mask,
                               const ActionBuilder& actions, unsigned flags) {
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
  for (auto& p : pmds_) {
    Megaflow* f = p->dpcls().Find(masked, mask);
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
    if (!p->dpcls().Insert(std::move(nf))) {
      return MakeError(Errc::kNoSpace, "classifier is full (too many masks)");
    }
  }
  counters_.flow_puts.fetch_add(1, std::memory_order_relaxed);
  return {};
}

Result<void> Datapath::FlowDel(const FlowKey& key, const FlowMask& mask) {
  std::lock_guard lk(mu_);
  FlowKey masked;
  ApplyMask(key, mask, &masked);
  bool found = false;
  for (auto& p : pmds_) {
    if (Megaflow* f = p->dpcls().Find(masked, mask)) {
      p->dpcls().Remove(f);
      found = true;
    }
  }
  if (!found) return MakeError(Errc::kNotFound, "flow does not exist");
  counters_.flow_dels.fetch_add(1, std::memory_order_relaxed);
  return {};
}

void Datapath::FlowFlush() {
  std::lock_guard lk(mu_);
  for (auto& p : pmds_) {
    std::vector<Megaflow*> all;
    p->dpcls().ForEach([&](Megaflow* f) { all.push_back(f); });
    for (Megaflow* f : all) p->dpcls().Remove(f);
  }
}

namespace {
FlowDumpEntry ToEntry(const Megaflow& f, const Pmd& p) {
  FlowDumpEntry e;
  e.key = f.key;
  e.mask = f.mask;
  ActionView v = f.Actions();
  e.actions = ActionBuilder::FromBytes(v.data(), v.size());
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

std::vector<FlowDumpEntry> Datapath::DumpFlows() const {
  std::lock_guard lk(mu_);
  std::vector<FlowDumpEntry> out;
  for (const auto& p : pmds_) {
    p->dpcls().ForEach([&](Megaflow* f) { out.push_back(ToEntry(*f, *p)); });
  }
  std::sort(out.begin(), out.end(), [](const FlowDumpEntry& a, const FlowDumpEntry& b) {
    return a.pmd != b.pmd ? a.pmd < b.pmd : a.id < b.id;
  });
  return out;
}

std::vector<FlowDumpEntry> Datapath::GetFlow(const FlowKey& key, const FlowMask& mask) const {
  std::lock_guard lk(mu_);
  std::vector<FlowDumpEntry> out;
  for (const auto& p : pmds_) {
    if (Megaflow* f = p->dpcls().Find(key, mask)) out.push_back(ToEntry(*f, *p));
  }
  return out;
}

size_t Datapath::FlowCount() const {
  std::lock_guard lk(mu_);
  size_t n = 0;
  for (const auto& p : pmds_) n += p->dpcls().size();
  return n;
}

void Datapath::Execute(rte_mbuf* packet, ActionView actions, const UserspaceFn& on_userspace,
                       const RecircFn& on_recirc) {
  // Holding the writer lock keeps the port table current (and so unreclaimed) while we use it,
  // and serialises callers on the shared tx queue.
  std::lock_guard wl(mu_);
  uint64_t drops = 0;
  ControlSink sink(*this, ports_pub_.load(std::memory_order_acquire),
                   static_cast<uint16_t>(pmds_.size()), &drops, on_userspace, on_recirc);
  ExecuteActions(actions, packet, sink);
  counters_.executes.fetch_add(1, std::memory_order_relaxed);
}

std::vector<PmdStatsSnapshot> Datapath::PmdStats() const {
  std::lock_guard lk(mu_);
  std::vector<PmdStatsSnapshot> out;
  for (const auto& p : pmds_) out.push_back(p->Stats());
  return out;
}

std::vector<RxqAssignment> Datapath::Rxqs() const {
  std::lock_guard lk(mu_);
  std::vector<RxqAssignment> out;
  const PortTable* t = ports_pub_.load(std::memory_order_acquire);
  if (!t) return out;
  for (size_t i = 0; i < t->rxqs_by_pmd.size() && i < pmds_.size(); ++i) {
    for (const auto& q : t->rxqs_by_pmd[i]) {
      out.push_back({static_cast<unsigned>(i), pmds_[i]->core(), q.port->name(), q.qid, q.slow});
    }
  }
  return out;
}

void Datapath::ClearPmdStats() {
  std::lock_guard lk(mu_);
  for (auto& p : pmds_) p->ClearStats();
}

void Datapath::ExpireIdleLocked(int64_t now_ms) {
  if (cfg_.max_idle_ms <= 0) return;
  for (auto& p : pmds_) {
    std::vector<Megaflow*> dead;
    p->dpcls().ForEach([&](Megaflow* f) {
      if (!f->expires) return;
      int64_t last = std::max<int64_t>(f->created_ms, f->used_ms.load());
      if (now_ms - last >= cfg_.max_idle_ms) dead.push_back(f);
    });
    for (Megaflow* f : dead) p->dpcls().Remove(f);
    counters_.megaflows_expired.fetch_add(dead.size(), std::memory_order_relaxed);
  }
}

void Datapath::HandlerLoop() {
  pthread_setname_np(pthread_self(), "handler");
  Upcall* batch[64];
  int64_t last_expiry = clock::NowMs();
  while (!stop_.load(std::memory_order_relaxed)) {
    unsigned total = 0;
    for (auto& p : pmds_) {
      unsigned n = p->TakeUpcalls(batch, 64);
      total += n;
      if (n == 0) continue;
      std::lock_guard handler_lk(handler_mu_);
      UpcallHandler* h = handler_.load(std::memory_order_acquire);
      for (unsigned i = 0; i < n; ++i) {
        Upcall* u = batch[i];
        if (u->is_action) {
          u->key.Clear();
          u->key.in_port = u->packet->port;
          ParsePacket(rte_pktmbuf_mtod(u->packet, const uint8_t*), rte_pktmbuf_data_len(u->packet),
                      &u->key);
        }
        if (h) {
          h->HandleUpcall(*u);
          counters_.upcalls_handled.fetch_add(1, std::memory_order_relaxed);
        } else {
          // No OpenFlow layer attached: the miss is dropped, and counted.
          rte_pktmbuf_free(u->packet);
          counters_.upcalls_unhandled.fetch_add(1, std::memory_order_relaxed);
        }
        p->ReleaseUpcall(u);
      }
    }
    reclaimer_.Poll();
    int64_t now = clock::NowMs();
    if (now - last_expiry >= 1000 || now < last_expiry) {
      std::lock_guard lk(mu_);
      ExpireIdleLocked(now);
      last_expiry = now;
    }
    if (total == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

}  // namespace sluice::dp
