// Set-field and the commit: the OpenFlow view of the packet (flow_, cur_) turned into the
// datapath set/push/pop actions that make the emitted packet (base_) that packet.
#include "ofproto/xlate/xlate_ctx.h"

namespace sluice::ofp::xlate_internal {

void Ctx::SyncVlanFields() {
  if (HasTag(cur_.vlans[0])) {
    uint16_t tci = N16(cur_.vlans[0].tci);
    flow_.Set(OxmField::kVlanVid, kVlanPresent | (tci & 0xfff));
    flow_.Set(OxmField::kVlanPcp, tci >> 13);
  } else {
    flow_.Set(OxmField::kVlanVid, 0);
    flow_.Set(OxmField::kVlanPcp, 0);
  }
}

void Ctx::SetField(const OxmEntry& e) {
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
void Ctx::Commit() {
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
    for (uint32_t sub : {dp::kMplsLabelMask, dp::kMplsTcMask, dp::kMplsBosMask, dp::kMplsTtlMask}) {
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
void Ctx::CommitArp() {
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

}  // namespace sluice::ofp::xlate_internal
