// The bridge layer's view of the configuration database: the desired state (bridges, their
// ports and interfaces, controllers, managers) built from the IDL replica of the Open_vSwitch
// database, and the pure rules that turn database values into ofproto-dpif and datapath arguments
// (datapath ids, bridge MACs, VLAN configuration, interface types -> datapath port specs).
//
// Nothing here touches the datapath or the switch; BridgeLayer (bridge.h) diffs two desired
// states' worth of configuration against what it has applied.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "datapath/dpif.h"
#include "ofproto/xlate/mac_learning.h"
#include "ofproto/xlate/xlate.h"
#include "ovsdb/idl/idl.h"
#include "sluice/result.h"

namespace sluice::bridge {

// The tables and columns switchd replicates. Every column is in both Sluice's schema and
// Debian's upstream vswitch.ovsschema 8.3.1.
std::map<std::string, std::vector<std::string>> ReplicatedColumns();

// Rows of one table, by uuid (Idl::Rows, or a plain map in tests).
using TableRows = std::function<const std::map<db::Uuid, db::IdlRow>&(const std::string& table)>;

enum class IfaceKind { kSystem, kDpdk, kInternal, kTap, kPatch, kDummy };

// Interface types switchd implements, as advertised in Open_vSwitch.iface_types.
std::vector<std::string> SupportedIfaceTypes();
// "" and "system" -> kSystem ...; anything else is an error naming the type.
Result<IfaceKind> ClassifyIfaceType(const std::string& type);
// Kernel-visible interfaces (link state and ifindex come from netlink).
bool IsKernelKind(IfaceKind kind);

struct IfaceConfig {
  db::Uuid uuid;
  std::string name;
  std::string type;  // as in the database ("" = system)
  std::map<std::string, std::string> options;
  int64_t ofport_request = 0;  // 0: none
  int64_t ofport_stored = 0;   // the ofport the database holds (kept across restarts)
  std::string mac;             // Interface.mac (requested MAC, internal ports)
  int64_t mtu_request = 0;     // 0: none
  std::string config_error;    // set when the row cannot be used (e.g. bond member)
};

// Whether two configurations need the same datapath port (type, options, mac, mtu_request):
// when this changes the datapath port is recreated; ofport_request alone only re-attaches it.
bool SameDatapathConfig(const IfaceConfig& a, const IfaceConfig& b);

struct PortConfig {
  db::Uuid uuid;
  std::string name;
  std::vector<IfaceConfig> ifaces;
  ofp::PortVlan vlan;
};

struct ControllerConfig {
  db::Uuid uuid;
  std::string target;
  int max_backoff_ms = 8000;
  int probe_interval_ms = 5000;
  bool operator==(const ControllerConfig& o) const {
    return target == o.target && max_backoff_ms == o.max_backoff_ms &&
           probe_interval_ms == o.probe_interval_ms;
  }
};

struct BridgeConfig {
  db::Uuid uuid;
  std::string name;
  ofp::Mac mac{};  // other_config:hwaddr, or derived from the name
  uint64_t dpid = 0;
  bool secure = false;
  std::vector<ControllerConfig> controllers;  // sorted by target
  std::map<std::string, PortConfig> ports;    // by Port name
};

// Switch-wide tuning from the Open_vSwitch row's other_config (Open vSwitch's keys and defaults).
struct DatapathTuning {
  // max-idle: milliseconds an upcall-installed megaflow may stay unused (at least 500).
  int64_t max_idle_ms = 10000;
  // flow-limit, or Sluice's max-megaflows (which wins when both are set): megaflows the upcall
  // handler installs at most; beyond it packets are executed without installing one.
  size_t max_megaflows = 200000;
  bool operator==(const DatapathTuning&) const = default;
};

struct DesiredConfig {
  std::optional<db::Uuid> root;  // the Open_vSwitch row, if any
  int64_t next_cfg = 0;
  DatapathTuning tuning;
  std::map<std::string, BridgeConfig> bridges;  // by name
  std::set<std::string> managers;               // Manager targets
  // Interfaces named by more than one bridge/port: name -> why they were left out.
  std::map<std::string, std::string> rejected;
  std::vector<std::string> warnings;
};

DesiredConfig BuildDesiredConfig(const TableRows& rows);

// "aa:bb:cc:dd:ee:ff" (case-insensitive).
std::optional<ofp::Mac> ParseMac(const std::string& text);
std::string FormatMac(const ofp::Mac& mac);
// A stable, locally administered unicast MAC for a bridge without other_config:hwaddr.
ofp::Mac DefaultBridgeMac(const std::string& bridge);
// other_config:datapath-id: exactly 16 hex digits, optionally prefixed by 0x.
std::optional<uint64_t> ParseDatapathId(const std::string& text);
uint64_t DatapathIdFromMac(const ofp::Mac& mac);
std::string FormatDatapathId(uint64_t dpid);  // 16 lowercase hex digits

// The Port table's tag / trunks / vlan_mode as NORMAL uses them; problems go to *warning.
// dot1q-tunnel takes cvlans and other_config:qinq-ethtype. A vlan_mode this datapath cannot
// honour goes to *error when given (the port's interfaces are then refused with it), else to
// *warning.
ofp::PortVlan VlanFromPortRow(const db::IdlRow& port, std::string* warning,
                              std::string* error = nullptr);

// The datapath port for an interface (not for patch ports).
Result<dp::PortSpec> DatapathPortSpec(const IfaceConfig& iface, IfaceKind kind);

}  // namespace sluice::bridge
