// ofproto-dpif: the OpenFlow bridges (Ofproto objects) that share one datapath, joined to it
// through the dpif contract (datapath/dpif.h) only. Open vSwitch's ofproto/ofproto-dpif*.c do
// the same job; here one file does one part of it:
//
//   ofproto_dpif.{h,cc}  this facade: bridges, ports and the OpenFlow <-> datapath port maps
//   backer.{h,cc}        the state every part shares (bridges, port maps, registries, counters,
//                        the lock) and the hooks each Ofproto calls
//   upcall.{h,cc}        upcall handling: a miss is translated (ofproto/xlate), its megaflow
//                        installed and the packet executed; packet-ins; packet-out
//   megaflows.{h,cc}     the megaflows installed, with what each was translated from
//   revalidator.{h,cc}   revalidation after changes, the barrier (Sync), consistency checks
//   stats.{h,cc}         the once-a-second statistics push from the datapath to the rules
//   meters.{h,cc}        OpenFlow meter ids -> datapath meter ids, and their statistics
//   trace.{h,cc}         ofproto/trace
//   show.cc              fdb/*, coverage/show, memory/show, bridge/dump-flows text
//
// Revalidation: every megaflow installed is remembered with the rules it was derived from. Any
// change to a bridge (flow/group/meter mod, port change, MAC learning move) marks ofproto-dpif
// dirty; the revalidator re-translates each remembered megaflow at the new table version and
// corrects its actions, or deletes it when it would now need a narrower mask. A barrier request
// is answered only after that pass has run and the datapath has synchronised (Dpif::Synchronize),
// so once a controller holds the barrier reply no packet is forwarded by a megaflow derived from
// rules it replaced. Datapath counters are pushed into the rules (and thus flow stats and idle
// timeouts) once a second.
//
// Threads and the lock order. The control thread (asio io_context) and the datapath's upcall
// handler thread both use the bridges; one lock, the ofproto-dpif lock (level
// kLockLevelOfprotoDpif), serialises them. The full order, outermost first:
//
//     dpif upcall sink lock (dp::kLockLevelUpcallSink, 10)   held by the datapath's handler
//                                                            thread while HandleUpcall runs
//  -> ofproto-dpif lock     (kLockLevelOfprotoDpif, 20)      every OpenFlow message, upcall,
//                                                            revalidation, stats push
//  -> dpif lock             (dp::kLockLevelDpif, 30)         taken inside each Dpif call
//
// Builds without NDEBUG assert it (common/ordered_mutex.h). Public methods take the lock themselves
// and are called on the control thread; the upcall sink runs on the datapath's handler thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "datapath/dpif.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate/mac_learning.h"
#include "ofproto/xlate/xlate.h"
#include "sluice/odp_port.h"
#include "sluice/result.h"

namespace sluice::ofp {

inline constexpr int kLockLevelOfprotoDpif = 20;

// What the bridge layer tells ofproto-dpif about one port.
struct BridgePortSpec {
  std::string name;
  uint32_t ofport = 0;             // requested OpenFlow port number; 0 picks the lowest free >= 1
  OdpPort dp_port = kOdpPortNone;  // datapath port number (none for patch ports)
  std::string patch_peer;          // patch ports: the peer port's name (in any bridge)
  PortVlan vlan;                   // Port tag / trunks / vlan_mode for NORMAL
  std::array<uint8_t, 6> hw_addr{};
  uint32_t curr_speed_kbps = 10000000;
};

struct OfprotoDpifOptions {
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

struct OfprotoDpifCounters {
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

class Backer;

class OfprotoDpif {
 public:
  // Registers itself as `dpif`'s upcall sink; `dpif` must outlive it.
  OfprotoDpif(asio::io_context& io, dp::Dpif& dpif, std::string rundir,
              OfprotoDpifOptions cfg = {});
  ~OfprotoDpif();
  OfprotoDpif(const OfprotoDpif&) = delete;
  OfprotoDpif& operator=(const OfprotoDpif&) = delete;

  // ---- bridges ----
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
  // Idle expiry of the megaflows upcalls install (other_config:max-idle).
  void SetMaxIdle(int64_t ms);

  // ---- ports ----
  // The datapath side of a port: created before it is attached to a bridge and kept across
  // re-attachment (a new OpenFlow port number). Patch ports have none.
  Result<OdpPort> AddDatapathPort(const dp::PortSpec& spec);
  Result<void> DelDatapathPort(OdpPort port);
  // Every datapath port with its statistics and link state.
  std::vector<dp::DpifPort> DatapathPorts() const;
  dp::DpifInfo DatapathInfo() const;
  // Attaches a port to a bridge; returns its OpenFlow port number. Errors: no such bridge,
  // ofport in use, name in use.
  Result<uint32_t> AddPort(const std::string& bridge, const BridgePortSpec& spec);
  // Detaches it; the megaflows using it are gone (revalidated) when this returns.
  Result<void> DelPort(const std::string& bridge, const std::string& port_name);
  Result<void> SetPortVlan(const std::string& bridge, const std::string& port_name,
                           const PortVlan& vlan);
  // Link state (from the datapath or netlink): port-status messages go to controllers.
  void SetPortLink(const std::string& port_name, bool up);
  // The bridge and OpenFlow port of a datapath port, if attached.
  std::optional<std::pair<std::string, uint32_t>> FindDpPort(OdpPort dp_port) const;

  // ---- visibility ----
  // ofproto/trace (ofproto/dpif/trace.h has the syntax).
  Result<std::string> Trace(const std::string& bridge, const std::string& flow);
  std::string FdbShow(const std::string& bridge) const;
  Result<void> FdbFlush(const std::string& bridge);  // "" = all bridges
  Result<void> FdbAddStatic(const std::string& bridge, const std::string& port, uint16_t vlan,
                            const Mac& mac);
  std::string FdbStats(const std::string& bridge) const;
  OfprotoDpifCounters counters() const;
  std::string CoverageText() const;
  // bridge/dump-flows: every flow of the bridge, datapath counters pulled first.
  Result<std::string> DumpFlowsText(const std::string& bridge);
  // memory/show: object counts (and resident memory) as one line.
  std::string MemoryText() const;
  size_t TrackedCount() const;
  size_t RecircStateCount() const;
  // Runs a revalidation pass if anything changed, then waits for the datapath to synchronise.
  void Sync();
  // Consistency check (tests, revalidator/check): every remembered megaflow re-translated now
  // must give the actions the datapath holds, within the megaflow's mask. One line per problem.
  std::vector<std::string> VerifyMegaflows();

 private:
  std::unique_ptr<Backer> b_;
};

}  // namespace sluice::ofp
