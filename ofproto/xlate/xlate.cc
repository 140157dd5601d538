// Translation, the pipeline: a key through the bridge's tables (lookups, instructions in the
// spec's order, the action set) and the actions that need no file of their own.
#include "ofproto/xlate/xlate_ctx.h"

namespace sluice::ofp::xlate_internal {

Ctx::Ctx(const XlateEnv& env, const XlateInput& in, XlateResult& r) : env_(env), in_(in), r_(r) {
  base_ = cur_ = in.key;
  flow_ = FieldsFromKey(in.key, in.in_ofport);
  br_ = in.bridge;
  in_ofport_ = in.in_ofport;
  r_.mask.Clear();
  r_.mask.bits.in_port = UINT32_MAX;
  r_.mask.bits.recirc_id = UINT32_MAX;
}

void Ctx::Run() {
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

void Ctx::Trace(const std::string& s) {
  if (in_.trace) *in_.trace += std::string(depth_ * 4 + 4, ' ') + s + "\n";
}

void Ctx::Fail(const std::string& why) {
  r_.error = true;
  if (r_.error_text.empty()) r_.error_text = why;
  Trace("error: " + why);
}

// ---- the pipeline ----
void Ctx::RunPipeline(uint8_t table_id) {
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
void Ctx::PipelineLoop(uint8_t table_id, const Rule* resumed, ActionSet& aset) {
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
void Ctx::Meter(uint32_t meter_id) {
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

void Ctx::ExecuteList(const ActionList& list) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (stopped_) return;
    if (list_.actions == &list) list_.index = i;
    std::visit([this](const auto& act) { Do(act); }, list[i]);
  }
}

// Rebuilds the OpenFlow view of the packet from the current key (after push/pop MPLS moved
// which fields exist), keeping the pipeline metadata.
void Ctx::SyncFlowFromKey() {
  uint64_t md = flow_.Get(OxmField::kMetadata);
  flow_ = FieldsFromKey(cur_, in_ofport_);
  flow_.Set(OxmField::kMetadata, md);
}

void Ctx::Do(const ActOutput& a) {
  if (l3_unknown_ && OutputNeedsInner(a.port) && !Known("output")) return;
  Output(a.port, a.max_len);
}

void Ctx::Do(const ActGroup& a) {
  if (!Known("group")) return;
  RunGroup(a.group_id);
}

void Ctx::Do(const ActSetField& a) {
  bool l2 = a.field.field == OxmField::kEthDst || a.field.field == OxmField::kEthSrc ||
            a.field.field == OxmField::kVlanVid || a.field.field == OxmField::kVlanPcp;
  if (!l2 && !Known("set_field")) return;
  SetField(a.field);
}

void Ctx::Do(const ActPushVlan& a) {
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

void Ctx::Do(const ActPopVlan&) {
  UnwildcardVlans();
  if (!HasTag(cur_.vlans[0])) return;
  cur_.vlans[0] = cur_.vlans[1];
  cur_.vlans[1] = dp::VlanHdr{};
  SyncVlanFields();
  Trace("pop_vlan");
}

void Ctx::Do(const ActDecNwTtl&) {
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

void Ctx::Do(const ActSetNwTtl& a) {
  if (!Known("set_nw_ttl")) return;
  r_.mask.bits.eth_type = UINT16_MAX;
  r_.mask.bits.nw_ttl = 0xff;
  if (IsIpType(N16(cur_.eth_type))) cur_.nw_ttl = a.ttl;
}

void Ctx::Do(const ActSetQueue& a) {
  // No QoS queues exist on Sluice ports; the packet goes out on the port's only queue.
  Trace(fmt::format("set_queue:{} (no queues: ignored)", a.queue_id));
}

}  // namespace sluice::ofp::xlate_internal

namespace sluice::ofp {

using namespace xlate_internal;

XlateResult Translate(const XlateEnv& env, const XlateInput& in) {
  XlateResult r;
  Ctx ctx(env, in, r);
  ctx.Run();
  return r;
}

}  // namespace sluice::ofp
