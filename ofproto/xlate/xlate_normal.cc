// NORMAL: an L2 learning switch with VLANs (access, trunk, native, dot1q-tunnel QinQ).
#include "ofproto/xlate/xlate_ctx.h"

namespace sluice::ofp::xlate_internal {

// ---- NORMAL: an L2 learning switch with VLANs ----
void Ctx::Normal() {
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
        Trace(
            fmt::format("NORMAL: doubly tagged frame on dot1q-tunnel port {}, dropped", in->name));
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
void Ctx::NormalOutput(const XPort& p, uint16_t vlan, const XPort* tunnel_in) {
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

}  // namespace sluice::ofp::xlate_internal

namespace sluice::ofp {

using namespace xlate_internal;

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

}  // namespace sluice::ofp
