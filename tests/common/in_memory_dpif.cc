#include "tests/common/in_memory_dpif.h"

#include <algorithm>
#include <cstring>

#include "common/clock.h"
#include "datapath/actions/odp_execute.h"
#include "datapath/packet/parse.h"

namespace sluice::test {
namespace {

using dp::PacketBuffer;

class BufferStore final : public dp::PacketStore {
 public:
  void Free(void* p) const noexcept override { delete static_cast<PacketBuffer*>(p); }
  uint32_t Length(const void* p) const noexcept override {
    return static_cast<const PacketBuffer*>(p)->size();
  }
  std::span<const uint8_t> Head(const void* p) const noexcept override {
    return static_cast<const PacketBuffer*>(p)->bytes();
  }
  void Read(const void* p, uint32_t off, uint32_t n, uint8_t* out) const noexcept override {
    std::memcpy(out, static_cast<const PacketBuffer*>(p)->data() + off, n);
  }
  OdpPort InPort(const void* p) const noexcept override {
    return static_cast<const PacketBuffer*>(p)->in_port();
  }
};
const BufferStore kStore;

dp::DpPacket Wrap(PacketBuffer* p) { return dp::DpPacket(p, &kStore); }

}  // namespace

// Where actions send packets, both for received packets (the PMD's part) and for Execute.
class InMemoryDpif::ExecSink {
 public:
  ExecSink(InMemoryDpif& dp, bool trace) : dp_(dp), trace_(trace) {}
  ~ExecSink() {
    for (auto& [a, p] : userspace) delete p;
    for (auto& [id, p] : recirc) delete p;
  }
  void Output(uint32_t port, PacketBuffer* p) {
    if (trace_) {
      delete p;
      return;
    }
    dp_.Transmit(port, p);
  }
  void Userspace(const dp::ActUserspace& a, PacketBuffer* p) {
    if (trace_) {
      delete p;
      return;
    }
    userspace.emplace_back(a, p);
  }
  void Recirc(uint32_t id, PacketBuffer* p) { recirc.emplace_back(id, p); }
  void CountDrop() {
    std::lock_guard lk(dp_.mu_);
    ++dp_.ctr_.dropped;
  }
  bool Meter(uint32_t id, PacketBuffer* p) {
    if (trace_) return true;
    std::lock_guard lk(dp_.mu_);  // MeterTable without a reclaimer: no Run beside a Set/Del
    return dp_.meters_.Run(id, static_cast<uint64_t>(clock::NowMs()), p->data(), p->size(),
                           p->size());
  }

  std::vector<std::pair<dp::ActUserspace, PacketBuffer*>> userspace;
  std::vector<std::pair<uint32_t, PacketBuffer*>> recirc;

 private:
  InMemoryDpif& dp_;
  bool trace_;
};

dp::DpifLimits InMemoryDpif::DefaultLimits() {
  dp::DpifLimits l;
  l.max_recirc_depth = 6;
  l.max_flows = 200000;
  l.max_ports = 1024;
  l.max_meters = 65536;
  return l;
}

InMemoryDpif::InMemoryDpif(dp::DpifLimits limits) : limits_(limits) {}

InMemoryDpif::~InMemoryDpif() = default;

// ---------------------------------------------------------------------------------- ports

dp::DpifPort InMemoryDpif::PortInfoLocked(OdpPort no) const {
  const PortRec& p = ports_.at(no);
  return {no, p.spec.name, p.spec.type, "in memory", p.stats, p.link_up};
}

Result<OdpPort> InMemoryDpif::PortAdd(const dp::PortSpec& spec, OdpPort requested) {
  std::lock_guard lk(mu_);
  for (const auto& [no, p] : ports_) {
    if (p.spec.name == spec.name) {
      return MakeError(Errc::kExists, "port '" + spec.name + "' already exists");
    }
  }
  OdpPort no = requested;
  if (no != 0) {
    if (no >= limits_.max_ports) return MakeError(Errc::kInvalid, "port number out of range");
    if (ports_.count(no)) {
      return MakeError(Errc::kExists, "port number " + std::to_string(no) + " in use");
    }
  } else {
    for (no = 1; no < limits_.max_ports && ports_.count(no); ++no) {
    }
    if (no == limits_.max_ports) return MakeError(Errc::kNoSpace, "too many ports");
  }
  ports_[no].spec = spec;
  return no;
}

Result<void> InMemoryDpif::PortDel(OdpPort port) {
  std::lock_guard lk(mu_);
  if (!ports_.erase(port)) {
    return MakeError(Errc::kNotFound, "no port number " + std::to_string(port));
  }
  return {};
}

Result<dp::DpifPort> InMemoryDpif::PortQuery(OdpPort port) const {
  std::lock_guard lk(mu_);
  if (!ports_.count(port)) {
    return MakeError(Errc::kNotFound, "no port number " + std::to_string(port));
  }
  return PortInfoLocked(port);
}

Result<dp::DpifPort> InMemoryDpif::PortQueryByName(std::string_view name) const {
  std::lock_guard lk(mu_);
  for (const auto& [no, p] : ports_) {
    if (p.spec.name == name) return PortInfoLocked(no);
  }
  return MakeError(Errc::kNotFound, "no port named '" + std::string(name) + "'");
}

std::vector<dp::DpifPort> InMemoryDpif::PortDump() const {
  std::lock_guard lk(mu_);
  std::vector<dp::DpifPort> out;
  for (const auto& [no, p] : ports_) out.push_back(PortInfoLocked(no));
  return out;
}

void InMemoryDpif::SetLink(const std::string& port, bool up) {
  std::lock_guard lk(mu_);
  for (auto& [no, p] : ports_) {
    if (p.spec.name == port) p.link_up = up;
  }
}

// ---------------------------------------------------------------------------------- flows

std::map<uint64_t, InMemoryDpif::Flow>::iterator InMemoryDpif::FindLocked(
    const dp::FlowKey& key, const dp::FlowMask& mask) {
  dp::FlowKey masked;
  dp::ApplyMask(key, mask, &masked);
  return std::find_if(flows_.begin(), flows_.end(), [&](const auto& e) {
    return e.second.mask == mask && e.second.key == masked;
  });
}

std::map<uint64_t, InMemoryDpif::Flow>::const_iterator InMemoryDpif::FindLocked(
    const dp::FlowKey& key, const dp::FlowMask& mask) const {
  return const_cast<InMemoryDpif*>(this)->FindLocked(key, mask);
}

dp::DpifFlow InMemoryDpif::ToFlow(uint64_t id, const Flow& f, bool actions) const {
  dp::DpifFlow e;
  e.key = f.key;
  e.mask = f.mask;
  if (actions) e.actions = f.actions;
  e.packets = f.packets;
  e.bytes = f.bytes;
  e.used_ms = f.used_ms;
  e.tcp_flags = f.tcp_flags;
  e.id = id;
  return e;
}

Result<void> InMemoryDpif::FlowPut(const dp::FlowKey& key, const dp::FlowMask& mask,
                                   dp::ActionView actions, unsigned flags) {
  std::lock_guard lk(mu_);
  auto it = FindLocked(key, mask);
  if (it != flows_.end()) {
    if (!(flags & dp::kFlowModify)) return MakeError(Errc::kExists, "flow already exists");
    it->second.actions = dp::ActionBuilder::FromBytes(actions.data(), actions.size());
    if (flags & dp::kFlowZeroStats) {
      it->second.packets = it->second.bytes = 0;
      it->second.tcp_flags = 0;
    }
    return {};
  }
  if (!(flags & dp::kFlowCreate)) return MakeError(Errc::kNotFound, "flow does not exist");
  if (flows_.size() >= limits_.max_flows) return MakeError(Errc::kNoSpace, "too many megaflows");
  Flow f;
  dp::ApplyMask(key, mask, &f.key);
  f.mask = mask;
  f.actions = dp::ActionBuilder::FromBytes(actions.data(), actions.size());
  f.created_ms = clock::NowMs();
  f.expires = flags & dp::kFlowExpires;
  flows_.emplace(next_id_++, std::move(f));
  return {};
}

Result<void> InMemoryDpif::FlowDel(const dp::FlowKey& key, const dp::FlowMask& mask) {
  std::lock_guard lk(mu_);
  auto it = FindLocked(key, mask);
  if (it == flows_.end()) return MakeError(Errc::kNotFound, "flow does not exist");
  flows_.erase(it);
  return {};
}

std::vector<dp::DpifFlow> InMemoryDpif::FlowGet(const dp::FlowKey& key,
                                                const dp::FlowMask& mask) const {
  std::lock_guard lk(mu_);
  auto it = FindLocked(key, mask);
  if (it == flows_.end()) return {};
  return {ToFlow(it->first, it->second, true)};
}

Result<dp::DpifFlowStats> InMemoryDpif::FlowStats(const dp::FlowKey& key,
                                                  const dp::FlowMask& mask) const {
  std::lock_guard lk(mu_);
  auto it = FindLocked(key, mask);
  if (it == flows_.end()) return MakeError(Errc::kNotFound, "flow does not exist");
  return dp::DpifFlowStats{it->second.packets, it->second.bytes, it->second.used_ms,
                           it->second.tcp_flags};
}

void InMemoryDpif::FlowFlush() {
  std::lock_guard lk(mu_);
  flows_.clear();
}

size_t InMemoryDpif::FlowCount() const {
  std::lock_guard lk(mu_);
  return flows_.size();
}

void InMemoryDpif::SetMaxIdle(int64_t ms) {
  std::lock_guard lk(mu_);
  max_idle_ms_ = ms;
}

size_t InMemoryDpif::ExpireIdle() {
  std::lock_guard lk(mu_);
  if (max_idle_ms_ <= 0) return 0;
  const int64_t now = clock::NowMs();
  size_t n = std::erase_if(flows_, [&](const auto& e) {
    const Flow& f = e.second;
    return f.expires && now - std::max(f.created_ms, f.used_ms) >= max_idle_ms_;
  });
  return n;
}

class InMemoryDpif::Dump final : public dp::DpifFlowDump {
 public:
  Dump(InMemoryDpif& dp, const dp::FlowDumpOptions& opts) : dp_(dp), opts_(opts) {}
  size_t Next(std::vector<dp::DpifFlow>& out, size_t max) override {
    std::lock_guard lk(dp_.mu_);
    size_t n = 0;
    for (auto it = dp_.flows_.lower_bound(next_id_); it != dp_.flows_.end() && n < max; ++it, ++n) {
      out.push_back(dp_.ToFlow(it->first, it->second, opts_.actions));
      next_id_ = it->first + 1;
    }
    return n;
  }

 private:
  InMemoryDpif& dp_;
  dp::FlowDumpOptions opts_;
  uint64_t next_id_ = 0;
};

std::unique_ptr<dp::DpifFlowDump> InMemoryDpif::FlowDumpStart(const dp::FlowDumpOptions& options) {
  return std::make_unique<Dump>(*this, options);
}

// ---------------------------------------------------------------------------------- meters

Result<void> InMemoryDpif::MeterSet(uint32_t id, const dp::MeterConfig& cfg) {
  std::lock_guard lk(mu_);
  return meters_.Set(id, cfg);
}

Result<void> InMemoryDpif::MeterDel(uint32_t id) {
  std::lock_guard lk(mu_);
  return meters_.Del(id);
}

Result<dp::MeterStatsSnapshot> InMemoryDpif::MeterStats(uint32_t id) const {
  std::lock_guard lk(mu_);
  return meters_.Stats(id);
}

// ---------------------------------------------------------------------------------- packets

Result<dp::DpPacket> InMemoryDpif::PacketFromBytes(std::span<const uint8_t> bytes,
                                                   OdpPort in_port) {
  if (bytes.size() > 65535) return MakeError(Errc::kInvalid, "packet larger than a packet buffer");
  return Wrap(new PacketBuffer(bytes, in_port));
}

void InMemoryDpif::Transmit(OdpPort port, PacketBuffer* p) {
  std::lock_guard lk(mu_);
  auto it = ports_.find(port);
  if (it == ports_.end()) {
    ++ctr_.dropped;
  } else {
    it->second.stats.tx_packets++;
    it->second.stats.tx_bytes += p->size();
    it->second.tx.push_back(p->ToVector());
  }
  delete p;
}

void InMemoryDpif::Execute(dp::DpPacket packet, dp::ActionView actions, dp::ExecuteSink* sink,
                           dp::ExecuteMode mode) {
  if (!packet) return;
  if (packet.store() != &kStore) return;  // not one of ours: nothing to run the actions on
  auto* p = static_cast<PacketBuffer*>(packet.release());
  {
    std::lock_guard lk(mu_);
    ++ctr_.executes;
  }
  ExecSink es(*this, mode == dp::ExecuteMode::kTrace);
  dp::ExecuteActions(actions, p, es);
  for (auto& [a, c] : es.userspace) {
    if (sink)
      sink->Userspace(a, Wrap(c));
    else
      delete c;
  }
  es.userspace.clear();
  for (auto& [id, c] : es.recirc) {
    if (sink)
      sink->Recirc(id, Wrap(c));
    else
      delete c;
  }
  es.recirc.clear();
}

// ---------------------------------------------------------------------------------- upcalls

void InMemoryDpif::SetUpcallSink(dp::UpcallSink* sink) {
  std::lock_guard lk(sink_mu_);
  sink_ = sink;
}

void InMemoryDpif::Deliver(dp::Upcall& u) {
  if (!sink_) {
    std::lock_guard lk(mu_);
    ++ctr_.upcalls_dropped;
    return;
  }
  {
    std::lock_guard lk(mu_);
    ++ctr_.upcalls;
  }
  sink_->HandleUpcall(u);
}

Result<void> InMemoryDpif::Inject(const std::string& port, std::span<const uint8_t> bytes,
                                  uint32_t recirc_id) {
  std::lock_guard sink_lk(sink_mu_);  // the "handler thread" from here on
  OdpPort no = kOdpPortNone;
  {
    std::lock_guard lk(mu_);
    for (auto& [n, p] : ports_) {
      if (p.spec.name != port) continue;
      no = n;
      p.stats.rx_packets++;
      p.stats.rx_bytes += bytes.size();
    }
    if (no == kOdpPortNone) return MakeError(Errc::kNotFound, "no such port: " + port);
    ++ctr_.received;
  }
  Process(new PacketBuffer(bytes, no), recirc_id, 0);
  return {};
}

void InMemoryDpif::Process(PacketBuffer* p, uint32_t recirc_id, unsigned depth) {
  dp::FlowKey key;
  key.Clear();
  key.in_port = p->in_port();
  key.recirc_id = recirc_id;
  dp::ParsePacket(p->data(), p->size(), &key);
  dp::ActionBuilder actions;
  bool hit = false;
  {
    std::lock_guard lk(mu_);
    for (auto& [id, f] : flows_) {
      dp::FlowKey masked;
      dp::ApplyMask(key, f.mask, &masked);
      if (!(masked == f.key)) continue;
      hit = true;
      f.packets++;
      f.bytes += p->size();
      f.used_ms = clock::NowMs();
      f.tcp_flags |= key.tcp_flags;
      actions = f.actions;
      break;
    }
    ++(hit ? ctr_.hits : ctr_.misses);
  }
  if (!hit) {
    dp::Upcall u;
    u.kind = dp::UpcallKind::kMiss;
    u.key = key;
    u.packet = Wrap(p);
    Deliver(u);
    return;
  }
  ExecSink es(*this, false);
  dp::ExecuteActions(actions.view(), p, es);
  for (auto& [a, c] : es.userspace) {
    dp::Upcall u;
    u.kind = dp::UpcallKind::kAction;
    u.packet = Wrap(c);
    u.key.Clear();
    u.key.in_port = c->in_port();
    dp::ParsePacket(c->data(), c->size(), &u.key);
    u.userspace = a;
    Deliver(u);
  }
  es.userspace.clear();
  for (auto& [id, c] : es.recirc) {
    if (depth >= limits_.max_recirc_depth) {
      delete c;
      std::lock_guard lk(mu_);
      ++ctr_.dropped;
      continue;
    }
    Process(c, id, depth + 1);
  }
  es.recirc.clear();
}

std::vector<std::vector<uint8_t>> InMemoryDpif::TakeTx(const std::string& port) {
  std::lock_guard lk(mu_);
  std::vector<std::vector<uint8_t>> out;
  for (auto& [no, p] : ports_) {
    if (p.spec.name != port) continue;
    out.assign(p.tx.begin(), p.tx.end());
    p.tx.clear();
  }
  return out;
}

InMemoryDpif::Counters InMemoryDpif::counters() const {
  std::lock_guard lk(mu_);
  return ctr_;
}

}  // namespace sluice::test
