// ofproto-dpif's bridge-to-datapath glue: bridges, ports and the maps between OpenFlow and
// datapath ports.
#include "ofproto/dpif/ofproto_dpif.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "ofproto/dpif/backer.h"
#include "ofproto/dpif/trace.h"
#include "sluice/log.h"

namespace sluice::ofp {
namespace {

auto Log() {
  static auto l = log::Get("ofproto_dpif");
  return l;
}

}  // namespace

OfprotoDpif::OfprotoDpif(asio::io_context& io, dp::Dpif& dpif, std::string rundir,
                         OfprotoDpifOptions cfg)
    : b_(std::make_unique<Backer>(io, dpif, std::move(rundir), cfg)) {
  dpif.SetUpcallSink(&b_->upcalls);
  b_->stats.Start();
}

OfprotoDpif::~OfprotoDpif() {
  // Returns once the datapath's handler thread is out of the sink.
  b_->dpif.SetUpcallSink(nullptr);
  *b_->alive = false;
  b_->stats.Stop();
  std::unique_lock lk(b_->mu);
  for (auto& [k, t] : b_->megaflows.map()) (void)b_->dpif.FlowDel(k.key, k.mask);
  b_->megaflows.map().clear();
  for (auto& [n, br] : b_->bridges) b_->meters.ReleaseLocked(*br);
  // Bridges close their connections as they go (control thread, without the lock).
  auto bridges = std::move(b_->bridges);
  b_->bridges.clear();
  b_->xbridges.clear();
  lk.unlock();
  bridges.clear();
}

// ---------------------------------------------------------------------------------- bridges

Result<Ofproto*> OfprotoDpif::AddBridge(const std::string& name, uint64_t datapath_id, bool secure,
                                        bool has_controllers) {
  std::unique_lock lk(b_->mu);
  if (b_->bridges.count(name)) {
    return MakeError(Errc::kExists, "bridge " + name + " already exists");
  }
  auto br = std::make_unique<BridgeState>();
  br->mac = MacLearning(b_->cfg.mac_table_size, b_->cfg.mac_aging_s * 1000);
  br->ofp = std::make_unique<Ofproto>(b_->io, name, datapath_id);
  std::vector<std::string> dirs = {b_->rundir};
  dirs.insert(dirs.end(), b_->cfg.extra_rundirs.begin(), b_->cfg.extra_rundirs.end());
  for (const auto& dir : dirs) {
    if (auto r = br->ofp->connmgr().AddListener("punix:" + dir + "/" + name + ".mgmt"); !r) {
      return std::unexpected(r.error());
    }
    if (auto r = br->ofp->connmgr().AddSnoopListener("punix:" + dir + "/" + name + ".snoop"); !r) {
      return std::unexpected(r.error());
    }
  }
  br->hooks = std::make_unique<BridgeHooks>(*b_, *br);
  br->ofp->SetHooks(br->hooks.get());
  br->x.name = name;
  br->x.ofproto = br->ofp.get();
  br->x.mac = &br->mac;
  br->secure = secure;
  br->ofp->SetFailMode(secure);
  BridgeState* b = br.get();
  dp::Dpif* dpif = &b_->dpif;
  b->ofp->OnPortStatsRequest([dpif, b](std::vector<OfPort>& ports) {
    auto dps = dpif->PortDump();
    for (auto& p : ports) {
      const XPort* xp = b->x.Port(p.desc.port_no);
      if (!xp || xp->dp_port == kOdpPortNone) continue;
      for (const auto& d : dps) {
        if (d.port_no != xp->dp_port) continue;
        p.stats.rx_packets = d.stats.rx_packets;
        p.stats.tx_packets = d.stats.tx_packets;
        p.stats.rx_bytes = d.stats.rx_bytes;
        p.stats.tx_bytes = d.stats.tx_bytes;
        p.stats.rx_dropped = d.stats.rx_dropped;
        p.stats.tx_dropped = d.stats.tx_dropped;
        p.stats.rx_errors = d.stats.rx_errors;
        p.stats.tx_errors = d.stats.tx_errors;
      }
    }
  });
  b_->bridges[name] = std::move(br);
  if (!secure && !has_controllers) {
    // A standalone bridge starts as a learning switch: priority=0,actions=NORMAL in table 0,
    // as Open vSwitch installs it. Controllers may replace or delete it.
    FlowMod fm;
    fm.command = FlowModCommand::kAdd;
    fm.table_id = 0;
    fm.priority = 0;
    fm.instructions.push_back(InstApplyActions{{ActOutput{kPortNormal, 0}}});
    if (auto r = b->ofp->mutable_pipeline().ApplyFlowMod(fm, clock::NowMs()); !r) {
      Log()->warn("{}: cannot add the default NORMAL flow", name);
    }
  }
  b_->PublishPortsLocked(*b);
  Log()->info("{}: bridge added (datapath id {:016x}{})", name, datapath_id,
              secure ? ", fail mode secure" : "");
  return b->ofp.get();
}

Result<void> OfprotoDpif::DelBridge(const std::string& name) {
  std::unique_lock lk(b_->mu);
  auto it = b_->bridges.find(name);
  if (it == b_->bridges.end()) return MakeError(Errc::kNotFound, "no bridge named " + name);
  std::unique_ptr<BridgeState> br = std::move(it->second);
  b_->bridges.erase(it);
  b_->RebuildLocked();
  // Every megaflow may have passed through this bridge (patch ports): revalidate now, so none
  // keeps pointing at its rules, ports or meters.
  b_->reval.RevalidateLocked();
  b_->meters.ReleaseLocked(*br);
  lk.unlock();
  br.reset();  // closes its connections (control thread, without the lock)
  Log()->info("{}: bridge deleted", name);
  return {};
}

Ofproto* OfprotoDpif::FindBridge(const std::string& name) const {
  std::lock_guard lk(b_->mu);
  BridgeState* b = b_->BridgeOf(name);
  return b ? b->ofp.get() : nullptr;
}

std::vector<std::string> OfprotoDpif::BridgeNames() const {
  std::lock_guard lk(b_->mu);
  std::vector<std::string> out;
  for (const auto& [n, b] : b_->bridges) out.push_back(n);
  return out;
}

void OfprotoDpif::SetMaxMegaflows(size_t n) {
  std::lock_guard lk(b_->mu);
  b_->cfg.max_megaflows = n;
}

void OfprotoDpif::SetMaxIdle(int64_t ms) { b_->dpif.SetMaxIdle(ms); }

void OfprotoDpif::SetFailMode(const std::string& bridge, bool secure) {
  std::lock_guard lk(b_->mu);
  if (BridgeState* b = b_->BridgeOf(bridge)) {
    b->secure = secure;
    b->ofp->SetFailMode(secure);
  }
}

// ---------------------------------------------------------------------------------- ports

Result<OdpPort> OfprotoDpif::AddDatapathPort(const dp::PortSpec& spec) {
  return b_->dpif.PortAdd(spec);
}

Result<void> OfprotoDpif::DelDatapathPort(OdpPort port) { return b_->dpif.PortDel(port); }

std::vector<dp::DpifPort> OfprotoDpif::DatapathPorts() const { return b_->dpif.PortDump(); }

dp::DpifInfo OfprotoDpif::DatapathInfo() const { return b_->dpif.Info(); }

Result<uint32_t> OfprotoDpif::AddPort(const std::string& bridge, const BridgePortSpec& spec_in) {
  std::lock_guard lk(b_->mu);
  BridgeState* br = b_->BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no bridge named " + bridge);
  for (const auto& [n, b] : b_->bridges) {
    if (b->ports.count(spec_in.name)) {
      return MakeError(Errc::kExists, "port " + spec_in.name + " already exists on " + n);
    }
  }
  BridgePortSpec spec = spec_in;
  if (spec.ofport == 0) {
    uint32_t no = 1;
    while (br->x.ports.count(no)) ++no;
    spec.ofport = no;
  } else if (br->x.ports.count(spec.ofport)) {
    return MakeError(Errc::kExists,
                     fmt::format("OpenFlow port {} is in use on {}", spec.ofport, bridge));
  } else if (spec.ofport > kPortMax && spec.ofport != kPortLocal) {
    return MakeError(Errc::kInvalid, fmt::format("bad OpenFlow port number {}", spec.ofport));
  }
  br->ports[spec.name] = PortRec{spec};
  b_->PublishPortsLocked(*br);
  b_->reval.MarkDirtyLocked();
  Log()->info("{}: port {} added as OpenFlow port {}{}", bridge, spec.name, spec.ofport,
              spec.dp_port == kOdpPortNone ? "" : fmt::format(" (datapath port {})", spec.dp_port));
  return spec.ofport;
}

Result<void> OfprotoDpif::DelPort(const std::string& bridge, const std::string& port_name) {
  std::lock_guard lk(b_->mu);
  BridgeState* br = b_->BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no bridge named " + bridge);
  auto it = br->ports.find(port_name);
  if (it == br->ports.end()) {
    return MakeError(Errc::kNotFound, "bridge " + bridge + " has no port " + port_name);
  }
  uint32_t ofport = it->second.spec.ofport;
  br->ports.erase(it);
  br->mac.Flush(ofport);
  b_->PublishPortsLocked(*br);
  // Megaflows forwarding to the port must go before the datapath port can be reused.
  b_->reval.RevalidateLocked();
  return {};
}

Result<void> OfprotoDpif::SetPortVlan(const std::string& bridge, const std::string& port_name,
                                      const PortVlan& vlan) {
  std::lock_guard lk(b_->mu);
  BridgeState* br = b_->BridgeOf(bridge);
  if (!br) return MakeError(Errc::kNotFound, "no bridge named " + bridge);
  auto it = br->ports.find(port_name);
  if (it == br->ports.end()) {
    return MakeError(Errc::kNotFound, "bridge " + bridge + " has no port " + port_name);
  }
  if (it->second.spec.vlan == vlan) return {};
  it->second.spec.vlan = vlan;
  br->mac.Flush(it->second.spec.ofport);
  b_->PublishPortsLocked(*br);
  b_->reval.MarkDirtyLocked();
  return {};
}

void OfprotoDpif::SetPortLink(const std::string& port_name, bool up) {
  std::lock_guard lk(b_->mu);
  for (auto& [n, br] : b_->bridges) {
    auto it = br->ports.find(port_name);
    if (it == br->ports.end() || it->second.link_up == up) continue;
    it->second.link_up = up;
    b_->PublishPortsLocked(*br);
    b_->reval.MarkDirtyLocked();
  }
}

std::optional<std::pair<std::string, uint32_t>> OfprotoDpif::FindDpPort(OdpPort dp_port) const {
  std::lock_guard lk(b_->mu);
  auto it = b_->by_dp_port.find(dp_port);
  if (it == b_->by_dp_port.end()) return std::nullopt;
  return std::make_pair(it->second.first->x.name, it->second.second);
}

// ---------------------------------------------------------------------------------- the rest

Result<std::string> OfprotoDpif::Trace(const std::string& bridge, const std::string& flow) {
  std::lock_guard lk(b_->mu);
  return TraceLocked(*b_, bridge, flow);
}

void OfprotoDpif::Sync() {
  std::lock_guard lk(b_->mu);
  b_->reval.SyncLocked();
}

std::vector<std::string> OfprotoDpif::VerifyMegaflows() {
  std::lock_guard lk(b_->mu);
  return b_->reval.VerifyLocked();
}

}  // namespace sluice::ofp
