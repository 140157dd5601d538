// Outputs (ports, IN_PORT, TABLE, FLOOD/ALL, patch ports into the peer bridge, the controller)
// and groups (all, indirect, select, fast-failover).
#include "ofproto/xlate/xlate_ctx.h"

namespace sluice::ofp::xlate_internal {

void Ctx::Output(uint32_t port, uint16_t max_len) {
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

void Ctx::OutputTo(const XPort& p, bool allow_in_port) {
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

bool Ctx::Enter() {
  if (depth_ >= kMaxDepth) {
    Fail("translation nesting too deep (patch/group/resubmit loop?)");
    r_.no_install = true;
    return false;
  }
  ++depth_;
  return true;
}

// Output to a patch port: the packet enters the peer bridge at once, as a clone.
void Ctx::PatchOutput(const XPort& p) {
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

void Ctx::PacketIn(PacketInReason reason, uint16_t max_len) {
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
bool Ctx::PortLive(uint32_t ofport) const {
  const XPort* p = br_->Port(ofport);
  return p && p->link_up && !(PortCfg(ofport) & kPortDown);
}

void Ctx::RunGroup(uint32_t group_id) {
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
uint32_t Ctx::SelectHash() {
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

}  // namespace sluice::ofp::xlate_internal
