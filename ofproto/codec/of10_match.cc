// OpenFlow 1.0's ofp_match (wildcard bits, 16-bit in_port, nw_src/nw_dst as CIDR prefixes) <->
// OXM. Fields whose 1.0 prerequisites do not hold are ignored (OpenFlow 1.0 §5.2.3); ARP's opcode
// and addresses travel in nw_proto/nw_src/nw_dst.
#include <algorithm>
#include <bit>

#include "ofproto/codec/of10_internal.h"

namespace sluice::ofp::internal::of10 {

Match DecodeMatch10(Reader& r) {
  uint32_t w = r.U32() & kWAll;
  uint16_t in_port = r.U16();
  ByteSpan dl_src = r.Take(6);
  ByteSpan dl_dst = r.Take(6);
  uint16_t dl_vlan = r.U16();
  uint8_t dl_vlan_pcp = r.U8();
  r.Skip(1);
  uint16_t dl_type = r.U16();
  uint8_t nw_tos = r.U8();
  uint8_t nw_proto = r.U8();
  r.Skip(2);
  uint32_t nw_src = r.U32();
  uint32_t nw_dst = r.U32();
  uint16_t tp_src = r.U16();
  uint16_t tp_dst = r.U16();

  using F = OxmField;
  Match m;
  auto exact = [&m](F f, uint64_t v) { m.Set(OxmEntry::Exact(f, v)); };
  auto prefix = [&m, w](F f, uint32_t v, unsigned shift) {
    unsigned n = (w >> shift) & 0x3f;  // low bits wildcarded
    if (n >= 32) return;
    if (n == 0) {
      m.Set(OxmEntry::Exact(f, v));
    } else {
      uint32_t mask = ~uint32_t{0} << n;
      m.Set(OxmEntry::Masked(f, v & mask, mask));
    }
  };
  if (!(w & kWInPort)) exact(F::kInPort, PortFrom10(in_port));
  if (!(w & kWDlSrc)) m.Set(OxmEntry::FromBytes(F::kEthSrc, dl_src));
  if (!(w & kWDlDst)) m.Set(OxmEntry::FromBytes(F::kEthDst, dl_dst));
  if (!(w & kWDlType)) exact(F::kEthType, dl_type);
  if (!(w & kWDlVlan)) {
    if (dl_vlan == kVlanNone10) {
      exact(F::kVlanVid, 0);  // no tag; a priority means nothing then
    } else {
      exact(F::kVlanVid, kVidPresent | (dl_vlan & 0xfff));
      if (!(w & kWDlVlanPcp)) exact(F::kVlanPcp, dl_vlan_pcp & 7);
    }
  } else if (!(w & kWDlVlanPcp)) {
    // Any tag with this priority.
    m.Set(OxmEntry::Masked(F::kVlanVid, kVidPresent, kVidPresent));
    exact(F::kVlanPcp, dl_vlan_pcp & 7);
  }
  if (m.IsExactly(F::kEthType, 0x0800)) {
    if (!(w & kWNwTos)) exact(F::kIpDscp, nw_tos >> 2);
    prefix(F::kIpv4Src, nw_src, kNwSrcShift);
    prefix(F::kIpv4Dst, nw_dst, kNwDstShift);
    if (!(w & kWNwProto)) {
      exact(F::kIpProto, nw_proto);
      std::optional<F> src, dst;
      switch (nw_proto) {
        case 6:
          src = F::kTcpSrc, dst = F::kTcpDst;
          break;
        case 17:
          src = F::kUdpSrc, dst = F::kUdpDst;
          break;
        case 132:
          src = F::kSctpSrc, dst = F::kSctpDst;
          break;
        case 1:
          src = F::kIcmpv4Type, dst = F::kIcmpv4Code;
          tp_src &= 0xff;
          tp_dst &= 0xff;
          break;
        default:
          break;
      }
      if (src && !(w & kWTpSrc)) exact(*src, tp_src);
      if (dst && !(w & kWTpDst)) exact(*dst, tp_dst);
    }
  } else if (m.IsExactly(F::kEthType, 0x0806)) {
    if (!(w & kWNwProto)) exact(F::kArpOp, nw_proto);
    prefix(F::kArpSpa, nw_src, kNwSrcShift);
    prefix(F::kArpTpa, nw_dst, kNwDstShift);
  }
  return m;
}

Result<void> EncodeMatch10(const Match& m, Writer& out) {
  using F = OxmField;
  uint32_t w = kWAll;
  uint16_t in_port = 0, dl_vlan = 0, dl_type = 0, tp_src = 0, tp_dst = 0;
  std::array<uint8_t, 6> dl_src{}, dl_dst{};
  uint8_t pcp = 0, nw_tos = 0, nw_proto = 0;
  uint32_t nw_src = 0, nw_dst = 0;
  bool any_tag = false;
  auto nw = [&w](const OxmEntry& e, uint32_t* field, unsigned shift) -> Result<void> {
    uint32_t mask = static_cast<uint32_t>(e.MaskU64());
    uint32_t inv = ~mask;
    if ((inv & (inv + 1)) != 0) return Unsupported("a non-prefix IPv4 mask");
    *field = static_cast<uint32_t>(e.ValueU64()) & mask;
    w = (w & ~(0x3fu << shift)) | (static_cast<uint32_t>(std::popcount(inv)) << shift);
    return {};
  };
  for (const OxmEntry& e : m.fields()) {
    std::string name(FieldInfo(e.field).name);
    bool exact = IsExact(e);
    uint64_t v = e.ValueU64();
    switch (e.field) {
      case F::kIpv4Src:
      case F::kArpSpa:
        if (auto ok = nw(e, &nw_src, kNwSrcShift); !ok) return ok;
        continue;
      case F::kIpv4Dst:
      case F::kArpTpa:
        if (auto ok = nw(e, &nw_dst, kNwDstShift); !ok) return ok;
        continue;
      case F::kVlanVid:
        if (!exact) {
          if (e.ValueU64() != kVidPresent || e.MaskU64() != kVidPresent) {
            return Unsupported("a masked vlan_vid");
          }
          any_tag = true;
          continue;
        }
        break;
      default:
        if (!exact) return Unsupported("a masked " + name);
        break;
    }
    switch (e.field) {
      case F::kInPort: {
        Result<uint16_t> p = Port10(static_cast<uint32_t>(v));
        if (!p) return std::unexpected(p.error());
        in_port = *p;
        w &= ~kWInPort;
        break;
      }
      case F::kEthSrc:
        std::copy_n(e.value.begin(), 6, dl_src.begin());
        w &= ~kWDlSrc;
        break;
      case F::kEthDst:
        std::copy_n(e.value.begin(), 6, dl_dst.begin());
        w &= ~kWDlDst;
        break;
      case F::kEthType:
        dl_type = static_cast<uint16_t>(v);
        w &= ~kWDlType;
        break;
      case F::kVlanVid:
        dl_vlan = (v & kVidPresent) ? static_cast<uint16_t>(v & 0xfff) : kVlanNone10;
        w &= ~kWDlVlan;
        break;
      case F::kVlanPcp:
        pcp = static_cast<uint8_t>(v);
        w &= ~kWDlVlanPcp;
        break;
      case F::kIpDscp:
        nw_tos = static_cast<uint8_t>(v << 2);
        w &= ~kWNwTos;
        break;
      case F::kIpProto:
      case F::kArpOp:
        if (v > 0xff) return Unsupported("arp_op " + std::to_string(v));
        nw_proto = static_cast<uint8_t>(v);
        w &= ~kWNwProto;
        break;
      case F::kTcpSrc:
      case F::kUdpSrc:
      case F::kSctpSrc:
      case F::kIcmpv4Type:
        tp_src = static_cast<uint16_t>(v);
        w &= ~kWTpSrc;
        break;
      case F::kTcpDst:
      case F::kUdpDst:
      case F::kSctpDst:
      case F::kIcmpv4Code:
        tp_dst = static_cast<uint16_t>(v);
        w &= ~kWTpDst;
        break;
      default:
        return Unsupported("the match field " + name);
    }
  }
  if (any_tag && (w & kWDlVlanPcp)) return Unsupported("\"any VLAN tag\" without a priority");
  out.U32(w);
  out.U16(in_port);
  out.Append(dl_src);
  out.Append(dl_dst);
  out.U16(dl_vlan);
  out.U8(pcp);
  out.Zeros(1);
  out.U16(dl_type);
  out.U8(nw_tos);
  out.U8(nw_proto);
  out.Zeros(2);
  out.U32(nw_src);
  out.U32(nw_dst);
  out.U16(tp_src);
  out.U16(tp_dst);
  return {};
}

}  // namespace sluice::ofp::internal::of10
