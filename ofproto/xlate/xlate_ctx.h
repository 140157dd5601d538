// Internal to ofproto/xlate: the translation context (one per Translate() call) and the
// OpenFlow 1.3 action set. Its methods live in one file per job:
//   xlate.cc         the pipeline: tables, instructions, the simple actions, Translate()
//   xlate_commit.cc  set-field and the commit of the OpenFlow view into datapath set actions
//   xlate_output.cc  outputs (ports, patch ports, the controller) and groups
//   xlate_normal.cc  the NORMAL action
//   xlate_mpls.cc    the MPLS actions
//   xlate_recirc.cc  freezing and resuming across recirculation; the packet-in and
//                    recirculation registries
//   xlate_fields.cc  datapath key <-> OpenFlow field conversion
#pragma once

#include <arpa/inet.h>
#include <endian.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "ofproto/group/group_table.h"
#include "ofproto/ofproto.h"
#include "ofproto/text/ofp_text.h"
#include "ofproto/xlate/xlate.h"

namespace sluice::ofp::xlate_internal {

inline constexpr int kMaxDepth = 64;  // nesting of patch ports, groups and output:TABLE
inline constexpr uint16_t kEthIp = 0x0800;
inline constexpr uint16_t kEthIpv6 = 0x86dd;
inline constexpr uint16_t kEthArp = 0x0806;
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;
inline constexpr uint8_t kNdSolicit = 135;
inline constexpr uint8_t kNdAdvert = 136;
inline constexpr uint16_t kVlanPresent = 0x1000;  // OFPVID_PRESENT == the key's CFI bit
// Port config bits (OFPPC_*).
inline constexpr uint32_t kPortDown = 0x1;
inline constexpr uint32_t kNoFwd = 0x20;
inline constexpr uint32_t kNoPacketIn = 0x40;
inline constexpr uint16_t kInvalidTtlToController = 0x4;  // OFPC_INVALID_TTL_TO_CONTROLLER

inline uint16_t N16(uint16_t be) { return ntohs(be); }
inline uint16_t B16(uint16_t h) { return htons(h); }

inline bool IsIpType(uint16_t et) { return et == kEthIp || et == kEthIpv6; }
inline bool IsMpls(uint16_t et) { return dp::IsMplsEthType(et); }
inline bool HasTag(const dp::VlanHdr& v) { return v.tpid != 0; }

// The action set of OpenFlow 1.3 §5.10: at most one action of each type, run in a fixed order.
struct ActionSet {
  bool pop_vlan = false;
  std::optional<ActPopMpls> pop_mpls;
  std::optional<ActPushMpls> push_mpls;
  std::optional<ActPushVlan> push_vlan;
  bool dec_mpls_ttl = false;
  bool dec_ttl = false;
  std::optional<ActSetMplsTtl> set_mpls_ttl;
  std::optional<ActSetNwTtl> set_ttl;
  std::map<OxmField, ActSetField> set_fields;
  std::optional<ActSetQueue> queue;
  std::optional<ActGroup> group;
  std::optional<ActOutput> output;
  std::vector<Action> unsupported;  // PBB, copy-TTL, experimenter (refused at flow-mod time)

  void Clear() { *this = ActionSet{}; }
  void Write(const ActionList& list) {
    for (const auto& a : list) {
      if (std::holds_alternative<ActPopVlan>(a)) {
        pop_vlan = true;
      } else if (auto* p = std::get_if<ActPushVlan>(&a)) {
        push_vlan = *p;
      } else if (auto* pm = std::get_if<ActPopMpls>(&a)) {
        pop_mpls = *pm;
      } else if (auto* pu = std::get_if<ActPushMpls>(&a)) {
        push_mpls = *pu;
      } else if (std::holds_alternative<ActDecMplsTtl>(a)) {
        dec_mpls_ttl = true;
      } else if (auto* mt = std::get_if<ActSetMplsTtl>(&a)) {
        set_mpls_ttl = *mt;
      } else if (std::holds_alternative<ActDecNwTtl>(a)) {
        dec_ttl = true;
      } else if (auto* t = std::get_if<ActSetNwTtl>(&a)) {
        set_ttl = *t;
      } else if (auto* sf = std::get_if<ActSetField>(&a)) {
        set_fields[sf->field.field] = *sf;
      } else if (auto* q = std::get_if<ActSetQueue>(&a)) {
        queue = *q;
      } else if (auto* g = std::get_if<ActGroup>(&a)) {
        group = *g;
      } else if (auto* o = std::get_if<ActOutput>(&a)) {
        output = *o;
      } else {
        unsupported.push_back(a);
      }
    }
  }
  // Spec order: copy TTL in, pop, push-MPLS, push-PBB, push-VLAN, copy TTL out, dec TTL, set,
  // qos, group (and then no output), output.
  ActionList ToList() const {
    ActionList out(unsupported.begin(), unsupported.end());
    if (pop_vlan) out.push_back(ActPopVlan{});
    if (pop_mpls) out.push_back(*pop_mpls);
    if (push_mpls) out.push_back(*push_mpls);
    if (push_vlan) out.push_back(*push_vlan);
    if (dec_mpls_ttl) out.push_back(ActDecMplsTtl{});
    if (dec_ttl) out.push_back(ActDecNwTtl{});
    if (set_mpls_ttl) out.push_back(*set_mpls_ttl);
    if (set_ttl) out.push_back(*set_ttl);
    for (const auto& [f, sf] : set_fields) out.push_back(sf);
    if (queue) out.push_back(*queue);
    if (group) {
      out.push_back(*group);
    } else if (output) {
      out.push_back(*output);
    }
    return out;
  }
};

class Ctx {
 public:
  Ctx(const XlateEnv& env, const XlateInput& in, XlateResult& r);

  void Run();

 private:
  void Trace(const std::string& s);
  void Fail(const std::string& why);

  // ---- the pipeline ----
  void RunPipeline(uint8_t table_id);

  // Table lookups from `table_id` on. With `resumed` (a rule whose apply-actions already ran,
  // before a recirculation) the loop starts with that rule's remaining instructions.
  void PipelineLoop(uint8_t table_id, const Rule* resumed, ActionSet& aset);

  // The meter instruction: the datapath meters (and may drop or remark) the packet from here on.
  void Meter(uint32_t meter_id);

  void ExecuteList(const ActionList& list);

  // ---- recirculation (freezing) ----
  // Which top-level action list is running, so that a freeze knows what is left to do.
  enum class ListKind : uint8_t { kNone, kApply, kActionSet, kPacketOut };
  struct ListPos {
    ListKind kind = ListKind::kNone;
    ActionSet* aset = nullptr;
    const ActionList* actions = nullptr;
    size_t index = 0;
  };
  class ListScope {
   public:
    ListScope(Ctx* c, ListKind kind, ActionSet* aset, const ActionList* actions)
        : c_(c), saved_(c->list_) {
      c->list_ = ListPos{kind, aset, actions, 0};
    }
    ~ListScope() { c_->list_ = saved_; }
    ListScope(const ListScope&) = delete;
    ListScope& operator=(const ListScope&) = delete;

   private:
    Ctx* c_;
    ListPos saved_;
  };

  // True if the headers beyond L2 are known; otherwise the translation is frozen here (the
  // action that needs them runs after the recirculation) and false is returned.
  bool Known(const char* what);

  void FreezeAtTable(uint8_t table_id, const ActionSet& aset);

  FrozenState BaseFrozen() const;

  void Recirculate(const FrozenState& f);

  void Resume(uint32_t id);

  // Rebuilds the OpenFlow view of the packet from the current key (after push/pop MPLS moved
  // which fields exist), keeping the pipeline metadata.
  void SyncFlowFromKey();

  void Do(const ActOutput& a);
  void Do(const ActGroup& a);
  void Do(const ActSetField& a);
  void Do(const ActPushVlan& a);
  void Do(const ActPopVlan&);
  void Do(const ActDecNwTtl&);
  void Do(const ActSetNwTtl& a);
  void Do(const ActSetQueue& a);
  // ---- MPLS ----
  void Do(const ActPushMpls& a);
  void Do(const ActPopMpls& a);
  void Do(const ActSetMplsTtl& a);
  void Do(const ActDecMplsTtl&);

  // A group bucket or a patch port works on a copy of the packet: MPLS pushes and pops done
  // there are undone in the datapath packet afterwards (the rest is reconciled by Commit).
  struct MplsMark {
    size_t log_size;
    std::vector<dp::FlowKey> pushed;
    bool l3_unknown;
  };
  MplsMark MarkMpls() const { return {mpls_log_.size(), pushed_, l3_unknown_}; }
  void UndoMpls(const MplsMark& mark);

  // Whether an output to `port` runs more OpenFlow tables (which may look past L2).
  bool OutputNeedsInner(uint32_t port) const;

  template <class A>
  void Do(const A&) {
    Fail("action not supported by the datapath (PBB, copy-TTL or experimenter)");
    stopped_ = true;
  }

  // ---- fields ----
  void UnwildcardVlans() { std::memset(&r_.mask.bits.vlans, 0xff, sizeof(r_.mask.bits.vlans)); }
  void SyncVlanFields();

  void SetField(const OxmEntry& e);

  // Emits the datapath actions that turn the packet as already emitted (base_) into the packet
  // the OpenFlow actions have described so far (cur_).
  void Commit();

  // The ARP part of Commit(). The opcode's full 16 bits come from flow_ (the key has 8): a
  // set_field to a value above 255 is emitted at every commit, which is harmless, but one that
  // turns an opcode above 255 into 0 is not seen (both keys say 0).
  void CommitArp();

  // ---- outputs ----
  uint32_t PortCfg(uint32_t ofport) const { return br_->ofproto->PortConfig(ofport); }

  void Output(uint32_t port, uint16_t max_len);

  void OutputTo(const XPort& p, bool allow_in_port);

  bool Enter();
  void Leave() { --depth_; }

  // Output to a patch port: the packet enters the peer bridge at once, as a clone.
  void PatchOutput(const XPort& p);

  void PacketIn(PacketInReason reason, uint16_t max_len);

  // ---- groups ----
  bool PortLive(uint32_t ofport) const;

  void RunGroup(uint32_t group_id);

  // Select groups hash the L2-L4 addresses present in the packet (ARP: the protocol addresses)
  // and un-wildcard exactly those.
  uint32_t SelectHash();

  // ---- NORMAL: an L2 learning switch with VLANs ----
  void Normal();

  // `tunnel_in`: the dot1q-tunnel port the frame came in on (its outer tag is pushed here).
  void NormalOutput(const XPort& p, uint16_t vlan, const XPort* tunnel_in);

  const XlateEnv& env_;
  const XlateInput& in_;
  XlateResult& r_;
  XBridge* br_;
  uint32_t in_ofport_;
  dp::FlowKey base_, cur_;
  FieldValues flow_;
  FieldMask wc_;
  const Rule* rule_ = nullptr;
  uint8_t table_id_ = 0;
  int depth_ = 0;
  bool stopped_ = false;
  // After pop_mpls of an entry this translation did not push: the headers that follow are not
  // in the key, so whatever needs them waits for a recirculation.
  bool l3_unknown_ = false;
  std::vector<dp::FlowKey> pushed_;  // the key before each push_mpls not yet popped
  struct MplsOp {
    bool push;
    dp::FlowKey before;  // the emitted packet (base_) just before the push or pop
  };
  std::vector<MplsOp> mpls_log_;
  ListPos list_;
};

}  // namespace sluice::ofp::xlate_internal
