#include "ofproto/xlate/xlate.h"

#include <arpa/inet.h>
#include <endian.h>

#include <fmt/format.h>
#include <algorithm>
#include <cstring>
#include <optional>

#include "ofproto/group/group_table.h"
#include "ofproto/ofproto.h"
#include "ofproto/text/ofp_text.h"

namespace sluice::ofp {
namespace {

constexpr int kMaxDepth = 64;  // nesting of patch ports, groups and output:TABLE
constexpr uint16_t kEthIp = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthArp = 0x0806;
constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoIcmpv6 = 58;
constexpr uint8_t kNdSolicit = 135;
constexpr uint8_t kNdAdvert = 136;
constexpr uint16_t kVlanPresent = 0x1000;  // OFPVID_PRESENT == the key's CFI bit
// Port config bits (OFPPC_*).
constexpr uint32_t kPortDown = 0x1;
constexpr uint32_t kNoFwd = 0x20;
constexpr uint32_t kNoPacketIn = 0x40;
constexpr uint16_t kInvalidTtlToController = 0x4;  // OFPC_INVALID_TTL_TO_CONTROLLER

uint16_t N16(uint16_t be) { return ntohs(be); }
uint16_t B16(uint16_t h) { return htons(h); }

bool IsIpType(uint16_t et) { return et == kEthIp || et == kEthIpv6; }
bool IsMpls(uint16_t et) { return dp::IsMplsEthType(et); }
bool HasTag(const dp::VlanHdr& v) { return v.tpid != 0; }

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
  Ctx(const XlateEnv& env, const XlateInput& in, XlateResult& r) : env_(env), in_(in), r_(r) {
    base_ = cur_ = in.key;
    flow_ = FieldsFromKey(in.key, in.in_ofport);
    br_ = in.bridge;
    in_ofport_ = in.in_ofport;
    r_.mask.Clear();
    r_.mask.bits.in_port = UINT32_MAX;
    r_.mask.bits.recirc_id = UINT32_MAX;
  }

  void Run() {
    if (in_.key.recirc_id != 0) {
      Resume(in_.key.recirc_id);
    } else if (in_.actions) {
      Trace("packet-out actions");
      ListScope scope(this, ListKind::kPacketOut, nullptr, in_.actions);
      ExecuteList(*in_.actions);
    } else {
      RunPipeline(0);
    }
    AddFieldMaskToFlowMask(wc_, &r_.mask);
  }

 private:
  void Trace(const std::string& s) {
    if (in_.trace) *in_.trace += std::string(depth_ * 4 + 4, ' ') + s + "\n";
  }
  void Fail(const std::string& why) {
    r_.error = true;
    if (r_.error_text.empty()) r_.error_text = why;
    Trace("error: " + why);
  }

  // ---- the pipeline ----
  void RunPipeline(uint8_t table_id) {
    if (table_id == 0 && br_->ofproto->fail_open()) {
      // A standalone bridge out of touch with its controllers: the hidden fail-open flow, above
      // every OpenFlow priority, sends everything to NORMAL.
      Trace(fmt::format("{}: fail-open: hidden catch-all flow, actions=NORMAL", br_->name));
      Output(kPortNormal, 0);
      return;
    }
    ActionSet aset;
    PipelineLoop(table_id, nullptr, aset);
  }

  // Table lookups from `table_id` on. With `resumed` (a rule whose apply-actions already ran,
  // before a recirculation) the loop starts with that rule's remaining instructions.
  void PipelineLoop(uint8_t table_id, const Rule* resumed, ActionSet& aset) {
    Pipeline& pl = br_->ofproto->mutable_pipeline();
    Version v = in_.version == kVersionNever ? pl.version() : in_.version;
    while (!stopped_) {
      const Rule* rule = resumed;
      if (resumed) {
        resumed = nullptr;
        table_id = table_id_;
      } else {
        FlowTable* t = pl.table(table_id);
        if (!t) break;
        rule = t->classifier().Lookup(flow_, v, &wc_);
        if (in_.count) t->CountLookups(1, rule ? 1 : 0);
        r_.tables.emplace_back(t, rule != nullptr);
        if (!rule) {
          Trace(fmt::format("{}: table {}: no match, packet dropped", br_->name, table_id));
          break;
        }
        r_.rules.push_back(rule->shared_from_this());
        // As ovs-appctl ofproto/trace: the rule's match and priority, then its instructions.
        std::string match = text::FormatMatch(rule->match);
        Trace(fmt::format("{}: table {}: {}{}priority {}{}", br_->name, table_id, match,
                          match.empty() ? "" : ", ", rule->priority,
                          rule->cookie ? fmt::format(", cookie {:#x}", rule->cookie) : ""));
        Trace("    " + text::FormatInstructions(rule->instructions));
        table_id_ = table_id;
        rule_ = rule;
        // Instructions run in the spec's order whatever their order in the flow mod: the meter
        // first (OpenFlow 1.3 §5.9), so it sees the packet before this rule's actions.
        for (const auto& inst : rule->instructions) {
          if (auto* m = std::get_if<InstMeter>(&inst)) Meter(m->meter_id);
        }
        if (stopped_) break;
        for (const auto& inst : rule->instructions) {
          if (auto* a = std::get_if<InstApplyActions>(&inst)) {
            ListScope scope(this, ListKind::kApply, &aset, &a->actions);
            ExecuteList(a->actions);
          }
        }
        if (stopped_) break;
      }
      std::optional<uint8_t> next;
      for (const auto& inst : rule->instructions) {
        if (std::holds_alternative<InstClearActions>(inst)) aset.Clear();
      }
      for (const auto& inst : rule->instructions) {
        if (auto* w = std::get_if<InstWriteActions>(&inst)) aset.Write(w->actions);
      }
      for (const auto& inst : rule->instructions) {
        if (auto* m = std::get_if<InstWriteMetadata>(&inst)) {
          uint64_t md = flow_.Get(OxmField::kMetadata);
          flow_.Set(OxmField::kMetadata, (md & ~m->mask) | (m->metadata & m->mask));
        } else if (auto* g = std::get_if<InstGotoTable>(&inst)) {
          next = g->table_id;
        }
      }
      if (!next || *next <= table_id) break;
      table_id = *next;
      if (l3_unknown_) {  // the lookup may match on the headers after the popped MPLS entry
        FreezeAtTable(table_id, aset);
        return;
      }
    }
    if (stopped_) return;
    ActionList set = aset.ToList();
    if (!set.empty()) {
      Trace("action set:");
      ListScope scope(this, ListKind::kActionSet, nullptr, &set);
      ExecuteList(set);
    }
  }

  // The meter instruction: the datapath meters (and may drop or remark) the packet from here on.
  void Meter(uint32_t meter_id) {
    auto it = br_->dp_meters.find(meter_id);
    if (it == br_->dp_meters.end()) {
      // The meter is gone (its flows go with it): nothing passes unmetered meanwhile.
      Fail(fmt::format("meter:{}: no such meter in the datapath", meter_id));
      stopped_ = true;
      return;
    }
    r_.actions.Meter(it->second);
    Trace(fmt::format("meter:{}", meter_id));
  }

  void ExecuteList(const ActionList& list) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (stopped_) return;
      if (list_.actions == &list) list_.index = i;
      std::visit([this](const auto& act) { Do(act); }, list[i]);
    }
  }

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
  bool Known(const char* what) {
    if (!l3_unknown_) return true;
    FrozenState f = BaseFrozen();
    const ListPos& lp = list_;
    if (depth_ != 0 || lp.kind == ListKind::kNone || !lp.actions) {
      Fail(
          fmt::format("{} after pop_mpls needs a recirculation, which is not supported inside a "
                      "group, patch port or output:TABLE",
                      what));
      stopped_ = true;
      return false;
    }
    f.actions.assign(lp.actions->begin() + static_cast<std::ptrdiff_t>(lp.index),
                     lp.actions->end());
    switch (lp.kind) {
      case ListKind::kApply:
        f.stage = FrozenState::Stage::kApply;
        f.rule = rule_ ? rule_->shared_from_this() : nullptr;
        if (lp.aset) f.action_set = lp.aset->ToList();
        break;
      case ListKind::kActionSet:
        f.stage = FrozenState::Stage::kActionSet;
        break;
      default:
        f.stage = FrozenState::Stage::kPacketOut;
        break;
    }
    Trace(fmt::format("{} needs the headers after the popped MPLS entry", what));
    Recirculate(f);
    return false;
  }

  void FreezeAtTable(uint8_t table_id, const ActionSet& aset) {
    if (depth_ != 0) {
      Fail(
          "goto_table after pop_mpls needs a recirculation, which is not supported inside a "
          "patch port or output:TABLE");
      stopped_ = true;
      return;
    }
    FrozenState f = BaseFrozen();
    f.stage = FrozenState::Stage::kTable;
    f.table_id = table_id;
    f.action_set = aset.ToList();
    Trace(fmt::format("goto_table:{} needs the headers after the popped MPLS entry", table_id));
    Recirculate(f);
  }

  FrozenState BaseFrozen() const {
    FrozenState f;
    f.bridge = br_->name;
    f.in_ofport = in_ofport_;
    f.metadata = flow_.Get(OxmField::kMetadata);
    f.table_id = table_id_;
    return f;
  }

  void Recirculate(const FrozenState& f) {
    stopped_ = true;
    uint32_t id = env_.recirc ? env_.recirc->Intern(f, in_.now_ms) : 0;
    if (!id) {
      Fail("cannot recirculate (no recirculation registry, or it is full)");
      r_.no_install = true;
      return;
    }
    Commit();
    r_.actions.Recirc(id);
    Trace(fmt::format("recirc({:#x})", id));
  }

  void Resume(uint32_t id) {
    const FrozenState* f = env_.recirc ? env_.recirc->Find(id) : nullptr;
    XBridge* br = nullptr;
    if (f && env_.bridges) {
      auto it = env_.bridges->find(f->bridge);
      if (it != env_.bridges->end()) br = it->second;
    }
    if (!f || !br) {
      Fail(fmt::format("unknown recirculation id {:#x}, packet dropped", id));
      return;
    }
    br_ = br;
    in_ofport_ = f->in_ofport;
    flow_ = FieldsFromKey(in_.key, in_ofport_);
    flow_.Set(OxmField::kMetadata, f->metadata);
    table_id_ = f->table_id;
    rule_ = f->rule.get();
    // As ovs-appctl ofproto/trace prints a thawed translation.
    Trace("thaw");
    switch (f->stage) {
      case FrozenState::Stage::kApply:
        Trace(fmt::format("    Resuming from table {}, with the rest of its rule's actions",
                          f->table_id));
        break;
      case FrozenState::Stage::kTable:
        Trace(fmt::format("    Resuming from table {}", f->table_id));
        break;
      case FrozenState::Stage::kActionSet:
        Trace("    Resuming the action set");
        break;
      case FrozenState::Stage::kPacketOut:
        Trace("    Resuming the packet-out's actions");
        break;
    }
    ActionSet aset;
    aset.Write(f->action_set);
    switch (f->stage) {
      case FrozenState::Stage::kApply: {
        {
          ListScope scope(this, ListKind::kApply, &aset, &f->actions);
          ExecuteList(f->actions);
        }
        if (stopped_) return;
        if (f->rule) {
          PipelineLoop(f->table_id, f->rule.get(), aset);
        }
        return;
      }
      case FrozenState::Stage::kTable:
        PipelineLoop(f->table_id, nullptr, aset);
        return;
      case FrozenState::Stage::kActionSet: {
        ListScope scope(this, ListKind::kActionSet, nullptr, &f->actions);
        ExecuteList(f->actions);
        return;
      }
      case FrozenState::Stage::kPacketOut: {
        ListScope scope(this, ListKind::kPacketOut, nullptr, &f->actions);
        ExecuteList(f->actions);
        return;
      }
    }
  }

  // Rebuilds the OpenFlow view of the packet from the current key (after push/pop MPLS moved
  // which fields exist), keeping the pipeline metadata.
  void SyncFlowFromKey() {
    uint64_t md = flow_.Get(OxmField::kMetadata);
    flow_ = FieldsFromKey(cur_, in_ofport_);
    flow_.Set(OxmField::kMetadata, md);
  }

  void Do(const ActOutput& a) {
    if (l3_unknown_ && OutputNeedsInner(a.port) && !Known("output")) return;
    Output(a.port, a.max_len);
  }
  void Do(const ActGroup& a) {
    if (!Known("group")) return;
    RunGroup(a.group_id);
  }
  void Do(const ActSetField& a) {
    bool l2 = a.field.field == OxmField::kEthDst || a.field.field == OxmField::kEthSrc ||
              a.field.field == OxmField::kVlanVid || a.field.field == OxmField::kVlanPcp;
    if (!l2 && !Known("set_field")) return;
    SetField(a.field);
  }
  void Do(const ActPushVlan& a) {
    UnwildcardVlans();
    if (HasTag(cur_.vlans[1])) {
      Fail("push_vlan: more than two VLAN tags");
      return;
    }
    uint16_t tci = HasTag(cur_.vlans[0]) ? cur_.vlans[0].tci : B16(kVlanPresent);
    cur_.vlans[1] = cur_.vlans[0];
    cur_.vlans[0] = dp::VlanHdr{B16(a.ethertype), tci};
    SyncVlanFields();
    Trace(fmt::format("push_vlan:{:#06x}", a.ethertype));
  }
  void Do(const ActPopVlan&) {
    UnwildcardVlans();
    if (!HasTag(cur_.vlans[0])) return;
    cur_.vlans[0] = cur_.vlans[1];
    cur_.vlans[1] = dp::VlanHdr{};
    SyncVlanFields();
    Trace("pop_vlan");
  }
  void Do(const ActDecNwTtl&) {
    if (!Known("dec_ttl")) return;
    uint16_t et = N16(cur_.eth_type);
    r_.mask.bits.eth_type = UINT16_MAX;
    if (!IsIpType(et)) return;
    r_.mask.bits.nw_ttl = 0xff;
    if (cur_.nw_ttl <= 1) {
      Trace("dec_ttl: TTL expired, packet dropped");
      if (br_->ofproto->config().flags & kInvalidTtlToController) {
        PacketIn(PacketInReason::kInvalidTtl, 0xffff);
      }
      stopped_ = true;
      return;
    }
    --cur_.nw_ttl;
  }
  void Do(const ActSetNwTtl& a) {
    if (!Known("set_nw_ttl")) return;
    r_.mask.bits.eth_type = UINT16_MAX;
    r_.mask.bits.nw_ttl = 0xff;
    if (IsIpType(N16(cur_.eth_type))) cur_.nw_ttl = a.ttl;
  }
  void Do(const ActSetQueue& a) {
    // No QoS queues exist on Sluice ports; the packet goes out on the port's only queue.
    Trace(fmt::format("set_queue:{} (no queues: ignored)", a.queue_id));
  }
  // ---- MPLS ----
  void Do(const ActPushMpls& a) {
    if (!Known("push_mpls")) return;
    r_.mask.bits.eth_type = UINT16_MAX;
    if (!IsMpls(a.ethertype)) {
      Fail(fmt::format("push_mpls:{:#06x} is not an MPLS ethertype", a.ethertype));
      stopped_ = true;
      return;
    }
    Commit();  // pending L3 rewrites go out while the L3 header is where the key says
    uint16_t et = N16(cur_.eth_type);
    uint32_t lse;
    if (IsMpls(et)) {  // the new entry copies the outer one, without bottom of stack
      r_.mask.bits.mpls_lse = UINT32_MAX;
      lse = ntohl(cur_.mpls_lse) & ~dp::kMplsBosMask;
    } else {
      uint32_t label = et == kEthIpv6 ? 2 : 0;  // IPv6 / IPv4 explicit null, as OVS
      uint32_t tc = 0, ttl = 64;
      if (IsIpType(et)) {
        r_.mask.bits.nw_tos |= 0xfc;
        r_.mask.bits.nw_ttl = 0xff;
        tc = (cur_.nw_tos >> 2) & 7;
        if (cur_.nw_ttl) ttl = cur_.nw_ttl;
      }
      lse = label << dp::kMplsLabelShift | tc << dp::kMplsTcShift | dp::kMplsBosMask | ttl;
    }
    pushed_.push_back(cur_);
    mpls_log_.push_back({true, base_});
    cur_.eth_type = B16(a.ethertype);
    cur_.mpls_lse = htonl(lse);
    r_.actions.PushMpls(cur_.mpls_lse, cur_.eth_type);
    base_ = cur_;
    SyncFlowFromKey();
    Trace(fmt::format("push_mpls:{:#06x}", a.ethertype));
  }
  void Do(const ActPopMpls& a) {
    r_.mask.bits.eth_type = UINT16_MAX;
    if (!IsMpls(N16(cur_.eth_type))) return;  // nothing to pop
    if (!Known("pop_mpls")) return;
    Commit();
    mpls_log_.push_back({false, base_});
    r_.actions.PopMpls(B16(a.ethertype));
    dp::FlowKey inner = cur_;
    // What is under the popped entry is known only if this translation pushed that entry.
    bool known = !pushed_.empty() && N16(pushed_.back().eth_type) == a.ethertype;
    if (known) {
      inner = pushed_.back();
    } else {
      constexpr size_t kL3 = offsetof(dp::FlowKey, nw_src);
      std::memset(reinterpret_cast<uint8_t*>(&inner) + kL3, 0, sizeof(inner) - kL3);
      l3_unknown_ = true;
    }
    if (!pushed_.empty()) pushed_.pop_back();
    // L2 stays as it is now; the rest is the inner packet's.
    std::memcpy(inner.eth_dst.data(), cur_.eth_dst.data(), 6);
    std::memcpy(inner.eth_src.data(), cur_.eth_src.data(), 6);
    std::memcpy(inner.vlans, cur_.vlans, sizeof(inner.vlans));
    inner.eth_type = B16(a.ethertype);
    cur_ = inner;
    base_ = cur_;
    SyncFlowFromKey();
    Trace(fmt::format("pop_mpls:{:#06x}{}", a.ethertype,
                      known ? "" : " (inner headers unknown until recirculated)"));
  }
  void Do(const ActSetMplsTtl& a) {
    r_.mask.bits.eth_type = UINT16_MAX;
    if (!IsMpls(N16(cur_.eth_type)) || !Known("set_mpls_ttl")) return;
    r_.mask.bits.mpls_lse = UINT32_MAX;
    cur_.mpls_lse = htonl((ntohl(cur_.mpls_lse) & ~dp::kMplsTtlMask) | a.ttl);
    Trace(fmt::format("set_mpls_ttl:{}", a.ttl));
  }
  void Do(const ActDecMplsTtl&) {
    r_.mask.bits.eth_type = UINT16_MAX;
    if (!IsMpls(N16(cur_.eth_type)) || !Known("dec_mpls_ttl")) return;
    r_.mask.bits.mpls_lse = UINT32_MAX;
    uint32_t lse = ntohl(cur_.mpls_lse);
    uint32_t ttl = lse & dp::kMplsTtlMask;
    if (ttl <= 1) {
      Trace("dec_mpls_ttl: TTL expired, packet dropped");
      if (br_->ofproto->config().flags & kInvalidTtlToController) {
        PacketIn(PacketInReason::kInvalidTtl, 0xffff);
      }
      stopped_ = true;
      return;
    }
    cur_.mpls_lse = htonl((lse & ~dp::kMplsTtlMask) | (ttl - 1));
  }

  // A group bucket or a patch port works on a copy of the packet: MPLS pushes and pops done
  // there are undone in the datapath packet afterwards (the rest is reconciled by Commit).
  struct MplsMark {
    size_t log_size;
    std::vector<dp::FlowKey> pushed;
    bool l3_unknown;
  };
  MplsMark MarkMpls() const { return {mpls_log_.size(), pushed_, l3_unknown_}; }
  void UndoMpls(const MplsMark& mark) {
    while (mpls_log_.size() > mark.log_size) {
      const MplsOp op = mpls_log_.back();
      mpls_log_.pop_back();
      if (op.push) {
        r_.actions.PopMpls(op.before.eth_type);
      } else {
        r_.actions.PushMpls(op.before.mpls_lse, op.before.eth_type);
      }
      dp::FlowKey b = op.before;  // the headers beyond L2 as they were; L2 as emitted since
      std::memcpy(b.eth_dst.data(), base_.eth_dst.data(), 6);
      std::memcpy(b.eth_src.data(), base_.eth_src.data(), 6);
      std::memcpy(b.vlans, base_.vlans, sizeof(b.vlans));
      base_ = b;
    }
    pushed_ = mark.pushed;
    l3_unknown_ = mark.l3_unknown;
  }

  // Whether an output to `port` runs more OpenFlow tables (which may look past L2).
  bool OutputNeedsInner(uint32_t port) const {
    if (port == kPortTable) return true;
    auto has_patch = [&] {
      return std::any_of(br_->ports.begin(), br_->ports.end(),
                         [](const auto& kv) { return kv.second.peer_bridge != nullptr; });
    };
    if (port == kPortFlood || port == kPortAll || port == kPortNormal) return has_patch();
    const XPort* p = br_->Port(port == kPortInPort ? in_ofport_ : port);
    return p && p->peer_bridge;
  }

  template <class A>
  void Do(const A&) {
    Fail("action not supported by the datapath (PBB, copy-TTL or experimenter)");
    stopped_ = true;
  }

  // ---- fields ----
  void UnwildcardVlans() { std::memset(&r_.mask.bits.vlans, 0xff, sizeof(r_.mask.bits.vlans)); }
  void SyncVlanFields() {
    if (HasTag(cur_.vlans[0])) {
      uint16_t tci = N16(cur_.vlans[0].tci);
      flow_.Set(OxmField::kVlanVid, kVlanPresent | (tci & 0xfff));
      flow_.Set(OxmField::kVlanPcp, tci >> 13);
    } else {
      flow_.Set(OxmField::kVlanVid, 0);
      flow_.Set(OxmField::kVlanPcp, 0);
    }
  }

  void SetField(const OxmEntry& e) {
    uint16_t et = N16(cur_.eth_type);
    uint64_t v = e.len() <= 8 ? e.ValueU64() : 0;
    auto need = [&](bool ok) {
      r_.mask.bits.eth_type = UINT16_MAX;
      return ok;
    };
    auto l4_ok = [&](uint8_t proto) {
      r_.mask.bits.nw_proto = 0xff;
      return need(IsIpType(et)) && cur_.nw_proto == proto;
    };
    switch (e.field) {
      case OxmField::kEthDst:
        std::memcpy(cur_.eth_dst.data(), e.value.data(), 6);
        break;
      case OxmField::kEthSrc:
        std::memcpy(cur_.eth_src.data(), e.value.data(), 6);
        break;
      case OxmField::kVlanVid: {
        UnwildcardVlans();
        if (!HasTag(cur_.vlans[0])) return;  // no tag to rewrite (push_vlan first)
        uint16_t tci = N16(cur_.vlans[0].tci);
        cur_.vlans[0].tci = B16((tci & 0xf000) | (v & 0xfff) | kVlanPresent);
        SyncVlanFields();
        Trace(fmt::format("set vlan_vid {}", v & 0xfff));
        return;
      }
      case OxmField::kVlanPcp: {
        UnwildcardVlans();
        if (!HasTag(cur_.vlans[0])) return;
        uint16_t tci = N16(cur_.vlans[0].tci);
        cur_.vlans[0].tci = B16((tci & 0x1fff) | ((v & 7) << 13));
        SyncVlanFields();
        return;
      }
      case OxmField::kIpDscp:
        if (!need(IsIpType(et))) return;
        cur_.nw_tos = static_cast<uint8_t>((cur_.nw_tos & 3) | ((v & 0x3f) << 2));
        break;
      case OxmField::kIpEcn:
        if (!need(IsIpType(et))) return;
        cur_.nw_tos = static_cast<uint8_t>((cur_.nw_tos & 0xfc) | (v & 3));
        break;
      case OxmField::kIpv4Src:
        if (!need(et == kEthIp)) return;
        cur_.nw_src = htonl(static_cast<uint32_t>(v));
        break;
      case OxmField::kIpv4Dst:
        if (!need(et == kEthIp)) return;
        cur_.nw_dst = htonl(static_cast<uint32_t>(v));
        break;
      case OxmField::kIpv6Src:
        if (!need(et == kEthIpv6)) return;
        std::memcpy(cur_.ipv6_src.data(), e.value.data(), 16);
        break;
      case OxmField::kIpv6Dst:
        if (!need(et == kEthIpv6)) return;
        std::memcpy(cur_.ipv6_dst.data(), e.value.data(), 16);
        break;
      case OxmField::kIpv6Flabel:
        if (!need(et == kEthIpv6)) return;
        cur_.ipv6_label = htonl(static_cast<uint32_t>(v & 0xfffff));
        break;
      case OxmField::kMplsLabel:
      case OxmField::kMplsTc:
      case OxmField::kMplsBos: {
        if (!need(IsMpls(et))) return;
        uint32_t lse = ntohl(cur_.mpls_lse);
        if (e.field == OxmField::kMplsLabel) {
          lse = (lse & ~dp::kMplsLabelMask) | static_cast<uint32_t>((v & 0xfffff) << 12);
        } else if (e.field == OxmField::kMplsTc) {
          lse = (lse & ~dp::kMplsTcMask) | static_cast<uint32_t>((v & 7) << 9);
        } else {
          lse = (lse & ~dp::kMplsBosMask) | static_cast<uint32_t>((v & 1) << 8);
        }
        cur_.mpls_lse = htonl(lse);
        break;
      }
      case OxmField::kTcpSrc:
      case OxmField::kTcpDst:
      case OxmField::kUdpSrc:
      case OxmField::kUdpDst:
      case OxmField::kSctpSrc:
      case OxmField::kSctpDst: {
        uint8_t proto = e.field <= OxmField::kTcpDst ? 6 : e.field <= OxmField::kUdpDst ? 17 : 132;
        if (!l4_ok(proto)) return;
        bool src = e.field == OxmField::kTcpSrc || e.field == OxmField::kUdpSrc ||
                   e.field == OxmField::kSctpSrc;
        (src ? cur_.tp_src : cur_.tp_dst) = B16(static_cast<uint16_t>(v));
        break;
      }
      case OxmField::kIcmpv4Type:
      case OxmField::kIcmpv4Code:
        if (!need(et == kEthIp) || !l4_ok(kIpProtoIcmp)) return;
        (e.field == OxmField::kIcmpv4Type ? cur_.tp_src : cur_.tp_dst) = B16(v & 0xff);
        break;
      case OxmField::kIcmpv6Type:
      case OxmField::kIcmpv6Code:
        if (!need(et == kEthIpv6) || !l4_ok(kIpProtoIcmpv6)) return;
        (e.field == OxmField::kIcmpv6Type ? cur_.tp_src : cur_.tp_dst) = B16(v & 0xff);
        break;
      case OxmField::kArpOp:
        if (!need(et == kEthArp)) return;
        // The key keeps the low 8 bits (0 for larger opcodes, as the parser does); Commit()
        // takes the full 16 bits from flow_.
        cur_.nw_proto = v <= 0xff ? static_cast<uint8_t>(v) : 0;
        break;
      case OxmField::kArpSpa:
        if (!need(et == kEthArp)) return;
        cur_.nw_src = htonl(static_cast<uint32_t>(v));
        break;
      case OxmField::kArpTpa:
        if (!need(et == kEthArp)) return;
        cur_.nw_dst = htonl(static_cast<uint32_t>(v));
        break;
      case OxmField::kArpSha:
      case OxmField::kArpTha:
        if (!need(et == kEthArp)) return;
        std::memcpy((e.field == OxmField::kArpSha ? cur_.arp_sha : cur_.arp_tha).data(),
                    e.value.data(), 6);
        break;
      case OxmField::kIpv6NdTarget:
      case OxmField::kIpv6NdSll:
      case OxmField::kIpv6NdTll: {
        // Neighbour solicitation (135, carries sll) or advertisement (136, carries tll), code 0.
        if (!need(et == kEthIpv6) || !l4_ok(kIpProtoIcmpv6)) return;
        r_.mask.bits.tp_src |= B16(0xff);
        r_.mask.bits.tp_dst |= B16(0xff);
        uint16_t type = N16(cur_.tp_src);
        bool nd = cur_.tp_dst == 0 && (type == kNdSolicit || type == kNdAdvert);
        if (!nd || (e.field == OxmField::kIpv6NdSll && type != kNdSolicit) ||
            (e.field == OxmField::kIpv6NdTll && type != kNdAdvert)) {
          return;
        }
        if (e.field == OxmField::kIpv6NdTarget) {
          std::memcpy(cur_.nd_target.data(), e.value.data(), 16);
        } else {
          std::memcpy((e.field == OxmField::kIpv6NdSll ? cur_.arp_sha : cur_.arp_tha).data(),
                      e.value.data(), 6);
        }
        break;
      }
      case OxmField::kTunnelId:
        // There are no tunnel ports yet, so no packet leaves with a tunnel header: the tunnel id
        // is pipeline metadata that later tables match on (as in OVS for a non-tunnel output).
        // Nothing is emitted, so the megaflow needs no part of the packet for it.
        flow_.SetBytes(e.field, e.value_bytes());
        Trace(fmt::format("set_field tunnel_id (pipeline metadata only)"));
        return;
      default:
        Fail(fmt::format("set_field {} cannot be done by the datapath", FieldInfo(e.field).name));
        stopped_ = true;
        return;
    }
    // Whether Commit() emits a set depends on the packet's original value: the megaflow must
    // match on it.
    FieldMask touched;
    touched.SetFieldAllOnes(e.field);
    AddFieldMaskToFlowMask(touched, &r_.mask);
    flow_.SetBytes(e.field, e.value_bytes());
    Trace(fmt::format("set_field {}", FieldInfo(e.field).name));
  }

  // Emits the datapath actions that turn the packet as already emitted (base_) into the packet
  // the OpenFlow actions have described so far (cur_).
  void Commit() {
    if (std::memcmp(base_.vlans, cur_.vlans, sizeof(cur_.vlans)) != 0) {
      UnwildcardVlans();
      for (int i = 0; i < 2; ++i) {
        if (HasTag(base_.vlans[i])) r_.actions.PopVlan();
      }
      for (int i = 1; i >= 0; --i) {
        if (HasTag(cur_.vlans[i])) r_.actions.PushVlan(cur_.vlans[i].tpid, cur_.vlans[i].tci);
      }
    }
    if (base_.eth_src != cur_.eth_src || base_.eth_dst != cur_.eth_dst) {
      dp::ActSetMasked s{};
      s.header = static_cast<uint16_t>(dp::SetHeader::kEthernet);
      s.value.eth.src = cur_.eth_src;
      s.value.eth.dst = cur_.eth_dst;
      if (base_.eth_src != cur_.eth_src) s.mask.eth.src.fill(0xff);
      if (base_.eth_dst != cur_.eth_dst) s.mask.eth.dst.fill(0xff);
      r_.actions.SetMasked(s);
    }
    uint16_t et = N16(cur_.eth_type);
    if (IsMpls(et) && base_.mpls_lse != cur_.mpls_lse) {
      r_.mask.bits.eth_type = UINT16_MAX;
      uint32_t diff = ntohl(base_.mpls_lse ^ cur_.mpls_lse);
      uint32_t m = 0;
      for (uint32_t sub :
           {dp::kMplsLabelMask, dp::kMplsTcMask, dp::kMplsBosMask, dp::kMplsTtlMask}) {
        if (diff & sub) m |= sub;
      }
      dp::ActSetMasked s{};
      s.header = static_cast<uint16_t>(dp::SetHeader::kMpls);
      s.value.mpls.lse = cur_.mpls_lse;
      s.mask.mpls.lse = htonl(m);
      r_.actions.SetMasked(s);
    }
    if (et == kEthIp && (base_.nw_src != cur_.nw_src || base_.nw_dst != cur_.nw_dst ||
                         base_.nw_tos != cur_.nw_tos || base_.nw_ttl != cur_.nw_ttl)) {
      r_.mask.bits.eth_type = UINT16_MAX;
      dp::ActSetMasked s{};
      s.header = static_cast<uint16_t>(dp::SetHeader::kIpv4);
      s.value.ipv4.src = cur_.nw_src;
      s.value.ipv4.dst = cur_.nw_dst;
      s.value.ipv4.tos = cur_.nw_tos;
      s.value.ipv4.ttl = cur_.nw_ttl;
      if (base_.nw_src != cur_.nw_src) s.mask.ipv4.src = UINT32_MAX;
      if (base_.nw_dst != cur_.nw_dst) s.mask.ipv4.dst = UINT32_MAX;
      s.mask.ipv4.tos = base_.nw_tos ^ cur_.nw_tos ? 0xff : 0;
      s.mask.ipv4.ttl = base_.nw_ttl != cur_.nw_ttl ? 0xff : 0;
      r_.actions.SetMasked(s);
    } else if (et == kEthIpv6 &&
               (base_.ipv6_src != cur_.ipv6_src || base_.ipv6_dst != cur_.ipv6_dst ||
                base_.ipv6_label != cur_.ipv6_label || base_.nw_tos != cur_.nw_tos ||
                base_.nw_ttl != cur_.nw_ttl)) {
      r_.mask.bits.eth_type = UINT16_MAX;
      dp::ActSetMasked s{};
      s.header = static_cast<uint16_t>(dp::SetHeader::kIpv6);
      s.value.ipv6.src = cur_.ipv6_src;
      s.value.ipv6.dst = cur_.ipv6_dst;
      s.value.ipv6.label = cur_.ipv6_label;
      s.value.ipv6.tclass = cur_.nw_tos;
      s.value.ipv6.hlimit = cur_.nw_ttl;
      if (base_.ipv6_src != cur_.ipv6_src) s.mask.ipv6.src.fill(0xff);
      if (base_.ipv6_dst != cur_.ipv6_dst) s.mask.ipv6.dst.fill(0xff);
      if (base_.ipv6_label != cur_.ipv6_label) s.mask.ipv6.label = htonl(0xfffff);
      s.mask.ipv6.tclass = base_.nw_tos != cur_.nw_tos ? 0xff : 0;
      s.mask.ipv6.hlimit = base_.nw_ttl != cur_.nw_ttl ? 0xff : 0;
      r_.actions.SetMasked(s);
    }
    if (et == kEthArp) CommitArp();
    if (base_.tp_src != cur_.tp_src || base_.tp_dst != cur_.tp_dst) {
      r_.mask.bits.eth_type = UINT16_MAX;
      r_.mask.bits.nw_proto = 0xff;
      dp::ActSetMasked s{};
      if (cur_.nw_proto == kIpProtoIcmp || cur_.nw_proto == kIpProtoIcmpv6) {
        // set_field checked that the protocol fits the IP version.
        s.header = static_cast<uint16_t>(cur_.nw_proto == kIpProtoIcmp ? dp::SetHeader::kIcmp
                                                                       : dp::SetHeader::kIcmpv6);
        s.value.icmp.type = static_cast<uint8_t>(N16(cur_.tp_src));
        s.value.icmp.code = static_cast<uint8_t>(N16(cur_.tp_dst));
        s.mask.icmp.type = base_.tp_src != cur_.tp_src ? 0xff : 0;
        s.mask.icmp.code = base_.tp_dst != cur_.tp_dst ? 0xff : 0;
      } else {
        dp::SetHeader h;
        switch (cur_.nw_proto) {
          case 6:
            h = dp::SetHeader::kTcp;
            break;
          case 17:
            h = dp::SetHeader::kUdp;
            break;
          case 132:
            h = dp::SetHeader::kSctp;
            break;
          default:
            Fail(fmt::format("rewriting ports of IP protocol {} is not supported by the datapath",
                             cur_.nw_proto));
            cur_ = base_;
            return;
        }
        s.header = static_cast<uint16_t>(h);
        s.value.ports.src = cur_.tp_src;
        s.value.ports.dst = cur_.tp_dst;
        s.mask.ports.src = base_.tp_src != cur_.tp_src ? UINT16_MAX : 0;
        s.mask.ports.dst = base_.tp_dst != cur_.tp_dst ? UINT16_MAX : 0;
      }
      r_.actions.SetMasked(s);
    }
    // After the ICMPv6 set: the datapath rewrites ND fields only of a packet that is ND then.
    if (et == kEthIpv6 && cur_.nw_proto == kIpProtoIcmpv6 &&
        (base_.nd_target != cur_.nd_target || base_.arp_sha != cur_.arp_sha ||
         base_.arp_tha != cur_.arp_tha)) {
      r_.mask.bits.eth_type = UINT16_MAX;
      r_.mask.bits.nw_proto = 0xff;
      dp::ActSetMasked s{};
      s.header = static_cast<uint16_t>(dp::SetHeader::kNd);
      s.value.nd.target = cur_.nd_target;
      s.value.nd.sll = cur_.arp_sha;
      s.value.nd.tll = cur_.arp_tha;
      if (base_.nd_target != cur_.nd_target) s.mask.nd.target.fill(0xff);
      if (base_.arp_sha != cur_.arp_sha) s.mask.nd.sll.fill(0xff);
      if (base_.arp_tha != cur_.arp_tha) s.mask.nd.tll.fill(0xff);
      r_.actions.SetMasked(s);
    }
    base_ = cur_;
  }

  // The ARP part of Commit(). The opcode's full 16 bits come from flow_ (the key has 8): a
  // set_field to a value above 255 is emitted at every commit, which is harmless, but one that
  // turns an opcode above 255 into 0 is not seen (both keys say 0).
  void CommitArp() {
    uint64_t op = flow_.Get(OxmField::kArpOp);
    bool op_changed = op != base_.nw_proto || cur_.nw_proto != base_.nw_proto;
    if (!op_changed && base_.nw_src == cur_.nw_src && base_.nw_dst == cur_.nw_dst &&
        base_.arp_sha == cur_.arp_sha && base_.arp_tha == cur_.arp_tha) {
      return;
    }
    r_.mask.bits.eth_type = UINT16_MAX;
    dp::ActSetMasked s{};
    s.header = static_cast<uint16_t>(dp::SetHeader::kArp);
    s.value.arp.sip = cur_.nw_src;
    s.value.arp.tip = cur_.nw_dst;
    s.value.arp.op = B16(static_cast<uint16_t>(op));
    s.value.arp.sha = cur_.arp_sha;
    s.value.arp.tha = cur_.arp_tha;
    if (base_.nw_src != cur_.nw_src) s.mask.arp.sip = UINT32_MAX;
    if (base_.nw_dst != cur_.nw_dst) s.mask.arp.tip = UINT32_MAX;
    if (op_changed) s.mask.arp.op = UINT16_MAX;
    if (base_.arp_sha != cur_.arp_sha) s.mask.arp.sha.fill(0xff);
    if (base_.arp_tha != cur_.arp_tha) s.mask.arp.tha.fill(0xff);
    r_.actions.SetMasked(s);
  }

  // ---- outputs ----
  uint32_t PortCfg(uint32_t ofport) const { return br_->ofproto->PortConfig(ofport); }

  void Output(uint32_t port, uint16_t max_len) {
    switch (port) {
      case kPortInPort:
        if (const XPort* p = br_->Port(in_ofport_)) OutputTo(*p, true);
        return;
      case kPortTable:
        if (!Enter()) return;
        Trace("output:TABLE (resubmit to table 0)");
        RunPipeline(0);
        Leave();
        return;
      case kPortNormal:
        Normal();
        return;
      case kPortFlood:
      case kPortAll:
        for (const auto& [no, p] : br_->ports) {
          if (no == in_ofport_) continue;
          OutputTo(p, false);
        }
        return;
      case kPortController: {
        bool miss = rule_ && rule_->priority == 0 && rule_->match.empty();
        PacketIn(miss ? PacketInReason::kNoMatch : PacketInReason::kAction, max_len);
        return;
      }
      default:
        if (port == in_ofport_) {
          Trace(fmt::format("output:{} is the input port: skipped (use IN_PORT)", port));
          return;
        }
        if (const XPort* p = br_->Port(port)) {
          OutputTo(*p, false);
        } else {
          Trace(fmt::format("output:{}: no such port", text::FormatPort(port)));
        }
    }
  }

  void OutputTo(const XPort& p, bool allow_in_port) {
    if (!allow_in_port && p.ofport == in_ofport_) return;
    if (PortCfg(p.ofport) & (kPortDown | kNoFwd)) {
      Trace(fmt::format("output:{}: port is down or no-fwd", p.name));
      return;
    }
    if (p.peer_bridge) {
      PatchOutput(p);
      return;
    }
    if (p.dp_port == UINT32_MAX) {
      Trace(fmt::format("output:{}: port has no datapath port", p.name));
      return;
    }
    Commit();
    r_.actions.Output(p.dp_port);
    Trace(fmt::format("output:{} (datapath port {})", p.name, p.dp_port));
  }

  bool Enter() {
    if (depth_ >= kMaxDepth) {
      Fail("translation nesting too deep (patch/group/resubmit loop?)");
      r_.no_install = true;
      return false;
    }
    ++depth_;
    return true;
  }
  void Leave() { --depth_; }

  // Output to a patch port: the packet enters the peer bridge at once, as a clone.
  void PatchOutput(const XPort& p) {
    if (!Enter()) return;
    Trace(fmt::format("output:{} -> patch to bridge {} port {}", p.name, p.peer_bridge->name,
                      p.peer_ofport));
    XBridge* saved_br = br_;
    uint32_t saved_in = in_ofport_;
    FieldValues saved_flow = flow_;
    dp::FlowKey saved_cur = cur_;
    MplsMark mark = MarkMpls();
    const Rule* saved_rule = rule_;
    uint8_t saved_table = table_id_;
    br_ = p.peer_bridge;
    in_ofport_ = p.peer_ofport;
    flow_.Set(OxmField::kInPort, p.peer_ofport);
    flow_.Set(OxmField::kInPhyPort, p.peer_ofport);
    flow_.Set(OxmField::kMetadata, 0);
    RunPipeline(0);
    stopped_ = false;
    br_ = saved_br;
    in_ofport_ = saved_in;
    UndoMpls(mark);
    flow_ = saved_flow;
    cur_ = saved_cur;
    rule_ = saved_rule;
    table_id_ = saved_table;
    Leave();
  }

  void PacketIn(PacketInReason reason, uint16_t max_len) {
    if (PortCfg(in_ofport_) & kNoPacketIn) {
      Trace("controller: input port has no-packet-in");
      return;
    }
    PacketInContext ctx;
    ctx.bridge = br_->name;
    ctx.reason = reason;
    ctx.table_id = table_id_;
    ctx.cookie = rule_ ? rule_->cookie : UINT64_MAX;
    ctx.max_len = max_len;
    ctx.in_port = in_ofport_;
    ctx.metadata = flow_.Get(OxmField::kMetadata);
    ctx.tunnel_id = flow_.Get(OxmField::kTunnelId);
    uint32_t id = env_.registry ? env_.registry->Intern(ctx) : 0;
    if (!id) {
      Fail("packet-in context registry full");
      r_.no_install = true;
      return;
    }
    Commit();
    r_.actions.Userspace(kUserspacePidController, id);
    Trace(fmt::format("controller (reason {}, max_len {})", static_cast<int>(reason), max_len));
  }

  // ---- groups ----
  bool PortLive(uint32_t ofport) const {
    const XPort* p = br_->Port(ofport);
    return p && p->link_up && !(PortCfg(ofport) & kPortDown);
  }

  void RunGroup(uint32_t group_id) {
    auto g = br_->ofproto->groups().Find(group_id);
    if (!g) {
      Trace(fmt::format("group:{}: no such group, dropped", group_id));
      return;
    }
    if (!Enter()) return;
    Liveness live =
        br_->ofproto->groups().MakeLiveness([this](uint32_t port) { return PortLive(port); });
    auto run_bucket = [&](size_t i) {
      Trace(fmt::format("group:{} bucket {}", group_id, i));
      FieldValues saved_flow = flow_;
      dp::FlowKey saved_cur = cur_;
      MplsMark mark = MarkMpls();
      ExecuteList(g->buckets()[i].actions);
      stopped_ = false;
      UndoMpls(mark);
      flow_ = saved_flow;
      cur_ = saved_cur;
    };
    switch (g->type()) {
      case GroupType::kAll:
        r_.groups.emplace_back(g, -1);
        for (size_t i = 0; i < g->buckets().size(); ++i) run_bucket(i);
        break;
      case GroupType::kIndirect:
        r_.groups.emplace_back(g, 0);
        if (!g->buckets().empty()) run_bucket(0);
        break;
      case GroupType::kSelect: {
        auto b = g->SelectBucket(SelectHash(), &live);
        r_.groups.emplace_back(g, b ? static_cast<int>(*b) : -2);
        if (b) run_bucket(*b);
        break;
      }
      case GroupType::kFastFailover: {
        auto b = g->FirstLiveBucket(live);
        r_.groups.emplace_back(g, b ? static_cast<int>(*b) : -2);
        if (b) run_bucket(*b);
        break;
      }
    }
    Leave();
  }

  // Select groups hash the L2-L4 addresses present in the packet (ARP: the protocol addresses)
  // and un-wildcard exactly those.
  uint32_t SelectHash() {
    uint32_t h = 0;
    auto add = [&](OxmField f) {
      wc_.SetFieldAllOnes(f);
      ByteSpan b = flow_.Bytes(f);
      uint64_t acc = 0;
      for (size_t i = 0; i < b.size(); ++i) {
        acc = acc * 131 + b[i];
        if (i % 8 == 7) {
          h = dp::HashAdd64(h, acc);
          acc = 0;
        }
      }
      h = dp::HashAdd64(h, acc);
    };
    add(OxmField::kEthSrc);
    add(OxmField::kEthDst);
    add(OxmField::kEthType);
    add(OxmField::kVlanVid);
    uint16_t et = static_cast<uint16_t>(flow_.Get(OxmField::kEthType));
    if (et == kEthIp) {
      add(OxmField::kIpv4Src);
      add(OxmField::kIpv4Dst);
    } else if (et == kEthIpv6) {
      add(OxmField::kIpv6Src);
      add(OxmField::kIpv6Dst);
    } else if (et == kEthArp) {
      add(OxmField::kArpSpa);
      add(OxmField::kArpTpa);
    }
    if (IsIpType(et)) {
      add(OxmField::kIpProto);
      uint8_t proto = static_cast<uint8_t>(flow_.Get(OxmField::kIpProto));
      if (proto == 6) {
        add(OxmField::kTcpSrc);
        add(OxmField::kTcpDst);
      } else if (proto == 17) {
        add(OxmField::kUdpSrc);
        add(OxmField::kUdpDst);
      } else if (proto == 132) {
        add(OxmField::kSctpSrc);
        add(OxmField::kSctpDst);
      }
    }
    return dp::HashFinish(h, 0);
  }

  // ---- NORMAL: an L2 learning switch with VLANs ----
  void Normal() {
    const XPort* in = br_->Port(in_ofport_);
    if (!in || !br_->mac) {
      Trace("NORMAL: input port unknown to the bridge, dropped");
      return;
    }
    wc_.SetFieldAllOnes(OxmField::kVlanVid);
    wc_.SetFieldAllOnes(OxmField::kEthSrc);
    wc_.SetFieldAllOnes(OxmField::kEthDst);
    uint64_t vid_field = flow_.Get(OxmField::kVlanVid);
    bool tagged = vid_field & kVlanPresent;
    uint16_t vid = static_cast<uint16_t>(vid_field & 0xfff);
    int vlan = 0;
    bool qinq_in = false;
    switch (in->vlan.mode) {
      case PortVlan::Mode::kDot1qTunnel: {
        uint16_t cvlan = tagged ? vid : 0;
        if (HasTag(cur_.vlans[1])) {
          Trace(fmt::format("NORMAL: doubly tagged frame on dot1q-tunnel port {}, dropped",
                            in->name));
          return;
        }
        if (!in->vlan.cvlans.empty() && std::find(in->vlan.cvlans.begin(), in->vlan.cvlans.end(),
                                                  cvlan) == in->vlan.cvlans.end()) {
          Trace(fmt::format("NORMAL: customer vlan {} not allowed on port {}, dropped", cvlan,
                            in->name));
          return;
        }
        UnwildcardVlans();
        vlan = std::max(in->vlan.tag, 0);
        qinq_in = true;
        break;
      }
      case PortVlan::Mode::kAccess:
        if (tagged && vid != 0) {
          Trace(fmt::format("NORMAL: tagged frame (vlan {}) on access port {}, dropped", vid,
                            in->name));
          return;
        }
        vlan = std::max(in->vlan.tag, 0);
        break;
      case PortVlan::Mode::kTrunk:
        vlan = tagged ? vid : 0;
        break;
      case PortVlan::Mode::kNativeTagged:
      case PortVlan::Mode::kNativeUntagged:
        vlan = tagged && vid != 0 ? vid : std::max(in->vlan.tag, 0);
        break;
    }
    if (!in->vlan.Includes(static_cast<uint16_t>(vlan))) {
      Trace(fmt::format("NORMAL: vlan {} not allowed on port {}, dropped", vlan, in->name));
      return;
    }
    Mac src, dst;
    std::memcpy(src.data(), flow_.Bytes(OxmField::kEthSrc).data(), 6);
    std::memcpy(dst.data(), flow_.Bytes(OxmField::kEthDst).data(), 6);
    if (in_.learn) {
      bool moved = false;
      if (br_->mac->Learn(static_cast<uint16_t>(vlan), src, in_ofport_, in_.now_ms, &moved)) {
        r_.learned.push_back({br_, static_cast<uint16_t>(vlan), src});
      }
      r_.mac_moved |= moved;
    }
    std::optional<uint32_t> out;
    if (!(dst[0] & 1)) out = br_->mac->Lookup(static_cast<uint16_t>(vlan), dst, in_.now_ms);
    if (out) {
      if (*out == in_ofport_) {
        Trace("NORMAL: destination learned on the input port, dropped");
        return;
      }
      const XPort* p = br_->Port(*out);
      if (p && p->vlan.Includes(static_cast<uint16_t>(vlan))) {
        Trace(fmt::format("NORMAL: learned destination on port {}", p->name));
        NormalOutput(*p, static_cast<uint16_t>(vlan), qinq_in ? in : nullptr);
        return;
      }
    }
    Trace("NORMAL: flooding");
    r_.flooded.push_back({br_, static_cast<uint16_t>(vlan), dst});
    for (const auto& [no, p] : br_->ports) {
      if (no == in_ofport_ || !p.vlan.Includes(static_cast<uint16_t>(vlan))) continue;
      if (!p.link_up) continue;
      NormalOutput(p, static_cast<uint16_t>(vlan), qinq_in ? in : nullptr);
    }
  }

  // `tunnel_in`: the dot1q-tunnel port the frame came in on (its outer tag is pushed here).
  void NormalOutput(const XPort& p, uint16_t vlan, const XPort* tunnel_in) {
    if (tunnel_in) {
      dp::FlowKey saved_cur = cur_;
      FieldValues saved_flow = flow_;
      UnwildcardVlans();
      bool outer;
      switch (p.vlan.mode) {
        case PortVlan::Mode::kAccess:
        case PortVlan::Mode::kDot1qTunnel:
          outer = false;
          break;
        case PortVlan::Mode::kNativeUntagged:
          outer = static_cast<int>(vlan) != p.vlan.tag;
          break;
        default:
          outer = vlan != 0;
          break;
      }
      if (outer) {
        cur_.vlans[1] = cur_.vlans[0];
        cur_.vlans[0] = dp::VlanHdr{B16(tunnel_in->vlan.qinq_tpid), B16(kVlanPresent | vlan)};
      }
      SyncVlanFields();
      OutputTo(p, false);
      cur_ = saved_cur;
      flow_ = saved_flow;
      return;
    }
    bool tag;
    switch (p.vlan.mode) {
      case PortVlan::Mode::kAccess:
      case PortVlan::Mode::kDot1qTunnel:  // the outer tag leaves; inner ones stay
        tag = false;
        break;
      case PortVlan::Mode::kNativeUntagged:
        tag = vlan != 0 && static_cast<int>(vlan) != p.vlan.tag;
        break;
      default:
        tag = vlan != 0;
        break;
    }
    dp::FlowKey saved_cur = cur_;
    FieldValues saved_flow = flow_;
    UnwildcardVlans();
    if (tag) {
      uint16_t pcp = HasTag(cur_.vlans[0]) ? (N16(cur_.vlans[0].tci) & 0xe000) : 0;
      if (!HasTag(cur_.vlans[0])) {
        cur_.vlans[1] = dp::VlanHdr{};
        cur_.vlans[0].tpid = B16(0x8100);
      }
      cur_.vlans[0].tci = B16(pcp | kVlanPresent | vlan);
    } else if (HasTag(cur_.vlans[0])) {
      cur_.vlans[0] = cur_.vlans[1];
      cur_.vlans[1] = dp::VlanHdr{};
    }
    SyncVlanFields();
    OutputTo(p, false);
    cur_ = saved_cur;
    flow_ = saved_flow;
  }

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

}  // namespace

bool PortVlan::Includes(uint16_t vlan) const {
  switch (mode) {
    case Mode::kAccess:
    case Mode::kDot1qTunnel:
      return static_cast<int>(vlan) == std::max(tag, 0);
    case Mode::kTrunk:
      return trunks.empty() || std::find(trunks.begin(), trunks.end(), vlan) != trunks.end();
    case Mode::kNativeTagged:
    case Mode::kNativeUntagged:
      return static_cast<int>(vlan) == tag || trunks.empty() ||
             std::find(trunks.begin(), trunks.end(), vlan) != trunks.end();
  }
  return false;
}

uint32_t PacketInRegistry::Intern(const PacketInContext& c) {
  uint64_t h = std::hash<std::string>{}(c.bridge);
  for (uint64_t v : {uint64_t(c.reason), uint64_t(c.table_id), c.cookie, uint64_t(c.max_len),
                     uint64_t(c.in_port), c.metadata, c.tunnel_id}) {
    h = (h ^ v) * 0x100000001b3ULL;
  }
  auto [b, e] = index_.equal_range(h);
  for (auto it = b; it != e; ++it) {
    if (ctxs_[it->second - 1] == c) return it->second;
  }
  if (ctxs_.size() >= kMax) return 0;
  ctxs_.push_back(c);
  uint32_t id = static_cast<uint32_t>(ctxs_.size());
  index_.emplace(h, id);
  return id;
}

uint32_t RecircRegistry::Intern(const FrozenState& f, int64_t now_ms) {
  uint64_t h = std::hash<std::string>{}(f.bridge);
  for (uint64_t v : {uint64_t(f.in_ofport), f.metadata, uint64_t(f.stage), uint64_t(f.table_id),
                     uint64_t(reinterpret_cast<uintptr_t>(f.rule.get())),
                     uint64_t(f.actions.size()), uint64_t(f.action_set.size())}) {
    h = (h ^ v) * 0x100000001b3ULL;
  }
  auto [b, e] = index_.equal_range(h);
  for (auto it = b; it != e; ++it) {
    Entry& en = states_.at(it->second);
    if (en.state == f) {
      en.used_ms = std::max(en.used_ms, now_ms);
      return it->second;
    }
  }
  if (states_.size() >= kMax) return 0;
  while (next_id_ == 0 || states_.count(next_id_)) ++next_id_;
  uint32_t id = next_id_++;
  states_.emplace(id, Entry{f, h, now_ms});
  index_.emplace(h, id);
  return id;
}

const FrozenState* RecircRegistry::Find(uint32_t id) const {
  auto it = states_.find(id);
  return it == states_.end() ? nullptr : &it->second.state;
}

size_t RecircRegistry::Sweep(const std::unordered_set<uint32_t>& keep, int64_t now_ms,
                             int64_t grace_ms) {
  size_t dropped = 0;
  for (auto it = states_.begin(); it != states_.end();) {
    Entry& en = it->second;
    if (keep.count(it->first)) {
      en.used_ms = std::max(en.used_ms, now_ms);
    } else if (now_ms - en.used_ms >= grace_ms) {
      auto [b, e] = index_.equal_range(en.hash);
      for (auto x = b; x != e; ++x) {
        if (x->second == it->first) {
          index_.erase(x);
          break;
        }
      }
      it = states_.erase(it);
      ++dropped;
      continue;
    }
    ++it;
  }
  return dropped;
}

const PacketInContext* PacketInRegistry::Find(uint32_t id) const {
  return id >= 1 && id <= ctxs_.size() ? &ctxs_[id - 1] : nullptr;
}

FieldValues FieldsFromKey(const dp::FlowKey& k, uint32_t in_ofport) {
  FieldValues f;
  f.Set(OxmField::kInPort, in_ofport);
  f.Set(OxmField::kInPhyPort, in_ofport);
  if (k.tun_id) f.Set(OxmField::kTunnelId, be64toh(k.tun_id));
  f.SetBytes(OxmField::kEthDst, ByteSpan(k.eth_dst.data(), 6));
  f.SetBytes(OxmField::kEthSrc, ByteSpan(k.eth_src.data(), 6));
  uint16_t et = N16(k.eth_type);
  f.Set(OxmField::kEthType, et);
  if (HasTag(k.vlans[0])) {
    uint16_t tci = N16(k.vlans[0].tci);
    f.Set(OxmField::kVlanVid, kVlanPresent | (tci & 0xfff));
    f.Set(OxmField::kVlanPcp, tci >> 13);
  }
  if (IsMpls(et)) {
    uint32_t lse = ntohl(k.mpls_lse);
    f.Set(OxmField::kMplsLabel, lse >> dp::kMplsLabelShift);
    f.Set(OxmField::kMplsTc, (lse & dp::kMplsTcMask) >> dp::kMplsTcShift);
    f.Set(OxmField::kMplsBos, (lse & dp::kMplsBosMask) >> dp::kMplsBosShift);
    return f;
  }
  if (et == kEthArp) {
    f.Set(OxmField::kArpOp, k.nw_proto);
    f.Set(OxmField::kArpSpa, ntohl(k.nw_src));
    f.Set(OxmField::kArpTpa, ntohl(k.nw_dst));
    f.SetBytes(OxmField::kArpSha, ByteSpan(k.arp_sha.data(), 6));
    f.SetBytes(OxmField::kArpTha, ByteSpan(k.arp_tha.data(), 6));
    return f;
  }
  if (!IsIpType(et)) return f;
  f.Set(OxmField::kIpDscp, k.nw_tos >> 2);
  f.Set(OxmField::kIpEcn, k.nw_tos & 3);
  f.Set(OxmField::kIpProto, k.nw_proto);
  if (et == kEthIp) {
    f.Set(OxmField::kIpv4Src, ntohl(k.nw_src));
    f.Set(OxmField::kIpv4Dst, ntohl(k.nw_dst));
  } else {
    f.SetBytes(OxmField::kIpv6Src, ByteSpan(k.ipv6_src.data(), 16));
    f.SetBytes(OxmField::kIpv6Dst, ByteSpan(k.ipv6_dst.data(), 16));
    f.Set(OxmField::kIpv6Flabel, ntohl(k.ipv6_label) & 0xfffff);
  }
  uint16_t sp = N16(k.tp_src), dpt = N16(k.tp_dst);
  switch (k.nw_proto) {
    case 6:
      f.Set(OxmField::kTcpSrc, sp);
      f.Set(OxmField::kTcpDst, dpt);
      break;
    case 17:
      f.Set(OxmField::kUdpSrc, sp);
      f.Set(OxmField::kUdpDst, dpt);
      break;
    case 132:
      f.Set(OxmField::kSctpSrc, sp);
      f.Set(OxmField::kSctpDst, dpt);
      break;
    case 1:
      if (et == kEthIp) {
        f.Set(OxmField::kIcmpv4Type, sp & 0xff);
        f.Set(OxmField::kIcmpv4Code, dpt & 0xff);
      }
      break;
    case 58:
      if (et == kEthIpv6) {
        f.Set(OxmField::kIcmpv6Type, sp & 0xff);
        f.Set(OxmField::kIcmpv6Code, dpt & 0xff);
        if ((sp & 0xff) == 135 || (sp & 0xff) == 136) {
          f.SetBytes(OxmField::kIpv6NdTarget, ByteSpan(k.nd_target.data(), 16));
          f.SetBytes((sp & 0xff) == 135 ? OxmField::kIpv6NdSll : OxmField::kIpv6NdTll,
                     ByteSpan(((sp & 0xff) == 135 ? k.arp_sha : k.arp_tha).data(), 6));
        }
      }
      break;
  }
  return f;
}

dp::FlowKey KeyFromMatch(const Match& match) {
  dp::FlowKey k;
  k.Clear();
  auto u = [&](OxmField f) -> uint64_t {
    const OxmEntry* e = match.Find(f);
    return e ? e->ValueU64() & e->MaskU64() : 0;
  };
  auto bytes = [&](OxmField f, uint8_t* dst) {
    if (const OxmEntry* e = match.Find(f)) {
      ByteSpan v = e->value_bytes();
      for (size_t i = 0; i < v.size(); ++i) dst[i] = e->has_mask ? v[i] & e->mask[i] : v[i];
    }
  };
  k.tun_id = htobe64(u(OxmField::kTunnelId));
  bytes(OxmField::kEthDst, k.eth_dst.data());
  bytes(OxmField::kEthSrc, k.eth_src.data());
  uint16_t et = static_cast<uint16_t>(u(OxmField::kEthType));
  k.eth_type = B16(et);
  if (uint64_t vid = u(OxmField::kVlanVid); vid & kVlanPresent) {
    k.vlans[0].tpid = B16(0x8100);
    k.vlans[0].tci =
        B16(static_cast<uint16_t>(kVlanPresent | (vid & 0xfff) | (u(OxmField::kVlanPcp) << 13)));
  }
  if (et == kEthArp) {
    k.nw_proto = static_cast<uint8_t>(u(OxmField::kArpOp));
    k.nw_src = htonl(static_cast<uint32_t>(u(OxmField::kArpSpa)));
    k.nw_dst = htonl(static_cast<uint32_t>(u(OxmField::kArpTpa)));
    bytes(OxmField::kArpSha, k.arp_sha.data());
    bytes(OxmField::kArpTha, k.arp_tha.data());
    return k;
  }
  if (!IsIpType(et)) return k;
  k.nw_tos = static_cast<uint8_t>((u(OxmField::kIpDscp) << 2) | (u(OxmField::kIpEcn) & 3));
  k.nw_proto = static_cast<uint8_t>(u(OxmField::kIpProto));
  if (et == kEthIp) {
    k.nw_src = htonl(static_cast<uint32_t>(u(OxmField::kIpv4Src)));
    k.nw_dst = htonl(static_cast<uint32_t>(u(OxmField::kIpv4Dst)));
  } else {
    bytes(OxmField::kIpv6Src, k.ipv6_src.data());
    bytes(OxmField::kIpv6Dst, k.ipv6_dst.data());
    k.ipv6_label = htonl(static_cast<uint32_t>(u(OxmField::kIpv6Flabel)));
  }
  auto ports = [&](OxmField src, OxmField dst) {
    k.tp_src = B16(static_cast<uint16_t>(u(src)));
    k.tp_dst = B16(static_cast<uint16_t>(u(dst)));
  };
  switch (k.nw_proto) {
    case 6:
      ports(OxmField::kTcpSrc, OxmField::kTcpDst);
      break;
    case 17:
      ports(OxmField::kUdpSrc, OxmField::kUdpDst);
      break;
    case 132:
      ports(OxmField::kSctpSrc, OxmField::kSctpDst);
      break;
    case 1:
      if (et == kEthIp) ports(OxmField::kIcmpv4Type, OxmField::kIcmpv4Code);
      break;
    case 58:
      if (et == kEthIpv6) {
        ports(OxmField::kIcmpv6Type, OxmField::kIcmpv6Code);
        bytes(OxmField::kIpv6NdTarget, k.nd_target.data());
        bytes(OxmField::kIpv6NdSll, k.arp_sha.data());
        bytes(OxmField::kIpv6NdTll, k.arp_tha.data());
      }
      break;
  }
  return k;
}

void AddFieldMaskToFlowMask(const FieldMask& wc, dp::FlowMask* mask) {
  dp::FlowKey& m = mask->bits;
  auto or_bytes = [&](OxmField f, uint8_t* dst, size_t n) {
    ByteSpan b = wc.Bytes(f);
    for (size_t i = 0; i < n && i < b.size(); ++i) dst[i] |= b[i];
  };
  auto get = [&](OxmField f) { return wc.Get(f); };
  or_bytes(OxmField::kEthDst, m.eth_dst.data(), 6);
  or_bytes(OxmField::kEthSrc, m.eth_src.data(), 6);
  m.eth_type |= B16(static_cast<uint16_t>(get(OxmField::kEthType)));
  if (uint64_t v = get(OxmField::kVlanVid)) m.vlans[0].tci |= B16(v & 0x1fff);
  if (uint64_t v = get(OxmField::kVlanPcp)) {
    m.vlans[0].tci |= B16(static_cast<uint16_t>(((v & 7) << 13) | kVlanPresent));
  }
  if (m.vlans[0].tci) m.vlans[0].tpid = UINT16_MAX;
  m.nw_tos |= static_cast<uint8_t>((get(OxmField::kIpDscp) & 0x3f) << 2);
  m.nw_tos |= static_cast<uint8_t>(get(OxmField::kIpEcn) & 3);
  m.nw_proto |= static_cast<uint8_t>(get(OxmField::kIpProto) | get(OxmField::kArpOp));
  m.nw_src |= htonl(static_cast<uint32_t>(get(OxmField::kIpv4Src) | get(OxmField::kArpSpa)));
  m.nw_dst |= htonl(static_cast<uint32_t>(get(OxmField::kIpv4Dst) | get(OxmField::kArpTpa)));
  or_bytes(OxmField::kArpSha, m.arp_sha.data(), 6);
  or_bytes(OxmField::kArpTha, m.arp_tha.data(), 6);
  or_bytes(OxmField::kIpv6NdSll, m.arp_sha.data(), 6);
  or_bytes(OxmField::kIpv6NdTll, m.arp_tha.data(), 6);
  or_bytes(OxmField::kIpv6Src, m.ipv6_src.data(), 16);
  or_bytes(OxmField::kIpv6Dst, m.ipv6_dst.data(), 16);
  or_bytes(OxmField::kIpv6NdTarget, m.nd_target.data(), 16);
  m.ipv6_label |= htonl(static_cast<uint32_t>(get(OxmField::kIpv6Flabel) & 0xfffff));
  uint64_t src = get(OxmField::kTcpSrc) | get(OxmField::kUdpSrc) | get(OxmField::kSctpSrc) |
                 (get(OxmField::kIcmpv4Type) & 0xff) | (get(OxmField::kIcmpv6Type) & 0xff);
  uint64_t dst = get(OxmField::kTcpDst) | get(OxmField::kUdpDst) | get(OxmField::kSctpDst) |
                 (get(OxmField::kIcmpv4Code) & 0xff) | (get(OxmField::kIcmpv6Code) & 0xff);
  m.tp_src |= B16(static_cast<uint16_t>(src));
  m.tp_dst |= B16(static_cast<uint16_t>(dst));
  if (uint64_t t = get(OxmField::kTunnelId)) m.tun_id |= htobe64(t);
  uint32_t lse =
      static_cast<uint32_t>((get(OxmField::kMplsLabel) & 0xfffff) << 12 |
                            (get(OxmField::kMplsTc) & 7) << 9 | (get(OxmField::kMplsBos) & 1) << 8);
  m.mpls_lse |= htonl(lse);
}

XlateResult Translate(const XlateEnv& env, const XlateInput& in) {
  XlateResult r;
  Ctx ctx(env, in, r);
  ctx.Run();
  return r;
}

}  // namespace sluice::ofp
