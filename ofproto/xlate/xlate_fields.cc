// Datapath flow key <-> OpenFlow field values and masks.
#include "ofproto/xlate/xlate_ctx.h"

namespace sluice::ofp {

using namespace xlate_internal;

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

}  // namespace sluice::ofp
