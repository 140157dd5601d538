// The state the parts of ofproto-dpif share (Open vSwitch calls the per-datapath part of
// ofproto-dpif the "backer"): the bridges on the datapath, the port maps between OpenFlow and
// datapath ports, the packet-in and recirculation registries, the installed megaflows, the
// counters, the ofproto-dpif lock that guards all of them, and the parts themselves (upcall
// handler, revalidator, statistics push, datapath meters). Internal to ofproto/dpif/.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include <asio.hpp>

#include "common/ordered_mutex.h"
#include "datapath/dpif.h"
#include "ofproto/dpif/megaflows.h"
#include "ofproto/dpif/meters.h"
#include "ofproto/dpif/ofproto_dpif.h"
#include "ofproto/dpif/revalidator.h"
#include "ofproto/dpif/stats.h"
#include "ofproto/dpif/upcall.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate/mac_learning.h"
#include "ofproto/xlate/xlate.h"

namespace sluice::ofp {

struct PortRec {
  BridgePortSpec spec;
  bool link_up = true;
};

// What each Ofproto asks of ofproto-dpif (OfprotoHooks), for one bridge.
class BridgeHooks final : public OfprotoHooks {
 public:
  BridgeHooks(Backer& b, BridgeState& br) : b_(b), br_(br) {}
  std::unique_lock<OrderedMutex> Lock() override;
  void Changed() override;
  void Sync() override;
  std::optional<OfpError> PacketOut(const ofp::PacketOut& po) override;
  void RefreshStats() override;
  std::optional<OfpError> MeterSet(const Meter& m) override;
  void MeterDel(uint32_t meter_id) override;

 private:
  Backer& b_;
  BridgeState& br_;
};

// One bridge.
struct BridgeState {
  std::unique_ptr<Ofproto> ofp;
  std::unique_ptr<BridgeHooks> hooks;
  XBridge x;
  MacLearning mac;
  std::map<std::string, PortRec> ports;  // by port name
  bool secure = false;
  // The bridge's meters in the datapath, and their counters as last credited to the OpenFlow
  // meter table.
  struct MeterRec {
    uint32_t dp_id = 0;
    dp::MeterCount in;
    std::vector<dp::MeterCount> bands;
  };
  std::map<uint32_t, MeterRec> meters;  // by OpenFlow meter id
};

class Backer {
 public:
  Backer(asio::io_context& io, dp::Dpif& dpif, std::string rundir, OfprotoDpifOptions cfg);

  // ---- fixed at construction ----
  asio::io_context& io;
  dp::Dpif& dpif;
  const std::string rundir;
  const dp::DpifLimits limits;

  // ---- guarded by mu ----
  mutable OrderedMutex mu{kLockLevelOfprotoDpif, "ofproto-dpif"};
  OfprotoDpifOptions cfg;
  std::map<std::string, std::unique_ptr<BridgeState>> bridges;
  std::unordered_map<std::string, XBridge*> xbridges;  // by name, for xlate
  // Datapath port -> (bridge, ofport); rebuilt on port changes.
  std::unordered_map<OdpPort, std::pair<BridgeState*, uint32_t>> by_dp_port;
  PacketInRegistry pin_registry;
  RecircRegistry recirc_registry;
  MegaflowTable megaflows;
  OfprotoDpifCounters ctr;
  // Expires when ofproto-dpif goes: work posted to the control loop checks it first.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  // ---- the parts ----
  Revalidator reval{*this};
  UpcallHandler upcalls{*this};
  StatsPusher stats{*this};
  DpMeters meters{*this};

  // ---- helpers (lock held) ----
  BridgeState* BridgeOf(const std::string& name) const;
  XlateEnv EnvLocked();
  // The bridge and OpenFlow input port a datapath key enters (a recirculated key: those of its
  // frozen translation).
  bool ResolveInputLocked(const dp::FlowKey& key, XBridge** br, uint32_t* ofport) const;
  // The bridge's ports changed: its XBridge and Ofproto port list are rebuilt, then the maps.
  void PublishPortsLocked(BridgeState& br);
  // Rebuilds by_dp_port, patch peers and xbridges from the bridges' ports.
  void RebuildLocked();
};

}  // namespace sluice::ofp
