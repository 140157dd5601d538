// The bridge layer: switchd following its configuration database.
//
// An IDL replica of the Open_vSwitch database (the embedded server over its unix socket, or any
// --db remote, including Debian's ovsdb-server) is reconciled after every change against what
// this layer has applied: bridges (OfprotoDpif::AddBridge/DelBridge/SetFailMode, the LOCAL port
// as an internal datapath port named after the bridge), ports and interfaces (datapath ports
// attached to their bridge in ofproto-dpif; patch ports without one), VLAN configuration,
// controllers, and the embedded server's Manager remotes. Reconciliation is incremental: only what
// differs is touched, so adding a port never disturbs another one.
//
// Status goes back to the database in one transaction at a time, only for values that differ
// from the replica: Interface ofport/error/admin_state/link_state/mac_in_use/mtu/ifindex/
// statistics (every 5 s), Controller is_connected/role/status, Bridge datapath_id, and in
// Open_vSwitch cur_cfg := next_cfg once that configuration is applied, plus the version columns.
// Kernel interfaces' link state follows rtnetlink notifications (LinkMonitor).
//
// Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <asio.hpp>

#include "bridge/bridge_config.h"
#include "bridge/bridge_remotes.h"
#include "bridge/link_monitor.h"
#include "common/unixctl.h"
#include "ofproto/dpif/ofproto_dpif.h"
#include "ovsdb/idl/idl.h"

namespace sluice::db {
class OvsdbServer;
}

namespace sluice::bridge {

struct BridgeLayerOptions {
  std::string db_remote;                // unix:PATH | tcp:IP:PORT
  db::OvsdbServer* embedded = nullptr;  // Manager rows become its remotes (null: not embedded)
  // Where controllers' and managers' unix sockets may be: switchd's run directory first.
  std::vector<std::string> rundirs = {"/var/run/sluice"};
  int64_t stats_interval_ms = 5000;
  int64_t dp_poll_interval_ms = 1000;  // link state of non-kernel ports (dpdk, dummy)
  // Called once, when the configuration first read from the database has been applied (switchd
  // then reports readiness to systemd, as ovs-vswitchd completes its start-up there).
  std::function<void()> on_configured;
};

class BridgeLayer {
 public:
  BridgeLayer(asio::io_context& io, ofp::OfprotoDpif& ofproto, BridgeLayerOptions opts);
  ~BridgeLayer();
  BridgeLayer(const BridgeLayer&) = delete;
  BridgeLayer& operator=(const BridgeLayer&) = delete;

  void Start();
  // unixctl bridge/show (what has been applied) and bridge/reconcile.
  void RegisterCommands(UnixctlServer& unixctl);

 private:
  struct Iface {
    std::string bridge;
    IfaceConfig cfg;
    IfaceKind kind = IfaceKind::kSystem;
    bool local = false;  // the bridge's LOCAL port
    OdpPort dp_port = kOdpPortNone;
    bool attached = false;  // attached to its bridge in ofproto-dpif
    int64_t ofport = -1;
    std::string error;
    bool permanent = false;  // the error depends only on this row's configuration
    ofp::PortVlan vlan;
    std::string patch_peer;
    bool link_up = true;  // as last told to ofproto-dpif
    std::map<std::string, int64_t> stats;
  };
  struct AppliedBridge {
    uint64_t dpid = 0;
    ofp::Mac mac{};
    bool secure = false;
  };

  void OnDbChange();
  void Reconcile();
  void RemoveIface(const std::string& name);
  void DetachIface(Iface& rec);
  void AddBridge(const BridgeConfig& br);
  void RemoveBridge(const std::string& name);
  void CreateLocalPort(const BridgeConfig& br);
  void UpdateBridge(const BridgeConfig& br);
  void CreateIface(const BridgeConfig& br, const PortConfig& port, const IfaceConfig& cfg,
                   const DesiredConfig& desired);
  bool AttachIface(Iface& rec, uint32_t preferred_ofport, bool preferred_is_request);
  void UpdateIface(Iface& rec, const PortConfig& port, const IfaceConfig& cfg,
                   const DesiredConfig& desired);
  std::string PatchProblem(const IfaceConfig& cfg, const DesiredConfig& desired) const;
  void OnLinkChange(const std::string& name, const KernelLink* link);
  void PollDatapath(bool stats);
  void ArmPollTimer();
  void ArmStatsTimer();
  void ScheduleReconcile();
  void ScheduleWriteBack();
  void WriteBack();
  std::string Show() const;

  asio::io_context& io_;
  ofp::OfprotoDpif& ofproto_;
  BridgeLayerOptions opts_;
  db::Idl idl_;
  LinkMonitor links_;
  bool links_ok_ = false;
  std::map<std::string, AppliedBridge> bridges_;
  std::map<std::string, Iface> ifaces_;  // by interface name, every bridge
  std::map<std::string, std::string> rejected_;
  // Controller, Manager and SSL rows (the process's TLS configuration from switchd's options).
  BridgeRemotes remotes_{opts_.rundirs, opts_.embedded, DefaultTlsConfig()->options()};
  std::set<std::string> warned_;          // messages logged once
  std::optional<DatapathTuning> tuning_;  // last applied other_config tuning
  int64_t applied_cfg_ = -1;              // next_cfg of the last configuration applied
  uint64_t reconciles_ = 0;
  bool reconcile_posted_ = false;
  bool writeback_posted_ = false;
  bool txn_in_flight_ = false;
  bool writeback_again_ = false;
  asio::steady_timer stats_timer_;
  asio::steady_timer poll_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sluice::bridge
