#include "bridge/bridge.h"

#include <rte_version.h>

#include <algorithm>

#include "datapath/port/netlink_link.h"
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

constexpr int64_t kDbOfportLocal = 65534;  // OFPP_LOCAL as Interface.ofport shows it

Json Opt(const std::string& s) { return s.empty() ? Json::array({"set", Json::array()}) : Json(s); }
Json Empty() { return Json::array({"set", Json::array()}); }
Json StringSet(const std::vector<std::string>& v) { return Json::array({"set", Json(v)}); }
Json StringMap(const std::map<std::string, std::string>& m) {
  Json pairs = Json::array();
  for (const auto& [k, v] : m) pairs.push_back(Json::array({k, v}));
  return Json::array({"map", pairs});
}
Json IntMap(const std::map<std::string, int64_t>& m) {
  Json pairs = Json::array();
  for (const auto& [k, v] : m) pairs.push_back(Json::array({k, v}));
  return Json::array({"map", pairs});
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

BridgeLayer::BridgeLayer(asio::io_context& io, dp::Datapath& dp, ofp::Switch& sw,
                         BridgeLayerOptions opts)
    : io_(io),
      dp_(dp),
      sw_(sw),
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
    dp_.SetMaxIdle(d.tuning.max_idle_ms);
    sw_.SetMaxMegaflows(d.tuning.max_megaflows);
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
  if (auto r = sw_.DelPort(rec.bridge, rec.cfg.name); !r) {
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
  if (rec.dp_port != ofp::kNoDpPort) {
    if (auto r = dp_.PortDel(rec.dp_port); !r) {
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
  if (auto r = sw_.DelBridge(name); !r) {
    Log()->warn("deleting bridge {}: {}", name, r.error().message);
  }
  bridges_.erase(name);
  remotes_.ForgetBridge(name);
  Log()->info("removed bridge {}", name);
}

void BridgeLayer::AddBridge(const BridgeConfig& br) {
  auto r = sw_.AddBridge(br.name, br.dpid, br.secure, !br.controllers.empty());
  if (!r) {
    std::string msg = "creating bridge " + br.name + ": " + r.error().message;
    if (warned_.insert(msg).second) Log()->error("{}", msg);
    return;
  }
  AppliedBridge ab;
  ab.dpid = br.dpid;
  ab.mac = br.mac;
  ab.secure = br.secure;
  sw_.SetFailMode(br.name, br.secure);
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
  } else if (auto no = dp_.PortAdd(*spec); !no) {
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
    sw_.SetFailMode(br.name, br.secure);
    ab.secure = br.secure;
    Log()->info("bridge {}: fail mode {}", br.name, br.secure ? "secure" : "standalone");
  }
  remotes_.ApplyControllers(idl_, br.name, br.uuid, sw_.FindBridge(br.name));
  // The bridge's MAC (other_config:hwaddr) with an explicit datapath id: the local port follows.
  if (ab.mac != br.mac) {
    ab.mac = br.mac;
    auto it = ifaces_.find(br.name);
    if (it != ifaces_.end() && it->second.local && it->second.dp_port != ofp::kNoDpPort) {
      if (auto r = dp::netlink::SetLink(br.name, FormatMac(br.mac), std::nullopt, std::nullopt);
          !r) {
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
    auto no = dp_.PortAdd(*spec);
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
    if (rec.dp_port != ofp::kNoDpPort) {
      (void)dp_.PortDel(rec.dp_port);
      rec.dp_port = ofp::kNoDpPort;
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
  auto r = sw_.AddPort(rec.bridge, spec);
  if (!r && preferred != 0 && preferred != ofp::kPortLocal) {
    // The number is taken: OVS falls back to any free number, and so do we.
    Log()->warn("{}: OpenFlow port {} ({}): {}; choosing another", rec.cfg.name, preferred,
                is_request ? "ofport_request" : "previous ofport", r.error().message);
    spec.ofport = 0;
    r = sw_.AddPort(rec.bridge, spec);
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
    sw_.SetPortLink(rec.cfg.name, false);
  }
  return true;
}

void BridgeLayer::UpdateIface(Iface& rec, const PortConfig& port, const IfaceConfig& cfg,
                              const DesiredConfig& d) {
  rec.cfg.ofport_stored = cfg.ofport_stored;
  if (rec.local) {
    if (rec.cfg.mtu_request != cfg.mtu_request) {
      rec.cfg.mtu_request = cfg.mtu_request;
      if (cfg.mtu_request > 0 && rec.dp_port != ofp::kNoDpPort) {
        if (auto r = dp::netlink::SetLink(rec.cfg.name, std::nullopt,
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
    if (auto r = sw_.SetPortVlan(rec.bridge, rec.cfg.name, port.vlan); !r) {
      Log()->warn("{}: vlan: {}", rec.cfg.name, r.error().message);
    }
    rec.vlan = port.vlan;
  }
}

// ---- link state and statistics ----------------------------------------------------------

void BridgeLayer::OnLinkChange(const std::string& name, const KernelLink* link) {
  auto it = ifaces_.find(name);
  if (it == ifaces_.end()) return;
  Iface& rec = it->second;
  if (!IsKernelKind(rec.kind)) return;
  if (!rec.attached) {
    // A device that failed to open may just have appeared.
    if (link && rec.kind == IfaceKind::kSystem && !rec.error.empty()) {
      rec.permanent = false;
      ScheduleReconcile();
    }
    return;
  }
  if (!link) {
    if (rec.kind == IfaceKind::kSystem) {
      // The kernel device is gone: its packet socket is dead. Free the port; it is
      // recreated if a device of that name comes back.
      std::string bridge = rec.bridge;
      Log()->warn("bridge {}: network device {} disappeared", bridge, name);
      DetachIface(rec);
      if (rec.dp_port != ofp::kNoDpPort) (void)dp_.PortDel(rec.dp_port);
      rec.dp_port = ofp::kNoDpPort;
      rec.error = "network device " + name + " was removed";
      rec.permanent = false;
      ScheduleWriteBack();
    }
    return;
  }
  bool up = link->running();
  if (up != rec.link_up) {
    rec.link_up = up;
    sw_.SetPortLink(name, up);
    Log()->info("bridge {}: interface {} link {}", rec.bridge, name, up ? "up" : "down");
  }
  ScheduleWriteBack();
}

void BridgeLayer::PollDatapath(bool stats) {
  std::map<uint32_t, dp::PortInfo> by_no;
  for (auto& p : dp_.Ports()) by_no.emplace(p.port_no, std::move(p));
  for (auto& [name, rec] : ifaces_) {
    if (!rec.attached || rec.dp_port == ofp::kNoDpPort) continue;
    auto it = by_no.find(rec.dp_port);
    if (it == by_no.end()) continue;
    const dp::PortInfo& info = it->second;
    if (!IsKernelKind(rec.kind) || !links_ok_) {
      bool up = info.link_up;
      if (IsKernelKind(rec.kind)) {
        if (auto l = dp::netlink::GetLink(name)) up = l->admin_up && l->carrier;
      }
      if (up != rec.link_up) {
        rec.link_up = up;
        sw_.SetPortLink(name, up);
      }
    }
    if (stats) {
      const auto& s = info.stats;
      rec.stats = {{"rx_packets", s.rx_packets}, {"tx_packets", s.tx_packets},
                   {"rx_bytes", s.rx_bytes},     {"tx_bytes", s.tx_bytes},
                   {"rx_dropped", s.rx_dropped}, {"tx_dropped", s.tx_dropped},
                   {"rx_errors", s.rx_errors},   {"tx_errors", s.tx_errors}};
    }
  }
}

void BridgeLayer::ArmPollTimer() {
  poll_timer_.expires_after(std::chrono::milliseconds(opts_.dp_poll_interval_ms));
  poll_timer_.async_wait([this, alive = alive_](std::error_code ec) {
    if (ec || !*alive) return;
    if (!bridges_.empty()) {
      PollDatapath(false);
      ScheduleWriteBack();  // controller status, link state of non-kernel ports
    } else if (remotes_.has_managers()) {
      ScheduleWriteBack();  // manager status
    }
    ArmPollTimer();
  });
}

void BridgeLayer::ArmStatsTimer() {
  stats_timer_.expires_after(std::chrono::milliseconds(opts_.stats_interval_ms));
  stats_timer_.async_wait([this, alive = alive_](std::error_code ec) {
    if (ec || !*alive) return;
    PollDatapath(true);
    ScheduleWriteBack();
    if (warned_.size() > 4096) warned_.clear();
    ArmStatsTimer();
  });
}

// ---- write-back ---------------------------------------------------------------------------

void BridgeLayer::WriteBack() {
  writeback_posted_ = false;
  if (txn_in_flight_) {
    writeback_again_ = true;
    return;
  }
  const db::DatabaseSchema* schema = idl_.schema();
  if (!idl_.connected() || !schema) return;
  db::IdlTxn txn(idl_);
  auto set = [&](const std::string& table, const db::IdlRow& row,
                 const std::map<std::string, Json>& want) {
    const db::TableSchema* ts = schema->FindTable(table);
    if (!ts) return;
    Json upd = Json::object();
    for (const auto& [col, val] : want) {
      const db::ColumnSchema* cs = ts->FindColumn(col);
      if (!cs) continue;
      auto datum = db::DatumFromJson(val, cs->type, nullptr);
      if (!datum) {
        Log()->debug("{}.{}: {}: {}", table, col, val.dump(), datum.error().details);
        continue;
      }
      const db::Datum* cur = row.Get(col);
      if (cur && *cur == *datum) continue;
      upd[col] = val;
    }
    if (!upd.empty()) txn.Update(table, row.uuid, std::move(upd));
  };

  for (const auto& [uuid, row] : idl_.Rows("Interface")) {
    std::string name = row.GetString("name");
    auto it = ifaces_.find(name);
    std::map<std::string, Json> want;
    if (it == ifaces_.end()) {
      auto rj = rejected_.find(name);
      if (rj == rejected_.end()) continue;
      want = {{"ofport", -1},          {"error", rj->second},     {"admin_state", Empty()},
              {"link_state", Empty()}, {"mac_in_use", Empty()},   {"mtu", Empty()},
              {"ifindex", Empty()},    {"statistics", IntMap({})}};
      set("Interface", row, want);
      continue;
    }
    const Iface& rec = it->second;
    if (!rec.attached) {
      want = {{"ofport", -1},          {"error", Opt(rec.error)}, {"admin_state", Empty()},
              {"link_state", Empty()}, {"mac_in_use", Empty()},   {"mtu", Empty()},
              {"ifindex", Empty()},    {"statistics", IntMap({})}};
      set("Interface", row, want);
      continue;
    }
    want["ofport"] = rec.ofport == ofp::kPortLocal ? kDbOfportLocal : rec.ofport;
    want["error"] = Empty();
    const KernelLink* link =
        links_ok_ && IsKernelKind(rec.kind) ? links_.Find(rec.cfg.name) : nullptr;
    if (link) {
      want["admin_state"] = link->admin_up() ? "up" : "down";
      want["link_state"] = link->running() ? "up" : "down";
      want["mac_in_use"] = Opt(link->mac);
      want["mtu"] = static_cast<int64_t>(link->mtu);
      want["ifindex"] = static_cast<int64_t>(link->ifindex);
    } else {
      want["admin_state"] = "up";
      want["link_state"] = rec.link_up ? "up" : "down";
      want["mac_in_use"] = Opt(rec.kind == IfaceKind::kPatch ? "" : rec.cfg.mac);
    }
    if (rec.dp_port != ofp::kNoDpPort && !rec.stats.empty()) want["statistics"] = IntMap(rec.stats);
    set("Interface", row, want);
  }

  for (const auto& [uuid, row] : idl_.Rows("Bridge")) {
    std::string name = row.GetString("name");
    auto it = bridges_.find(name);
    if (it == bridges_.end()) continue;
    set("Bridge", row, {{"datapath_id", FormatDatapathId(it->second.dpid)}});
    ofp::Ofproto* ofproto = sw_.FindBridge(name);
    if (!ofproto) continue;
    auto statuses = ofproto->connmgr().Controllers();
    for (const auto& cu : row.GetUuids("controller")) {
      const db::IdlRow* c = idl_.Find("Controller", cu);
      if (!c) continue;
      std::string target = c->GetString("target");
      auto st = remotes_.ControllerRow(name, target, statuses);
      if (!st) continue;
      set("Controller", *c,
          {{"is_connected", st->connected},
           {"role", Opt(st->role)},
           {"status", StringMap(st->status)}});
    }
  }

  // Manager rows: is_connected and status as ovsdb-server reports them for its remotes.
  std::vector<db::RemoteStatus> remotes;
  if (opts_.embedded) remotes = opts_.embedded->RemoteStatuses();
  for (const auto& [uuid, row] : idl_.Rows("Manager")) {
    auto st = remotes_.ManagerRow(row.GetString("target"), remotes);
    if (!st) continue;  // not applied yet
    set("Manager", row, {{"is_connected", st->connected}, {"status", StringMap(st->status)}});
  }

  for (const auto& [uuid, row] : idl_.Rows("Open_vSwitch")) {
    std::map<std::string, Json> want = {
        {"ovs_version", SLUICE_VERSION},
        {"db_version", schema->version},
        {"datapath_types", StringSet({"netdev"})},
        {"iface_types", StringSet(SupportedIfaceTypes())},
        {"dpdk_initialized", true},
        {"dpdk_version", rte_version()},
    };
    if (applied_cfg_ >= 0) want["cur_cfg"] = applied_cfg_;
    set("Open_vSwitch", row, want);
  }

  if (txn.empty()) return;
  txn.Comment("sluice-switchd: status");
  txn_in_flight_ = true;
  txn.Commit([this, alive = alive_](db::TxnResult r) {
    if (!*alive) return;
    txn_in_flight_ = false;
    if (r.status != db::TxnStatus::kSuccess && r.status != db::TxnStatus::kUnchanged) {
      Log()->warn("status write-back failed: {}", r.error);
    }
    if (writeback_again_) {
      writeback_again_ = false;
      ScheduleWriteBack();
    }
  });
}

// ---- unixctl ------------------------------------------------------------------------------

std::string BridgeLayer::Show() const {
  std::string out = "database " + opts_.db_remote + (idl_.connected() ? "" : " (not connected)") +
                    ", " + std::to_string(reconciles_) + " reconciliations, cfg " +
                    std::to_string(applied_cfg_) + "\n";
  for (const auto& [bn, ab] : bridges_) {
    out += "bridge " + bn + " dpid " + FormatDatapathId(ab.dpid) +
           (ab.secure ? " secure" : " standalone") + "\n";
    for (const auto& [name, rec] : ifaces_) {
      if (rec.bridge != bn) continue;
      out += "  " + name + ": ";
      if (rec.attached) {
        out += "ofport " +
               (rec.ofport == ofp::kPortLocal ? std::string("LOCAL") : std::to_string(rec.ofport));
        if (rec.dp_port != ofp::kNoDpPort) out += ", dp port " + std::to_string(rec.dp_port);
        if (!rec.patch_peer.empty()) out += ", peer " + rec.patch_peer;
        out += rec.link_up ? ", link up" : ", link down";
      } else {
        out += "error: " + rec.error;
      }
      out += "\n";
    }
  }
  for (const auto& [name, why] : rejected_) out += "rejected " + name + ": " + why + "\n";
  return out;
}

void BridgeLayer::RegisterCommands(UnixctlServer& unixctl) {
  using Args = UnixctlServer::Args;
  unixctl.Register("bridge/show", "", 0, 0,
                   [this](const Args&) -> Result<std::string> { return Show(); });
  unixctl.Register("bridge/reconcile", "", 0, 0, [this](const Args&) -> Result<std::string> {
    for (auto& [name, rec] : ifaces_) {
      if (!rec.error.empty()) rec.permanent = false;
    }
    Reconcile();
    return std::string();
  });
}

}  // namespace sluice::bridge
