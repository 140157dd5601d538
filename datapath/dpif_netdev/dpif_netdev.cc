#include "datapath/dpif_netdev/dpif_netdev.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include "common/clock.h"
#include "common/netlink_link.h"
#include "datapath/actions/execute.h"
#include "datapath/packet/parse.h"
#include "datapath/port/dummy_port.h"
#include "sluice/log.h"

namespace sluice::dp {
namespace {

auto Log() {
  static auto l = log::Get("dpif_netdev");
  return l;
}

// DpPackets of this datapath are rte_mbufs.
class MbufStore final : public PacketStore {
 public:
  void Free(void* p) const noexcept override { rte_pktmbuf_free(static_cast<rte_mbuf*>(p)); }
  uint32_t Length(const void* p) const noexcept override {
    return rte_pktmbuf_pkt_len(static_cast<const rte_mbuf*>(p));
  }
  std::span<const uint8_t> Head(const void* p) const noexcept override {
    auto* m = static_cast<const rte_mbuf*>(p);
    return {rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m)};
  }
  void Read(const void* p, uint32_t off, uint32_t n, uint8_t* out) const noexcept override {
    auto* m = static_cast<const rte_mbuf*>(p);
    const void* src = rte_pktmbuf_read(m, off, n, out);
    if (src && src != out) std::memcpy(out, src, n);
  }
  OdpPort InPort(const void* p) const noexcept override {
    return static_cast<const rte_mbuf*>(p)->port;
  }
};
const MbufStore kMbufStore;

DpPacket Wrap(rte_mbuf* m) { return DpPacket(m, &kMbufStore); }

// Executes actions for packets sent from non-PMD threads (control, handler), with the writer
// lock held. What the actions hand back (userspace copies, recirculated packets) is kept and
// given to the caller's ExecuteSink after the lock is released.
class ControlSink {
 public:
  ControlSink(rte_mempool* pool, MeterTable& meters, const PortTable* table, uint16_t txq,
              bool trace)
      : pool_(pool), meters_(meters), table_(table), txq_(txq), trace_(trace) {}
  ~ControlSink() {
    for (auto& [a, m] : userspace) rte_pktmbuf_free(m);
    for (auto& [id, m] : recirc) rte_pktmbuf_free(m);
  }
  void Output(uint32_t port, rte_mbuf* m) noexcept {
    Port* p = port < kMaxPorts && table_ && !trace_ ? table_->by_no[port] : nullptr;
    if (!p) {
      rte_pktmbuf_free(m);
      if (!trace_) ++drops;
      return;
    }
    p->TxBurst(txq_, &m, 1);
  }
  void Userspace(const ActUserspace& a, rte_mbuf* m) noexcept {
    if (trace_) {
      rte_pktmbuf_free(m);
      return;
    }
    userspace.emplace_back(a, m);
  }
  void Recirc(uint32_t id, rte_mbuf* m) noexcept { recirc.emplace_back(id, m); }
  rte_mempool* ClonePool() noexcept { return pool_; }
  void CountDrop() noexcept { ++drops; }
  bool Meter(uint32_t id, rte_mbuf* m) noexcept {
    return trace_ || MeterMbuf(meters_, id, rte_rdtsc(), m);
  }

  std::vector<std::pair<ActUserspace, rte_mbuf*>> userspace;
  std::vector<std::pair<uint32_t, rte_mbuf*>> recirc;
  uint64_t drops = 0;

 private:
  rte_mempool* pool_;
  MeterTable& meters_;
  const PortTable* table_;
  uint16_t txq_;
  bool trace_;
};

}  // namespace

DpifNetdev::DpifNetdev(const DpifNetdevConfig& cfg, rte_mempool* pool)
    : cfg_(cfg),
      pool_(pool),
      reclaimer_(std::max<unsigned>(cfg.pmd_cores.size(), 1)),
      meters_(&reclaimer_, rte_get_tsc_hz()) {
  ports_.resize(kMaxPorts);
}

Result<std::unique_ptr<DpifNetdev>> DpifNetdev::Create(const DpifNetdevConfig& cfg,
                                                       rte_mempool* pool) {
  if (cfg.pmd_cores.empty()) return MakeError(Errc::kInvalid, "at least one PMD core is needed");
  std::unique_ptr<DpifNetdev> dp(new DpifNetdev(cfg, pool));
  {
    std::lock_guard lk(dp->mu_);
    dp->PublishPortsLocked();
  }
  PmdContext ctx;
  ctx.reclaimer = &dp->reclaimer_;
  ctx.ports = &dp->ports_pub_;
  ctx.meters = &dp->meters_;
  ctx.pool = pool;
  ctx.upcall_rate = cfg.upcall_rate;
  ctx.upcall_burst = cfg.upcall_burst;
  ctx.emc_insert_inv_prob = cfg.emc_insert_inv_prob;
  ctx.emc_min_subtables = cfg.emc_min_subtables;
  for (size_t i = 0; i < cfg.pmd_cores.size(); ++i) {
    dp->pmds_.push_back(
        std::make_unique<Pmd>(ctx, static_cast<unsigned>(i), static_cast<int>(cfg.pmd_cores[i])));
  }
  dp->flows_by_id_.resize(dp->pmds_.size());
  for (auto& p : dp->pmds_) {
    if (auto r = p->Start(); !r) return std::unexpected(r.error());
  }
  dp->handler_thread_ = std::thread([d = dp.get()] { d->HandlerLoop(); });
  return dp;
}

DpifNetdev::~DpifNetdev() {
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

DpifInfo DpifNetdev::Info() const { return DpifInfo{"netdev", rte_version(), true}; }

DpifLimits DpifNetdev::Limits() const {
  DpifLimits l;
  l.max_recirc_depth = Pmd::kMaxRecircDepth;
  l.max_flows = cfg_.max_megaflows;
  l.max_ports = kMaxPorts;
  l.max_meters = kMaxMeters;
  return l;
}

// ---------------------------------------------------------------------------------- ports

void DpifNetdev::PublishPortsLocked() {
  mu_.AssertHeld();
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

Result<OdpPort> DpifNetdev::PortAdd(const PortSpec& spec, OdpPort requested_no) {
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

Result<void> DpifNetdev::PortDel(OdpPort port_no) {
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

DpifPort DpifNetdev::PortInfoLocked(OdpPort no) const {
  const Port* p = ports_[no].get();
  return {no, p->name(), std::string(p->Type()), p->Describe(), p->Stats(), p->LinkUp()};
}

Result<DpifPort> DpifNetdev::PortQuery(OdpPort no) const {
  std::lock_guard lk(mu_);
  if (no >= kMaxPorts || !ports_[no]) {
    return MakeError(Errc::kNotFound, "no port number " + std::to_string(no));
  }
  return PortInfoLocked(no);
}

Result<DpifPort> DpifNetdev::PortQueryByName(std::string_view name) const {
  std::lock_guard lk(mu_);
  for (uint32_t i = 0; i < kMaxPorts; ++i) {
    if (ports_[i] && ports_[i]->name() == name) return PortInfoLocked(i);
  }
  return MakeError(Errc::kNotFound, "no port named '" + std::string(name) + "'");
}

std::vector<DpifPort> DpifNetdev::PortDump() const {
  std::lock_guard lk(mu_);
  std::vector<DpifPort> out;
  for (uint32_t i = 0; i < kMaxPorts; ++i) {
    if (ports_[i]) out.push_back(PortInfoLocked(i));
  }
  return out;
}

Result<DummyPort*> DpifNetdev::Dummy(const std::string& name) const {
  std::lock_guard lk(mu_);
  for (const auto& p : ports_) {
    if (p && p->name() == name) {
      if (p->Type() != "dummy") return MakeError(Errc::kInvalid, name + " is not a dummy port");
      return static_cast<DummyPort*>(p.get());
    }
  }
  return MakeError(Errc::kNotFound, "no such port: " + name);
}

// ---------------------------------------------------------------------------------- packets

Result<DpPacket> DpifNetdev::PacketFromBytes(std::span<const uint8_t> bytes, OdpPort in_port) {
  if (bytes.size() > 65535) return MakeError(Errc::kInvalid, "packet larger than a packet buffer");
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (!m) return MakeError(Errc::kNoSpace, "no packet buffers");
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size()));
  if (!p) {
    rte_pktmbuf_free(m);
    return MakeError(Errc::kInvalid, "packet larger than a packet buffer");
  }
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  m->port = static_cast<uint16_t>(in_port);
  return Wrap(m);
}

void DpifNetdev::Execute(DpPacket packet, ActionView actions, ExecuteSink* sink, ExecuteMode mode) {
  if (!packet) return;
  if (packet.store() != &kMbufStore) {
    // Not one of ours (made by another dpif): it has no mbuf to run the actions on.
    Log()->warn("execute: a packet of another datapath was dropped");
    return;
  }
  auto* m = static_cast<rte_mbuf*>(packet.release());
  std::vector<std::pair<ActUserspace, rte_mbuf*>> userspace;
  std::vector<std::pair<uint32_t, rte_mbuf*>> recirc;
  {
    // Holding the writer lock keeps the port table current (and so unreclaimed) while we use
    // it, and serialises callers on the shared tx queue.
    std::lock_guard wl(mu_);
    ControlSink cs(pool_, meters_, ports_pub_.load(std::memory_order_acquire),
                   static_cast<uint16_t>(pmds_.size()), mode == ExecuteMode::kTrace);
    ExecuteActions(actions, m, cs);
    userspace.swap(cs.userspace);
    recirc.swap(cs.recirc);
    counters_.executes.fetch_add(1, std::memory_order_relaxed);
  }
  for (auto& [a, c] : userspace) {
    if (sink) {
      sink->Userspace(a, Wrap(c));
    } else {
      rte_pktmbuf_free(c);
    }
  }
  for (auto& [id, c] : recirc) {
    if (sink) {
      sink->Recirc(id, Wrap(c));
    } else {
      rte_pktmbuf_free(c);
    }
  }
}

// ---------------------------------------------------------------------------------- upcalls

void DpifNetdev::SetUpcallSink(UpcallSink* sink) {
  // The handler thread holds sink_mu_ while it runs a sink: taking it here waits for that.
  std::lock_guard lk(sink_mu_);
  sink_.store(sink, std::memory_order_release);
}

void DpifNetdev::HandlerLoop() {
  pthread_setname_np(pthread_self(), "handler");
  PmdUpcall* batch[64];
  int64_t last_expiry = clock::NowMs();
  while (!stop_.load(std::memory_order_relaxed)) {
    unsigned total = 0;
    for (auto& p : pmds_) {
      unsigned n = p->TakeUpcalls(batch, 64);
      total += n;
      if (n == 0) continue;
      std::lock_guard sink_lk(sink_mu_);
      UpcallSink* sink = sink_.load(std::memory_order_acquire);
      for (unsigned i = 0; i < n; ++i) {
        PmdUpcall* u = batch[i];
        Upcall up;
        up.kind = u->is_action ? UpcallKind::kAction : UpcallKind::kMiss;
        up.pmd = u->pmd;
        up.packet = Wrap(u->packet);
        u->packet = nullptr;
        if (u->is_action) {
          up.key.Clear();
          up.key.in_port = up.packet.in_port();
          auto head = up.packet.head();
          ParsePacket(head.data(), static_cast<uint32_t>(head.size()), &up.key);
          up.userspace.pid = u->userspace_pid;
          up.userspace.cookie = u->cookie;
        } else {
          up.key = u->key;
        }
        p->ReleaseUpcall(u);
        if (sink) {
          sink->HandleUpcall(up);
          counters_.upcalls_handled.fetch_add(1, std::memory_order_relaxed);
        } else {
          // No OpenFlow layer attached: the miss is dropped (with `up`), and counted.
          counters_.upcalls_unhandled.fetch_add(1, std::memory_order_relaxed);
        }
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

// ---------------------------------------------------------------------------------- statistics

std::vector<PmdStatsSnapshot> DpifNetdev::PmdStats() const {
  std::lock_guard lk(mu_);
  std::vector<PmdStatsSnapshot> out;
  for (const auto& p : pmds_) out.push_back(p->Stats());
  return out;
}

std::vector<RxqAssignment> DpifNetdev::Rxqs() const {
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

void DpifNetdev::ClearPmdStats() {
  std::lock_guard lk(mu_);
  for (auto& p : pmds_) p->ClearStats();
}

}  // namespace sluice::dp
