// The MPLS actions: push_mpls, pop_mpls, set/dec_mpls_ttl, and undoing them after a group
// bucket or patch port.
#include "ofproto/xlate/xlate_ctx.h"

namespace sluice::ofp::xlate_internal {

// ---- MPLS ----
void Ctx::Do(const ActPushMpls& a) {
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

void Ctx::Do(const ActPopMpls& a) {
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

void Ctx::Do(const ActSetMplsTtl& a) {
  r_.mask.bits.eth_type = UINT16_MAX;
  if (!IsMpls(N16(cur_.eth_type)) || !Known("set_mpls_ttl")) return;
  r_.mask.bits.mpls_lse = UINT32_MAX;
  cur_.mpls_lse = htonl((ntohl(cur_.mpls_lse) & ~dp::kMplsTtlMask) | a.ttl);
  Trace(fmt::format("set_mpls_ttl:{}", a.ttl));
}

void Ctx::Do(const ActDecMplsTtl&) {
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

void Ctx::UndoMpls(const MplsMark& mark) {
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
bool Ctx::OutputNeedsInner(uint32_t port) const {
  if (port == kPortTable) return true;
  auto has_patch = [&] {
    return std::any_of(br_->ports.begin(), br_->ports.end(),
                       [](const auto& kv) { return kv.second.peer_bridge != nullptr; });
  };
  if (port == kPortFlood || port == kPortAll || port == kPortNormal) return has_patch();
  const XPort* p = br_->Port(port == kPortInPort ? in_ofport_ : port);
  return p && p->peer_bridge;
}

}  // namespace sluice::ofp::xlate_internal
