// The bridge layer's reconciliation: the desired state from the database against what is
// applied (bridges, interfaces, controllers, managers), changing only what differs.
#include "bridge/bridge.h"

#include <algorithm>

#include "common/netlink_link.h"
#include "ofproto/codec/actions.h"
#include "ovsdb/server/server.h"
#include "sluice/log.h"

namespace sluice::bridge {
namespace {

using Json = nlohmann::json;

auto Log() {
  static auto l = log::Get("bridge");
  return l;
}

// Columns switchd itself writes: an update touching only these needs no reconciliation.
bool IsStatusColumn(const std::string& table, const std::string& col) {
  static const std::map<std::string, std::set<std::string>> kStatus = {
      {"Open_vSwitch",
       {"cur_cfg", "ovs_version", "db_version", "datapath_types", "iface_types", "dpdk_initialized",
        "dpdk_version"}},
      {"Bridge", {"datapath_id"}},
      {"Interface",
       {"ofport", "error", "admin_state", "link_state", "mac_in_use", "mtu", "ifindex",
        "statistics"}},
      {"Controller", {"is_connected", "role", "status"}},
      {"Manager", {"is_connected", "status"}},
  };
  auto it = kStatus.find(table);
  return it != kStatus.end() && it->second.count(col);
}

}  // namespace

BridgeLayer::BridgeLayer(asio::io_context& io, ofp::OfprotoDpif& ofproto, BridgeLayerOptions opts)
    : io_(io),
      ofproto_(ofproto),
      opts_(std::move(opts)),
      idl_(io, opts_.db_remote, "Open_vSwitch", ReplicatedColumns()),
      links_(io),
      stats_timer_(io),
      poll_timer_(io) {}

BridgeLayer::~BridgeLayer() {
  *alive_ = false;
  stats_timer_.cancel();
  poll_timer_.cancel();
}

void BridgeLayer::Start() {
  if (auto r =
          links_.Start([this](const std::string& n, const KernelLink* l) { OnLinkChange(n, l); });
      !r) {
    Log()->error("link monitor: {}; kernel link state is refreshed by polling only",
                 r.error().message);
  } else {
    links_ok_ = true;
  }
  idl_.OnChange([this] { OnDbChange(); });
  idl_.Start();
  ArmPollTimer();
  ArmStatsTimer();
  Log()->info("following database {}", opts_.db_remote);
}

void BridgeLayer::OnDbChange() {
  bool config = false;
  for (const auto& ch : idl_.TakeChanges()) {
    if (ch.kind != db::IdlChange::kModify || ch.columns.empty()) {
      config = true;
      continue;
    }
    for (const auto& c : ch.columns) config |= !IsStatusColumn(ch.table, c);
  }
  if (config) ScheduleReconcile();
}

void BridgeLayer::ScheduleReconcile() {
  if (reconcile_posted_) return;
  reconcile_posted_ = true;
  asio::post(io_, [this, alive = alive_] {
    if (*alive) Reconcile();
  });
}

void BridgeLayer::ScheduleWriteBack() {
  if (writeback_posted_) return;
  writeback_posted_ = true;
  asio::post(io_, [this, alive = alive_] {
    if (*alive) WriteBack();
  });
}

// ---- reconciliation ---------------------------------------------------------------------

void BridgeLayer::Reconcile() {
  reconcile_posted_ = false;
  if (!idl_.connected()) return;
  ++reconciles_;
  DesiredConfig d =
      BuildDesiredConfig([this](const std::string& t) -> const std::map<db::Uuid, db::IdlRow>& {
        return idl_.Rows(t);
      });
  for (const auto& w : d.warnings) {
    if (warned_.insert(w).second) Log()->warn("{}", w);
  }
  remotes_.ApplySsl(idl_);  // before any connection below is made
  if (!tuning_ || *tuning_ != d.tuning) {
    ofproto_.SetMaxIdle(d.tuning.max_idle_ms);
    ofproto_.SetMaxMegaflows(d.tuning.max_megaflows);
    tuning_ = d.tuning;
    Log()->info("megaflows: idle expiry {} ms, at most {} installed", d.tuning.max_idle_ms,
                d.tuning.max_megaflows);
  }
  struct Want {
    const BridgeConfig* br;
    const PortConfig* port;
    const IfaceConfig* cfg;
  };
  std::map<std::string, Want> want;
  for (const auto& [bn, br] : d.bridges) {
    for (const auto& [pn, port] : br.ports) {
      for (const auto& ic : port.ifaces) want[ic.name] = {&br, &port, &ic};
    }
  }

  // 1. Bridges that are gone, or whose datapath id changed (recreated below).
  std::vector<std::string> drop;
  for (const auto& [name, ab] : bridges_) {
    auto it = d.bridges.find(name);
    if (it == d.bridges.end() || it->second.dpid != ab.dpid) drop.push_back(name);
  }
  for (const auto& name : drop) RemoveBridge(name);

  // 2. Interfaces that are gone, moved, reconfigured, or failed for a reason that may have
  // cleared (they are recreated below).
  std::vector<std::string> gone;
  for (const auto& [name, rec] : ifaces_) {
    if (rec.local) continue;
    auto it = want.find(name);
    bool remove = it == want.end() || it->second.br->name != rec.bridge ||
                  it->second.cfg->name == it->second.br->name ||
                  !SameDatapathConfig(*it->second.cfg, rec.cfg) ||
                  (!rec.error.empty() && !rec.permanent);
    if (remove) gone.push_back(name);
  }
  for (const auto& name : gone) RemoveIface(name);

  // 3. Bridges: new ones, then changes to existing ones.
  rejected_ = d.rejected;
  for (const auto& [name, br] : d.bridges) {
    if (!bridges_.count(name)) AddBridge(br);
    if (!bridges_.count(name)) {
      for (const auto& [pn, port] : br.ports) {
        for (const auto& ic : port.ifaces) {
          rejected_[ic.name] = "bridge " + name + " could not be created";
        }
      }
      continue;
    }
    UpdateBridge(br);
  }

  // 4. Interfaces: new ones, then changes to existing ones.
  for (const auto& [name, w] : want) {
    if (!bridges_.count(w.br->name)) continue;
    auto it = ifaces_.find(name);
    if (it == ifaces_.end()) {
      CreateIface(*w.br, *w.port, *w.cfg, d);
    } else {
      UpdateIface(it->second, *w.port, *w.cfg, d);
    }
  }

  remotes_.ApplyManagers(idl_);
  applied_cfg_ = d.next_cfg;
  ScheduleWriteBack();
  if (opts_.on_configured) std::exchange(opts_.on_configured, nullptr)();
}

void BridgeLayer::DetachIface(Iface& rec) {
  if (!rec.attached) return;
  if (auto r = ofproto_.DelPort(rec.bridge, rec.cfg.name); !r) {
    Log()->warn("{}: detaching from {}: {}", rec.cfg.name, rec.bridge, r.error().message);
  }
  rec.attached = false;
  rec.ofport = -1;
}

void BridgeLayer::RemoveIface(const std::string& name) {
  auto it = ifaces_.find(name);
  if (it == ifaces_.end()) return;
  Iface& rec = it->second;
  DetachIface(rec);
  if (rec.dp_port != kOdpPortNone) {
    if (auto r = ofproto_.DelDatapathPort(rec.dp_port); !r) {
      Log()->warn("{}: deleting datapath port {}: {}", name, rec.dp_port, r.error().message);
    }
  }
  if (rec.error.empty()) Log()->info("bridge {}: removed interface {}", rec.bridge, name);
  ifaces_.erase(it);
}

void BridgeLayer::RemoveBridge(const std::string& name) {
  std::vector<std::string> names;
  std::string local;
  for (const auto& [n, rec] : ifaces_) {
    if (rec.bridge != name) continue;
    if (rec.local)
      local = n;
    else
      names.push_back(n);
  }
  for (const auto& n : names) RemoveIface(n);
  if (!local.empty()) RemoveIface(local);
  if (auto r = ofproto_.DelBridge(name); !r) {
    Log()->warn("deleting bridge {}: {}", name, r.error().message);
  }
  bridges_.erase(name);
  remotes_.ForgetBridge(name);
  Log()->info("removed bridge {}", name);
}

void BridgeLayer::AddBridge(const BridgeConfig& br) {
  auto r = ofproto_.AddBridge(br.name, br.dpid, br.secure, !br.controllers.empty());
  if (!r) {
    std::string msg = "creating bridge " + br.name + ": " + r.error().message;
    if (warned_.insert(msg).second) Log()->error("{}", msg);
    return;
  }
  AppliedBridge ab;
  ab.dpid = br.dpid;
  ab.mac = br.mac;
  ab.secure = br.secure;
  ofproto_.SetFailMode(br.name, br.secure);
  bridges_[br.name] = ab;
  Log()->info("added bridge {} (datapath id {}, fail mode {})", br.name, FormatDatapathId(br.dpid),
              br.secure ? "secure" : "standalone");
  CreateLocalPort(br);
}

void BridgeLayer::CreateLocalPort(const BridgeConfig& br) {
  Iface rec;
  rec.bridge = br.name;
  rec.local = true;
  rec.kind = IfaceKind::kInternal;
  rec.cfg.name = br.name;
  rec.cfg.type = "internal";
  for (const auto& [pn, port] : br.ports) {
    for (const auto& ic : port.ifaces) {
      if (ic.name == br.name) {
        rec.cfg.mtu_request = ic.mtu_request;
        rec.vlan = port.vlan;
      }
    }
  }
  rec.cfg.mac = FormatMac(br.mac);
  auto spec = DatapathPortSpec(rec.cfg, rec.kind);
  if (!spec) {
    rec.error = spec.error().message;
  } else if (links_ok_ && links_.Find(br.name)) {
    rec.error = "a network device named " + br.name + " already exists";
  } else if (auto no = ofproto_.AddDatapathPort(*spec); !no) {
    rec.error = no.error().message;
  } else {
    rec.dp_port = *no;
    AttachIface(rec, ofp::kPortLocal, true);
  }
  if (!rec.error.empty()) {
    Log()->error("bridge {}: local port: {}", br.name, rec.error);
    rec.permanent = true;
  }
  ifaces_[br.name] = std::move(rec);
}

void BridgeLayer::UpdateBridge(const BridgeConfig& br) {
  AppliedBridge& ab = bridges_[br.name];
  if (ab.secure != br.secure) {
    ofproto_.SetFailMode(br.name, br.secure);
    ab.secure = br.secure;
    Log()->info("bridge {}: fail mode {}", br.name, br.secure ? "secure" : "standalone");
  }
  remotes_.ApplyControllers(idl_, br.name, br.uuid, ofproto_.FindBridge(br.name));
  // The bridge's MAC (other_config:hwaddr) with an explicit datapath id: the local port follows.
  if (ab.mac != br.mac) {
    ab.mac = br.mac;
    auto it = ifaces_.find(br.name);
    if (it != ifaces_.end() && it->second.local && it->second.dp_port != kOdpPortNone) {
      if (auto r = netlink::SetLink(br.name, FormatMac(br.mac), std::nullopt, std::nullopt); !r) {
        Log()->warn("bridge {}: {}", br.name, r.error().message);
      }
    }
  }
}

std::string BridgeLayer::PatchProblem(const IfaceConfig& cfg, const DesiredConfig& d) const {
  auto it = cfg.options.find("peer");
  if (it == cfg.options.end() || it->second.empty()) return "patch port requires options:peer";
  const std::string& peer = it->second;
  if (peer == cfg.name) return "patch port cannot be its own peer";
  for (const auto& [bn, br] : d.bridges) {
    for (const auto& [pn, port] : br.ports) {
      for (const auto& ic : port.ifaces) {
        if (ic.name != peer) continue;
        if (ic.type != "patch") return "peer " + peer + " is not a patch port";
        auto p = ic.options.find("peer");
        if (p == ic.options.end() || p->second != cfg.name) {
          return "peer " + peer + " does not name " + cfg.name + " as its peer";
        }
        return {};
      }
    }
  }
  return "patch peer " + peer + " does not exist";
}

void BridgeLayer::CreateIface(const BridgeConfig& br, const PortConfig& port,
                              const IfaceConfig& cfg, const DesiredConfig& d) {
  Iface rec;
  rec.bridge = br.name;
  rec.cfg = cfg;
  rec.vlan = port.vlan;
  auto finish = [&](std::string error, bool permanent) {
    rec.error = std::move(error);
    rec.permanent = permanent;
    if (!rec.error.empty()) {
      rec.ofport = -1;
      std::string msg = "bridge " + br.name + ": interface " + cfg.name + ": " + rec.error;
      if (warned_.insert(msg).second) Log()->warn("{}", msg);
    } else {
      Log()->info("bridge {}: added interface {} ({}) as OpenFlow port {}", br.name, cfg.name,
                  cfg.type.empty() ? "system" : cfg.type, rec.ofport);
    }
    ifaces_[cfg.name] = std::move(rec);
  };
  if (!cfg.config_error.empty()) return finish(cfg.config_error, true);
  auto kind = ClassifyIfaceType(cfg.type);
  if (!kind) return finish(kind.error().message, true);
  rec.kind = *kind;
  if (rec.kind == IfaceKind::kPatch) {
    if (auto problem = PatchProblem(cfg, d); !problem.empty()) return finish(problem, false);
    rec.patch_peer = cfg.options.at("peer");
  } else {
    auto spec = DatapathPortSpec(cfg, rec.kind);
    if (!spec) return finish(spec.error().message, true);
    if (links_ok_ && rec.kind == IfaceKind::kSystem && !links_.Find(cfg.name)) {
      return finish("could not open network device " + cfg.name + " (No such device)", false);
    }
    if (links_ok_ && (rec.kind == IfaceKind::kInternal || rec.kind == IfaceKind::kTap) &&
        links_.Find(cfg.name)) {
      return finish("a network device named " + cfg.name + " already exists", true);
    }
    auto no = ofproto_.AddDatapathPort(*spec);
    // Kernel devices may appear later (a link event retries); other failures need a change.
    if (!no) return finish(no.error().message, true);
    rec.dp_port = *no;
  }
  uint32_t preferred = 0;
  bool is_request = false;
  if (cfg.ofport_request > 0) {
    preferred = static_cast<uint32_t>(cfg.ofport_request);
    is_request = true;
  } else if (cfg.ofport_stored > 0 && cfg.ofport_stored < 0xff00) {
    preferred = static_cast<uint32_t>(cfg.ofport_stored);  // stable across restarts
  }
  if (!AttachIface(rec, preferred, is_request)) {
    if (rec.dp_port != kOdpPortNone) {
      (void)ofproto_.DelDatapathPort(rec.dp_port);
      rec.dp_port = kOdpPortNone;
    }
    return finish(rec.error, false);
  }
  finish({}, false);
}

bool BridgeLayer::AttachIface(Iface& rec, uint32_t preferred, bool is_request) {
  ofp::BridgePortSpec spec;
  spec.name = rec.cfg.name;
  spec.ofport = preferred;
  spec.dp_port = rec.dp_port;
  spec.patch_peer = rec.patch_peer;
  spec.vlan = rec.vlan;
  const KernelLink* link =
      links_ok_ && IsKernelKind(rec.kind) ? links_.Find(rec.cfg.name) : nullptr;
  if (link) {
    if (auto m = ParseMac(link->mac)) spec.hw_addr = *m;
  } else if (auto m = ParseMac(rec.cfg.mac)) {
    spec.hw_addr = *m;
  }
  auto r = ofproto_.AddPort(rec.bridge, spec);
  if (!r && preferred != 0 && preferred != ofp::kPortLocal) {
    // The number is taken: OVS falls back to any free number, and so do we.
    Log()->warn("{}: OpenFlow port {} ({}): {}; choosing another", rec.cfg.name, preferred,
                is_request ? "ofport_request" : "previous ofport", r.error().message);
    spec.ofport = 0;
    r = ofproto_.AddPort(rec.bridge, spec);
  }
  if (!r) {
    rec.error = "attaching to bridge " + rec.bridge + ": " + r.error().message;
    return false;
  }
  rec.attached = true;
  rec.ofport = *r;
  rec.error.clear();
  rec.link_up = true;
  if (link && !link->running()) {
    rec.link_up = false;
    ofproto_.SetPortLink(rec.cfg.name, false);
  }
  return true;
}

void BridgeLayer::UpdateIface(Iface& rec, const PortConfig& port, const IfaceConfig& cfg,
                              const DesiredConfig& d) {
  rec.cfg.ofport_stored = cfg.ofport_stored;
  if (rec.local) {
    if (rec.cfg.mtu_request != cfg.mtu_request) {
      rec.cfg.mtu_request = cfg.mtu_request;
      if (cfg.mtu_request > 0 && rec.dp_port != kOdpPortNone) {
        if (auto r = netlink::SetLink(rec.cfg.name, std::nullopt,
                                      static_cast<unsigned>(cfg.mtu_request), std::nullopt);
            !r) {
          Log()->warn("{}", r.error().message);
        }
      }
    }
  }
  if (!rec.attached) return;
  if (rec.kind == IfaceKind::kPatch) {
    if (auto problem = PatchProblem(cfg, d); !problem.empty()) {
      DetachIface(rec);
      rec.error = problem;
      rec.permanent = false;
      Log()->warn("bridge {}: interface {}: {}", rec.bridge, rec.cfg.name, problem);
      return;
    }
  }
  if (!rec.local && cfg.ofport_request != rec.cfg.ofport_request) {
    rec.cfg.ofport_request = cfg.ofport_request;
    if (cfg.ofport_request > 0 && cfg.ofport_request != rec.ofport) {
      DetachIface(rec);
      rec.vlan = port.vlan;
      if (!AttachIface(rec, static_cast<uint32_t>(cfg.ofport_request), true)) {
        rec.permanent = true;
        Log()->warn("bridge {}: interface {}: {}", rec.bridge, rec.cfg.name, rec.error);
        return;
      }
      Log()->info("bridge {}: interface {} is now OpenFlow port {}", rec.bridge, rec.cfg.name,
                  rec.ofport);
    }
  }
  if (!(rec.vlan == port.vlan)) {
    if (auto r = ofproto_.SetPortVlan(rec.bridge, rec.cfg.name, port.vlan); !r) {
      Log()->warn("{}: vlan: {}", rec.cfg.name, r.error().message);
    }
    rec.vlan = port.vlan;
  }
}

}  // namespace sluice::bridge
