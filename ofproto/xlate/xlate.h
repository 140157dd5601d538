// Translation: a packet's datapath flow key run through a bridge's OpenFlow pipeline, yielding
// datapath actions and the megaflow mask (every key bit that a consulted rule, group or
// decision looked at), plus the packet-ins it raises and the rules it used.
//
// The translator keeps two views of the packet: `flow`, the OpenFlow field values the tables
// see (modified by set-field, push/pop VLAN ...), and the datapath key as the actions emitted
// so far leave it. Before every output the difference is committed as datapath set/push/pop
// actions, so a rewrite costs one masked set however many set-fields produced it.
//
// Pure with respect to the datapath: it reads the bridges and their tables (caller holds the
// ofproto-dpif lock), may learn MAC addresses (XlateInput::learn) and registers packet-in contexts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "datapath/actions/action_list.h"
#include "datapath/flow/flow_key.h"
#include "ofproto/codec/messages.h"
#include "ofproto/table/field_values.h"
#include "ofproto/table/flow_table.h"
#include "ofproto/table/rule.h"
#include "ofproto/xlate/mac_learning.h"
#include "sluice/odp_port.h"

namespace sluice::ofp {

class Ofproto;
class Group;

// Port VLAN configuration for NORMAL (the Port table's tag, trunks and vlan_mode).
// kDot1qTunnel (802.1ad QinQ, as Open vSwitch): every frame entering the port, tagged or not,
// gets an outer tag (TPID qinq_tpid, VID tag) and belongs to VLAN `tag`; leaving through such a
// port the outer tag is removed. `cvlans` limits the inner (customer) VLANs accepted (0 =
// untagged; empty = all).
struct PortVlan {
  enum class Mode : uint8_t { kTrunk, kAccess, kNativeTagged, kNativeUntagged, kDot1qTunnel };
  Mode mode = Mode::kTrunk;
  int tag = -1;                  // access / native / tunnel VLAN, -1 = none
  std::vector<uint16_t> trunks;  // empty = all VLANs (trunk modes)
  std::vector<uint16_t> cvlans;  // dot1q-tunnel: customer VLANs accepted, empty = all
  uint16_t qinq_tpid = 0x88a8;   // dot1q-tunnel: the outer tag's TPID (or 0x8100)
  // Whether frames of `vlan` (0 = untagged/native) may use this port.
  bool Includes(uint16_t vlan) const;
  bool operator==(const PortVlan&) const = default;
};

struct XBridge;

struct XPort {
  uint32_t ofport = 0;
  OdpPort dp_port = kOdpPortNone;  // none: a patch port
  std::string name;
  XBridge* peer_bridge = nullptr;  // patch ports: where output continues
  uint32_t peer_ofport = 0;
  PortVlan vlan;
  bool link_up = true;
};

// One bridge as the translator sees it.
struct XBridge {
  std::string name;
  Ofproto* ofproto = nullptr;
  std::map<uint32_t, XPort> ports;  // by OpenFlow port number
  MacLearning* mac = nullptr;
  // OpenFlow meter id -> datapath meter id, for the meter instruction (kept by ofproto-dpif).
  std::unordered_map<uint32_t, uint32_t> dp_meters;
  const XPort* Port(uint32_t ofport) const {
    auto it = ports.find(ofport);
    return it == ports.end() ? nullptr : &it->second;
  }
};

// Why and how a packet goes to the controller; the datapath's userspace action carries only an
// id into this registry.
struct PacketInContext {
  std::string bridge;
  PacketInReason reason = PacketInReason::kAction;
  uint8_t table_id = 0;
  uint64_t cookie = 0;
  uint16_t max_len = 0xffff;
  uint32_t in_port = 0;  // OpenFlow port in that bridge
  uint64_t metadata = 0;
  uint64_t tunnel_id = 0;
  bool operator==(const PacketInContext&) const = default;
};

class PacketInRegistry {
 public:
  static constexpr size_t kMax = 1 << 20;
  // Id for ctx (deduplicated); 0 when the registry is full.
  uint32_t Intern(const PacketInContext& ctx);
  const PacketInContext* Find(uint32_t id) const;
  size_t size() const { return ctxs_.size(); }

 private:
  std::vector<PacketInContext> ctxs_;  // id - 1
  std::unordered_multimap<uint64_t, uint32_t> index_;
};

// The datapath userspace() pid that marks "to the controller".
inline constexpr uint32_t kUserspacePidController = 1;

// A translation frozen because the rest of it needs headers the datapath key does not show
// (after pop_mpls the L3 header is known only once the packet has been parsed again): the
// datapath recirculates the packet with recirc_id = the state's id, and the miss resumes here.
struct FrozenState {
  enum class Stage : uint8_t {
    kApply,      // `actions` are the rest of `rule`'s apply-actions; then its other instructions
    kTable,      // continue with the lookup in `next_table`
    kActionSet,  // `actions` are the rest of the action set being executed
    kPacketOut,  // `actions` are the rest of a packet-out's actions
  };
  std::string bridge;
  uint32_t in_ofport = 0;
  uint64_t metadata = 0;
  Stage stage = Stage::kTable;
  uint8_t table_id = 0;  // the table of `rule` (packet-in table_id), or of the goto_table
  std::shared_ptr<const Rule> rule;
  ActionList actions;
  ActionList action_set;  // the action set accumulated so far (kApply, kTable)
  bool operator==(const FrozenState&) const = default;
};

// Frozen states by id. An id is handed out once (ids only grow, skipping 0 and live ids when
// they wrap), so a megaflow the datapath may still hold never resumes someone else's state.
// ofproto-dpif drops the states no megaflow names any more (Sweep) after a grace period, so that a
// packet between its two passes still finds its state.
class RecircRegistry {
 public:
  static constexpr size_t kMax = 1 << 20;
  // Id for the state (deduplicated, never 0); 0 when the registry is full. Interning counts as a
  // use at now_ms.
  uint32_t Intern(const FrozenState& state, int64_t now_ms = 0);
  // Stable until the state is swept.
  const FrozenState* Find(uint32_t id) const;
  // Drops the states whose ids are not in `keep` and that were not interned or kept within
  // grace_ms before now_ms; the kept ones count as used now. Returns how many were dropped.
  size_t Sweep(const std::unordered_set<uint32_t>& keep, int64_t now_ms, int64_t grace_ms);
  size_t size() const { return states_.size(); }

 private:
  struct Entry {
    FrozenState state;
    uint64_t hash = 0;
    int64_t used_ms = 0;
  };
  std::unordered_map<uint32_t, Entry> states_;
  std::unordered_multimap<uint64_t, uint32_t> index_;
  uint32_t next_id_ = 1;
};

struct PacketInEvent {
  PacketInContext ctx;
  // Packet bytes are taken from the datapath (the packet as the actions left it).
};

struct XlateInput {
  XBridge* bridge = nullptr;
  // As parsed; key.in_port is the datapath port. A non-zero key.recirc_id resumes that frozen
  // state (env.recirc), whose bridge and input port then replace `bridge` and `in_ofport`.
  dp::FlowKey key;
  uint32_t in_ofport = 0;  // OpenFlow port in `bridge` (kPortController for packet-out)
  bool learn = true;       // update MAC learning (not for revalidation or trace)
  bool count = true;       // count table lookups (a real packet, not revalidation or trace)
  std::string* trace = nullptr;
  // Packet-out: run these actions instead of the pipeline.
  const ActionList* actions = nullptr;
  int64_t now_ms = 0;
  Version version = kVersionNever;  // kVersionNever: each bridge's current version
};

// A (bridge, VLAN, MAC) that NORMAL learned or flooded for.
struct MacRef {
  XBridge* bridge = nullptr;
  uint16_t vlan = 0;
  Mac mac{};
};

struct XlateResult {
  dp::ActionBuilder actions;
  dp::FlowMask mask;
  std::vector<std::shared_ptr<const Rule>> rules;   // every rule the packet hit, for statistics
  std::vector<std::pair<FlowTable*, bool>> tables;  // tables looked up, and whether matched
  std::vector<MacRef> learned;                      // new or moved MAC entries
  std::vector<MacRef> flooded;                      // destinations NORMAL did not know
  std::vector<std::pair<std::shared_ptr<const Group>, int>> groups;  // group, bucket (-1: all)
  bool mac_moved = false;   // learning moved a MAC: megaflows need revalidation
  bool no_install = false;  // the result must not be cached (e.g. depth limit hit)
  bool error = false;
  std::string error_text;
};

struct XlateEnv {
  PacketInRegistry* registry = nullptr;
  RecircRegistry* recirc = nullptr;  // without one, a translation that must recirculate fails
  std::unordered_map<std::string, XBridge*>* bridges = nullptr;  // by name (for traces)
};

XlateResult Translate(const XlateEnv& env, const XlateInput& in);

// OpenFlow field values of a datapath key (in_port replaced by the OpenFlow port).
FieldValues FieldsFromKey(const dp::FlowKey& key, uint32_t in_ofport);
// The datapath key of a packet with the values an OpenFlow match gives (masked fields take
// value & mask; everything else zero), for ofproto/trace in flow syntax. in_port is left 0.
dp::FlowKey KeyFromMatch(const Match& match);
// OR the datapath bits behind the OpenFlow mask `wc` into *mask.
void AddFieldMaskToFlowMask(const FieldMask& wc, dp::FlowMask* mask);

}  // namespace sluice::ofp
