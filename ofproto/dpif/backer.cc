#include "ofproto/dpif/backer.h"

namespace sluice::ofp {

// ---------------------------------------------------------------------------- the hooks

std::unique_lock<OrderedMutex> BridgeHooks::Lock() { return std::unique_lock(b_.mu); }
void BridgeHooks::Changed() { b_.reval.MarkDirtyLocked(); }
void BridgeHooks::Sync() { b_.reval.SyncLocked(); }
std::optional<OfpError> BridgeHooks::PacketOut(const ofp::PacketOut& po) {
  return b_.upcalls.PacketOutLocked(br_, po);
}
void BridgeHooks::RefreshStats() { b_.stats.PushLocked(); }
std::optional<OfpError> BridgeHooks::MeterSet(const Meter& m) {
  return b_.meters.SetLocked(br_, m);
}
void BridgeHooks::MeterDel(uint32_t meter_id) { b_.meters.DelLocked(br_, meter_id); }

// ---------------------------------------------------------------------------- the backer

Backer::Backer(asio::io_context& io_ctx, dp::Dpif& dp, std::string run_dir,
               OfprotoDpifOptions options)
    : io(io_ctx), dpif(dp), rundir(std::move(run_dir)), limits(dp.Limits()), cfg(options) {}

BridgeState* Backer::BridgeOf(const std::string& name) const {
  auto it = bridges.find(name);
  return it == bridges.end() ? nullptr : it->second.get();
}

XlateEnv Backer::EnvLocked() {
  mu.AssertHeld();
  XlateEnv env;
  env.registry = &pin_registry;
  env.recirc = &recirc_registry;
  env.bridges = &xbridges;
  return env;
}

bool Backer::ResolveInputLocked(const dp::FlowKey& key, XBridge** br, uint32_t* ofport) const {
  mu.AssertHeld();
  if (key.recirc_id != 0) {
    // A recirculated packet continues where the frozen translation was.
    const FrozenState* f = recirc_registry.Find(key.recirc_id);
    BridgeState* b = f ? BridgeOf(f->bridge) : nullptr;
    if (!b) return false;
    *br = &b->x;
    *ofport = f->in_ofport;
    return true;
  }
  auto it = by_dp_port.find(key.in_port);
  if (it == by_dp_port.end()) return false;
  *br = &it->second.first->x;
  *ofport = it->second.second;
  return true;
}

void Backer::PublishPortsLocked(BridgeState& br) {
  mu.AssertHeld();
  std::vector<OfPort> ofports;
  br.x.ports.clear();
  for (const auto& [name, rec] : br.ports) {
    const BridgePortSpec& s = rec.spec;
    XPort xp;
    xp.ofport = s.ofport;
    xp.dp_port = s.dp_port;
    xp.name = s.name;
    xp.vlan = s.vlan;
    xp.link_up = rec.link_up;
    br.x.ports[s.ofport] = xp;
    OfPort op;
    op.desc.port_no = s.ofport;
    op.desc.name = s.name.substr(0, 15);
    op.desc.hw_addr = s.hw_addr;
    op.desc.state = rec.link_up ? 0x4 /* OFPPS_LIVE */ : 0x1 /* OFPPS_LINK_DOWN */;
    op.desc.curr = 0x2000 /* OFPPF_COPPER */ | 0x40 /* OFPPF_10GB_FD */;
    op.desc.curr_speed = s.curr_speed_kbps;
    op.desc.max_speed = s.curr_speed_kbps;
    ofports.push_back(op);
  }
  br.ofp->SetPorts(std::move(ofports));
  RebuildLocked();
}

void Backer::RebuildLocked() {
  mu.AssertHeld();
  by_dp_port.clear();
  std::unordered_map<std::string, std::pair<BridgeState*, uint32_t>> by_name;
  for (auto& [n, br] : bridges) {
    for (auto& [no, xp] : br->x.ports) {
      if (xp.dp_port != kOdpPortNone) by_dp_port[xp.dp_port] = {br.get(), no};
      by_name[xp.name] = {br.get(), no};
    }
  }
  for (auto& [n, br] : bridges) {
    for (auto& [name, rec] : br->ports) {
      XPort& xp = br->x.ports[rec.spec.ofport];
      xp.peer_bridge = nullptr;
      if (rec.spec.patch_peer.empty()) continue;
      auto it = by_name.find(rec.spec.patch_peer);
      if (it == by_name.end()) continue;
      BridgeState* peer = it->second.first;
      auto pit = peer->ports.find(rec.spec.patch_peer);
      // Both ends must name each other.
      if (pit == peer->ports.end() || pit->second.spec.patch_peer != name) continue;
      xp.peer_bridge = &peer->x;
      xp.peer_ofport = it->second.second;
    }
  }
  xbridges.clear();
  for (auto& [n, br] : bridges) xbridges[n] = &br->x;
}

}  // namespace sluice::ofp
