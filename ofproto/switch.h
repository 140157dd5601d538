// Switch: every OpenFlow bridge that shares one datapath, and the join between them.
//
// It owns the bridges (Ofproto objects), maps their OpenFlow ports to datapath ports (patch ports
// have no datapath port: output to one continues translation in the peer bridge), and is the
// datapath's upcall handler: a miss is translated through the bridge's tables (ofproto/xlate)
// into datapath actions plus a megaflow mask, the megaflow is installed and the packet executed.
//
// Revalidation: every megaflow installed is remembered with the rules it was derived from. Any
// change to a bridge (flow/group/meter mod, port change, MAC learning move) marks the switch
// dirty; the revalidator re-translates each remembered megaflow at the new table version and
// corrects its actions, or deletes it when it would now need a narrower mask. A barrier request
// is answered only after that pass has run and every PMD has passed a quiescent point, so once
// a controller holds the barrier reply no packet is forwarded by a megaflow derived from rules
// it replaced. Datapath counters are pushed into the rules (and thus flow stats and idle
// timeouts) once a second.
//
// Threading: the control thread (asio io_context) and the datapath's handler thread both use
// the bridges; `mutex()` serialises them. Public methods take it themselves and must be called
// on the control thread, except HandleUpcall (handler thread).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio.hpp>

#include "datapath/dpif_netdev/datapath.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate/mac_learning.h"
#include "ofproto/xlate/xlate.h"
#include "sluice/result.h"

struct rte_mbuf;

namespace sluice::ofp {

inline constexpr uint32_t kNoDpPort = UINT32_MAX;

// What the bridge layer tells the switch about one port.
struct BridgePortSpec {
  std::string name;
  uint32_t ofport = 0;           // requested OpenFlow port number; 0 picks the lowest free >= 1
  uint32_t dp_port = kNoDpPort;  // datapath port number (none for patch ports)
  std::string patch_peer;        // patch ports: the peer port's name (in any bridge)
  PortVlan vlan;                 // Port tag / trunks / vlan_mode for NORMAL
  std::array<uint8_t, 6> hw_addr{};
  uint32_t curr_speed_kbps = 10000000;
};

struct SwitchOptions {
  int64_t mac_aging_s = 300;
  size_t mac_table_size = 8192;
  size_t max_megaflows = 200000;  // installed by upcalls, across bridges; beyond: execute only
  int64_t stats_interval_ms = 1000;
  // A recirculation state no megaflow names any more is dropped after this long (a packet
  // between its two passes, or queued for an upcall, must still find it).
  int64_t recirc_grace_ms = 2000;
  // More directories for every bridge's <br>.mgmt and <br>.snoop (Open vSwitch's run directory
  // in drop-in mode), besides the rundir.
  std::vector<std::string> extra_rundirs;
};

struct SwitchCounters {
  uint64_t upcalls = 0;
  uint64_t action_upcalls = 0;
  uint64_t xlates = 0;
  uint64_t xlate_errors = 0;  // recursion limit, unsupported actions
  uint64_t megaflow_installs = 0;
  uint64_t megaflow_install_fail = 0;  // exists / full: executed without installing
  uint64_t megaflow_cap_hits = 0;
  uint64_t revalidations = 0;      // passes
  uint64_t revalidated_flows = 0;  // megaflows re-translated
  uint64_t revalidate_modified = 0;
  uint64_t revalidate_deleted = 0;
  uint64_t packet_ins = 0;
  uint64_t packet_outs = 0;
  uint64_t upcall_no_bridge = 0;
  uint64_t upcall_recirc_missing = 0;  // recirculated miss whose state is gone: dropped
  uint64_t recirc_states_dropped = 0;  // states swept (no megaflow names them)
};

class Switch : public dp::UpcallHandler {
 public:
  Switch(asio::io_context& io, dp::Datapath& dp, std::string rundir, SwitchOptions cfg = {});
  ~Switch() override;
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  // ---- bridges (control thread) ----
  // Creates the bridge and its management listener punix:<rundir>/<name>.mgmt. A standalone
  // (not secure) bridge created without controllers starts with the flow
  // priority=0,actions=NORMAL in table 0, as in Open vSwitch; a secure one, or one with
  // controllers (which fails open instead, see Ofproto::SetFailMode), starts empty.
  Result<Ofproto*> AddBridge(const std::string& name, uint64_t datapath_id, bool secure = false,
                             bool has_controllers = false);
  Result<void> DelBridge(const std::string& name);  // its ports are detached, not deleted
  Ofproto* FindBridge(const std::string& name) const;
  std::vector<std::string> BridgeNames() const;
  void SetFailMode(const std::string& bridge, bool secure);
  // Cap on the megaflows upcalls install (other_config:flow-limit / max-megaflows); beyond it a
  // missed packet is executed without installing one. Lowering it removes nothing installed.
  void SetMaxMegaflows(size_t n);

  // ---- ports (control thread) ----
  // Attaches a port to a bridge; returns its OpenFlow port number. Errors: no such bridge,
  // ofport in use, name in use.
  Result<uint32_t> AddPort(const std::string& bridge, const BridgePortSpec& spec);
  Result<void> DelPort(const std::string& bridge, const std::string& port_name);
  Result<void> SetPortVlan(const std::string& bridge, const std::string& port_name,
                           const PortVlan& vlan);
  // Link state (from the datapath or netlink): port-status messages go to controllers.
  void SetPortLink(const std::string& port_name, bool up);
  // The bridge and OpenFlow port of a datapath port, if attached.
  std::optional<std::pair<std::string, uint32_t>> FindDpPort(uint32_t dp_port) const;

  // ---- visibility (control thread) ----
  // ofproto/trace: `flow` is a datapath flow in OVS syntax (in_port(N),eth(...),...), or
  // "in_port=PORT,HEXBYTES" (PORT a name or OpenFlow number), or a flow in ovs-ofctl's match
  // syntax with an in_port ("in_port=p1,tcp,nw_dst=10.0.0.1,tp_dst=80": the packet has those
  // field values, every other field zero). Prints each table's rule and actions, the
  // megaflow and the datapath actions.
  Result<std::string> Trace(const std::string& bridge, const std::string& flow);
  std::string FdbShow(const std::string& bridge) const;
  Result<void> FdbFlush(const std::string& bridge);  // "" = all bridges
  Result<void> FdbAddStatic(const std::string& bridge, const std::string& port, uint16_t vlan,
                            const Mac& mac);
  std::string FdbStats(const std::string& bridge) const;
  SwitchCounters counters() const;
  std::string CoverageText() const;
  // bridge/dump-flows: every flow of the bridge, datapath counters pulled first.
  Result<std::string> DumpFlowsText(const std::string& bridge);
  // memory/show: object counts (and resident memory) as one line.
  std::string MemoryText() const;
  size_t TrackedCount() const;
  size_t RecircStateCount() const;
  // Runs a revalidation pass if anything changed, then waits for the PMDs to quiesce.
  void Sync();
  // Consistency check (tests, revalidator/check): every remembered megaflow re-translated now
  // must give the actions the datapath holds, within the megaflow's mask. One line per problem.
  std::vector<std::string> VerifyMegaflows();

  // dp::UpcallHandler (handler thread)
  void HandleUpcall(dp::Upcall& upcall) override;

 private:
  struct Bridge;
  struct PortRec;
  struct Tracked;
  struct TrackedMap;
  struct MfKey;
  struct MfKeyHash;
  class Backend;
  struct PendingPacketIn {
    std::string bridge;
    PacketIn pi;
  };
  struct Recirculated {
    uint32_t id;
    rte_mbuf* m;
  };
  enum class RevalOutcome { kKeep, kDelete };

  // All *Locked helpers require mu_.
  Bridge* BridgeOf(const std::string& name) const;
  void PublishPortsLocked(Bridge& br);
  void RebuildLocked();
  void MarkDirtyLocked();
  void RevalidateLocked();
  RevalOutcome RevalidateOneLocked(const MfKey& mk, Tracked& t);
  void SyncLocked();
  void PushStats();
  void PushStatsLocked();
  // Drops the recirculation states that no tracked megaflow names (in its key or its actions)
  // and that have not been used for cfg_.recirc_grace_ms.
  void SweepRecircLocked();
  void ArmStatsTimer();
  XlateEnv EnvLocked();
  void InstallLocked(const dp::FlowKey& key, const XlateResult& r);
  void ForgetFloodsLocked(const std::vector<MacRef>& learned);
  static uint64_t FloodKey(const XBridge* br, uint16_t vlan, const Mac& mac);
  void CollectPacketIn(uint32_t ctx_id, rte_mbuf* m, std::vector<PendingPacketIn>* out);
  // The bridge and OpenFlow input port a datapath key enters (a recirculated key: those of its
  // frozen translation).
  bool ResolveInputLocked(const dp::FlowKey& key, XBridge** br, uint32_t* ofport) const;
  // Translates a miss, installs the megaflow and executes the packet (ownership taken).
  void MissLocked(rte_mbuf* m, const dp::FlowKey& key, std::vector<PendingPacketIn>* pins,
                  std::vector<Recirculated>* recircs);
  void ExecuteLocked(rte_mbuf* m, const dp::ActionBuilder& actions,
                     std::vector<PendingPacketIn>* pins, std::vector<Recirculated>* recircs);
  void RecirculateLocked(std::vector<Recirculated> recircs, std::vector<PendingPacketIn>* pins);
  void DeliverPacketIns(std::vector<PendingPacketIn> pins);
  std::optional<OfpError> PacketOutLocked(Bridge& br, const PacketOut& po);
  std::optional<OfpError> MeterSetLocked(Bridge& br, const Meter& m);
  void MeterDelLocked(Bridge& br, uint32_t meter_id);
  void PushMeterStatsLocked();

  asio::io_context& io_;
  dp::Datapath& dp_;
  std::string rundir_;
  SwitchOptions cfg_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Bridge>> bridges_;
  std::unordered_map<std::string, XBridge*> xbridges_;
  // Datapath port -> (bridge, ofport); rebuilt on port changes.
  std::unordered_map<uint32_t, std::pair<Bridge*, uint32_t>> by_dp_port_;
  std::unique_ptr<TrackedMap> tracked_;
  // (bridge, VLAN, MAC) NORMAL flooded for -> masked keys of those megaflows.
  std::unordered_multimap<uint64_t, dp::FlowKey> flood_index_;
  // Datapath meter ids in use (every bridge's meters share the datapath's table); handed out
  // round-robin so that a freed id is not reused while megaflows may still name it.
  std::vector<bool> dp_meter_used_;
  uint32_t next_dp_meter_ = 0;
  uint64_t stats_gen_ = 0;
  bool dirty_ = false;
  bool reval_posted_ = false;
  PacketInRegistry pin_registry_;
  RecircRegistry recirc_registry_;
  SwitchCounters ctr_;
  asio::steady_timer stats_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sluice::ofp
