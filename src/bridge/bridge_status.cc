// The bridge layer's status: kernel link changes and datapath polling (link state, statistics)
// into ofproto-dpif and the write-back of status columns to the database.
#include <algorithm>

#include "bridge/bridge.h"
#include "common/netlink_link.h"
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

}  // namespace

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
      if (rec.dp_port != kOdpPortNone) (void)ofproto_.DelDatapathPort(rec.dp_port);
      rec.dp_port = kOdpPortNone;
      rec.error = "network device " + name + " was removed";
      rec.permanent = false;
      ScheduleWriteBack();
    }
    return;
  }
  bool up = link->running();
  if (up != rec.link_up) {
    rec.link_up = up;
    ofproto_.SetPortLink(name, up);
    Log()->info("bridge {}: interface {} link {}", rec.bridge, name, up ? "up" : "down");
  }
  ScheduleWriteBack();
}

void BridgeLayer::PollDatapath(bool stats) {
  std::map<OdpPort, dp::DpifPort> by_no;
  for (auto& p : ofproto_.DatapathPorts()) by_no.emplace(p.port_no, std::move(p));
  for (auto& [name, rec] : ifaces_) {
    if (!rec.attached || rec.dp_port == kOdpPortNone) continue;
    auto it = by_no.find(rec.dp_port);
    if (it == by_no.end()) continue;
    const dp::DpifPort& info = it->second;
    if (!IsKernelKind(rec.kind) || !links_ok_) {
      bool up = info.link_up;
      if (IsKernelKind(rec.kind)) {
        if (auto l = netlink::GetLink(name)) up = l->admin_up && l->carrier;
      }
      if (up != rec.link_up) {
        rec.link_up = up;
        ofproto_.SetPortLink(name, up);
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
    if (rec.dp_port != kOdpPortNone && !rec.stats.empty()) want["statistics"] = IntMap(rec.stats);
    set("Interface", row, want);
  }

  for (const auto& [uuid, row] : idl_.Rows("Bridge")) {
    std::string name = row.GetString("name");
    auto it = bridges_.find(name);
    if (it == bridges_.end()) continue;
    set("Bridge", row, {{"datapath_id", FormatDatapathId(it->second.dpid)}});
    ofp::Ofproto* ofproto = ofproto_.FindBridge(name);
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

  const dp::DpifInfo dp_info = ofproto_.DatapathInfo();
  for (const auto& [uuid, row] : idl_.Rows("Open_vSwitch")) {
    std::map<std::string, Json> want = {
        {"ovs_version", SLUICE_VERSION},
        {"db_version", schema->version},
        {"datapath_types", StringSet({dp_info.type})},
        {"iface_types", StringSet(SupportedIfaceTypes())},
        {"dpdk_initialized", dp_info.dpdk_initialized},
        {"dpdk_version", Opt(dp_info.version)},
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

}  // namespace sluice::bridge
