// The OpenFlow 1.0 wire codec. It decodes into, and encodes from, the same typed (OpenFlow 1.3)
// messages as the 1.3 codec, so the switch logic is written once:
//
//   - ofp_match (wildcard bits, 16-bit in_port, nw_src/nw_dst as CIDR prefixes) <-> OXM Match.
//     Fields whose 1.0 prerequisites do not hold (nw_* without dl_type IPv4/ARP, tp_* without an
//     exact nw_proto of TCP, UDP, SCTP or ICMP) are ignored, as OpenFlow 1.0 §5.2.3 says; ARP's
//     opcode and addresses travel in nw_proto/nw_src/nw_dst.
//   - 1.0 actions <-> one apply-actions instruction. set_vlan_vid/pcp, set_dl_*, set_nw_*,
//     set_nw_tos and set_tp_* become set-field (tp_* on TCP unless the match says UDP or SCTP),
//     strip_vlan becomes pop_vlan, enqueue becomes set_queue + output.
//   - flow_mod, packet_in, packet_out, flow_removed, port_status, port_mod, features reply (with
//     the ports inline), stats request/reply (desc, flow, aggregate, table, port, queue) <->
//     their 1.3 counterparts; 16-bit <-> 32-bit port numbers (0xff00 and up are the reserved
//     ports in both); queue_get_config.
//
// Encoding what 1.0 cannot express (a masked Ethernet address, an IPv6 field, a goto-table, a
// group, a meter mod...) fails with kUnsupported, except in a flow stats reply, where flows
// that 1.0 cannot describe are left out (a 1.0 controller sees the flows it can understand).
#include <algorithm>
#include <bit>
#include <optional>
#include <string>
#include <type_traits>

#include "ofproto/codec/codec_internal.h"

namespace sluice::ofp {

std::pair<uint16_t, uint16_t> Of10ErrorCode(OfpErr err) {
  constexpr uint16_t kHelloFailed = 0, kBadRequest = 1, kBadAction = 2, kFlowModFailed = 3,
                     kPortModFailed = 4, kQueueOpFailed = 5;
  constexpr std::pair<uint16_t, uint16_t> kRequestEperm{kBadRequest, 5};
  uint16_t type = ErrType(err), code = ErrCode(err);
  switch (static_cast<OfpErrType>(type)) {
    case OfpErrType::kHelloFailed:
      return {kHelloFailed, code};
    case OfpErrType::kBadRequest:
      // BAD_VERSION..BUFFER_UNKNOWN (0..8) are the same in 1.0 (BAD_STAT, BAD_VENDOR and
      // BAD_SUBTYPE are what 1.3 renamed).
      return code <= 8 ? std::pair<uint16_t, uint16_t>{kBadRequest, code} : kRequestEperm;
    case OfpErrType::kBadAction:
      // BAD_TYPE..BAD_QUEUE (0..8) are the same; the rest are argument problems.
      return {kBadAction, code <= 8 ? code : uint16_t{5}};
    case OfpErrType::kBadInstruction:
      return {kBadAction, 5};  // 1.0 has only actions: OFPBAC_BAD_ARGUMENT
    case OfpErrType::kFlowModFailed:
      switch (err) {
        case OfpErr::kFlowModTableFull:
          return {kFlowModFailed, 0};  // OFPFMFC_ALL_TABLES_FULL
        case OfpErr::kFlowModOverlap:
          return {kFlowModFailed, 1};
        case OfpErr::kFlowModBadCommand:
          return {kFlowModFailed, 4};
        default:
          return {kFlowModFailed, 2};  // OFPFMFC_EPERM
      }
    case OfpErrType::kPortModFailed:
      if (err == OfpErr::kPortModBadPort) return {kPortModFailed, 0};
      if (err == OfpErr::kPortModBadHwAddr) return {kPortModFailed, 1};
      return kRequestEperm;
    case OfpErrType::kQueueOpFailed:
      return {kQueueOpFailed, code};  // BAD_PORT, BAD_QUEUE, EPERM
    default:
      return kRequestEperm;
  }
}

namespace internal {
namespace {

enum class T10 : uint8_t {
  kHello = 0,
  kError = 1,
  kEchoRequest = 2,
  kEchoReply = 3,
  kVendor = 4,
  kFeaturesRequest = 5,
  kFeaturesReply = 6,
  kGetConfigRequest = 7,
  kGetConfigReply = 8,
  kSetConfig = 9,
  kPacketIn = 10,
  kFlowRemoved = 11,
  kPortStatus = 12,
  kPacketOut = 13,
  kFlowMod = 14,
  kPortMod = 15,
  kStatsRequest = 16,
  kStatsReply = 17,
  kBarrierRequest = 18,
  kBarrierReply = 19,
  kQueueGetConfigRequest = 20,
  kQueueGetConfigReply = 21,
};

enum class Stats10 : uint16_t {
  kDesc = 0,
  kFlow = 1,
  kAggregate = 2,
  kTable = 3,
  kPort = 4,
  kQueue = 5,
  kVendor = 0xffff
};

enum class Act10 : uint16_t {
  kOutput = 0,
  kSetVlanVid = 1,
  kSetVlanPcp = 2,
  kStripVlan = 3,
  kSetDlSrc = 4,
  kSetDlDst = 5,
  kSetNwSrc = 6,
  kSetNwDst = 7,
  kSetNwTos = 8,
  kSetTpSrc = 9,
  kSetTpDst = 10,
  kEnqueue = 11,
  kVendor = 0xffff,
};

// ofp_flow_wildcards.
constexpr uint32_t kWInPort = 1 << 0, kWDlVlan = 1 << 1, kWDlSrc = 1 << 2, kWDlDst = 1 << 3,
                   kWDlType = 1 << 4, kWNwProto = 1 << 5, kWTpSrc = 1 << 6, kWTpDst = 1 << 7,
                   kWDlVlanPcp = 1 << 20, kWNwTos = 1 << 21, kWAll = (1 << 22) - 1;
constexpr unsigned kNwSrcShift = 8, kNwDstShift = 14;

constexpr uint16_t kPort10Max = 0xff00;
constexpr uint16_t kPort10All = 0xfffc;
constexpr uint16_t kVlanNone10 = 0xffff;
constexpr size_t kMatch10Len = 40;
constexpr size_t kPhyPortLen = 48;
constexpr size_t kFlowStats10Fixed = 88;
constexpr size_t kTableStats10Len = 64;
constexpr size_t kPortStats10Len = 104;
constexpr size_t kQueueStats10Len = 32;

// Port config/state/feature bits that mean the same in both versions.
constexpr uint32_t kConfigCommon = 0x1 | 0x4 | 0x20 | 0x40;  // down, no_recv, no_fwd, no_pkt_in
constexpr uint32_t kStateCommon = 0x1;                       // link down
// OFPC_* in both: flow, table, port stats, ip reasm, queue stats.
constexpr uint32_t kCapsCommon = 0x1 | 0x2 | 0x4 | 0x20 | 0x40;
constexpr uint32_t kCapArpMatchIp = 0x80;
constexpr uint32_t kAllActions10 = 0xfff;  // OUTPUT .. ENQUEUE

std::unexpected<Error> Unsupported(const std::string& what) {
  return MakeError(Errc::kUnsupported, "OpenFlow 1.0 cannot express " + what);
}

OfpErr BadLen() { return OfpErr::kBadRequestBadLen; }

uint32_t PortFrom10(uint16_t p) { return p >= kPort10Max ? 0xffff0000u | p : p; }

std::optional<uint16_t> PortTo10(uint32_t p) {
  if (p >= kPortMax) return static_cast<uint16_t>(p);
  if (p < kPort10Max) return static_cast<uint16_t>(p);
  return std::nullopt;
}

Result<uint16_t> Port10(uint32_t p) {
  std::optional<uint16_t> v = PortTo10(p);
  if (!v) return Unsupported("port " + std::to_string(p));
  return *v;
}

uint32_t FeaturesFrom10(uint32_t f) { return (f & 0x7f) | (((f >> 7) & 0x1f) << 11); }
uint32_t FeaturesTo10(uint32_t f) { return (f & 0x7f) | (((f >> 11) & 0x1f) << 7); }

// ---- Match -----------------------------------------------------------------------------

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

bool IsExact(const OxmEntry& e) {
  if (!e.has_mask) return true;
  for (uint8_t b : e.mask_bytes()) {
    if (b != 0xff) return false;
  }
  return true;
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

// ---- Actions ---------------------------------------------------------------------------

bool ValidOutPort10(uint32_t p) {
  if (p != 0 && p < kPortMax) return true;
  return p == kPortInPort || p == kPortTable || p == kPortNormal || p == kPortFlood ||
         p == kPortAll || p == kPortController || p == kPortLocal;
}

// The transport protocol a set_tp_* rewrites: the match's, TCP when it does not say.
uint8_t L4Of(const Match* m) {
  if (m) {
    if (const OxmEntry* p = m->Find(OxmField::kIpProto); p && IsExact(*p)) {
      return static_cast<uint8_t>(p->ValueU64());
    }
  }
  return 6;
}

OfpResult<ActionList> DecodeActions10(ByteSpan data, const Match* match) {
  using F = OxmField;
  ActionList out;
  Reader r(data);
  uint8_t l4 = L4Of(match);
  auto set = [&out](F f, uint64_t v) { out.push_back(ActSetField{OxmEntry::Exact(f, v)}); };
  while (r.remaining() > 0) {
    if (r.remaining() < 4) return Fail(OfpErr::kBadActionBadLen, "truncated action header");
    uint16_t type = r.U16();
    uint16_t len = r.U16();
    if (len < 8 || len % 8 != 0 || len - 4u > r.remaining()) {
      return Fail(OfpErr::kBadActionBadLen, "action length " + std::to_string(len));
    }
    Reader a(r.Take(len - 4u));
    auto want = [len, type](uint16_t n) -> OfpResult<void> {
      if (len != n) {
        return Fail(OfpErr::kBadActionBadLen,
                    "action type " + std::to_string(type) + " length " + std::to_string(len));
      }
      return {};
    };
    OfpResult<void> ok;
    switch (static_cast<Act10>(type)) {
      case Act10::kOutput: {
        if (!(ok = want(8))) break;
        uint32_t port = PortFrom10(a.U16());
        uint16_t max_len = a.U16();
        if (!ValidOutPort10(port)) {
          return Fail(OfpErr::kBadActionBadOutPort, "output to " + std::to_string(port));
        }
        out.push_back(ActOutput{port, max_len});
        break;
      }
      case Act10::kSetVlanVid: {
        if (!(ok = want(8))) break;
        uint16_t vid = a.U16();
        if (vid > 0xfff) return Fail(OfpErr::kBadActionBadArgument, "vlan vid");
        set(F::kVlanVid, kVidPresent | vid);
        break;
      }
      case Act10::kSetVlanPcp: {
        if (!(ok = want(8))) break;
        uint8_t pcp = a.U8();
        if (pcp > 7) return Fail(OfpErr::kBadActionBadArgument, "vlan pcp");
        set(F::kVlanPcp, pcp);
        break;
      }
      case Act10::kStripVlan:
        if (!(ok = want(8))) break;
        out.push_back(ActPopVlan{});
        break;
      case Act10::kSetDlSrc:
      case Act10::kSetDlDst: {
        if (!(ok = want(16))) break;
        F f = static_cast<Act10>(type) == Act10::kSetDlSrc ? F::kEthSrc : F::kEthDst;
        out.push_back(ActSetField{OxmEntry::FromBytes(f, a.Take(6))});
        break;
      }
      case Act10::kSetNwSrc:
      case Act10::kSetNwDst:
        if (!(ok = want(8))) break;
        set(static_cast<Act10>(type) == Act10::kSetNwSrc ? F::kIpv4Src : F::kIpv4Dst, a.U32());
        break;
      case Act10::kSetNwTos: {
        if (!(ok = want(8))) break;
        uint8_t tos = a.U8();
        if (tos & 3) return Fail(OfpErr::kBadActionBadArgument, "nw_tos with ECN bits");
        set(F::kIpDscp, tos >> 2);
        break;
      }
      case Act10::kSetTpSrc:
      case Act10::kSetTpDst: {
        if (!(ok = want(8))) break;
        bool src = static_cast<Act10>(type) == Act10::kSetTpSrc;
        F f = l4 == 17    ? (src ? F::kUdpSrc : F::kUdpDst)
              : l4 == 132 ? (src ? F::kSctpSrc : F::kSctpDst)
                          : (src ? F::kTcpSrc : F::kTcpDst);
        set(f, a.U16());
        break;
      }
      case Act10::kEnqueue: {
        if (!(ok = want(16))) break;
        uint32_t port = PortFrom10(a.U16());
        a.Skip(6);
        uint32_t queue = a.U32();
        if (!((port != 0 && port < kPortMax) || port == kPortInPort || port == kPortLocal)) {
          return Fail(OfpErr::kBadActionBadOutPort, "enqueue on " + std::to_string(port));
        }
        out.push_back(ActSetQueue{queue});
        out.push_back(ActOutput{port, 0});
        break;
      }
      case Act10::kVendor: {
        ActExperimenter e;
        e.experimenter = a.U32();
        ByteSpan rest = a.Rest();
        e.data.assign(rest.begin(), rest.end());
        out.push_back(std::move(e));
        break;
      }
      default:
        return Fail(OfpErr::kBadActionBadType, "action type " + std::to_string(type));
    }
    if (!ok) return std::unexpected(std::move(ok.error()));
  }
  return out;
}

Result<void> EncodeActions10(const ActionList& actions, Writer& w) {
  using F = OxmField;
  auto header = [&w](Act10 t, uint16_t len) {
    w.U16(static_cast<uint16_t>(t));
    w.U16(len);
  };
  for (size_t i = 0; i < actions.size(); ++i) {
    const Action& action = actions[i];
    if (const auto* q = std::get_if<ActSetQueue>(&action)) {
      const auto* o = i + 1 < actions.size() ? std::get_if<ActOutput>(&actions[i + 1]) : nullptr;
      if (!o) return Unsupported("set_queue without a following output");
      Result<uint16_t> port = Port10(o->port);
      if (!port) return std::unexpected(port.error());
      header(Act10::kEnqueue, 16);
      w.U16(*port);
      w.Zeros(6);
      w.U32(q->queue_id);
      ++i;
    } else if (const auto* o = std::get_if<ActOutput>(&action)) {
      Result<uint16_t> port = Port10(o->port);
      if (!port) return std::unexpected(port.error());
      header(Act10::kOutput, 8);
      w.U16(*port);
      w.U16(o->max_len);
    } else if (std::holds_alternative<ActPopVlan>(action)) {
      header(Act10::kStripVlan, 8);
      w.Zeros(4);
    } else if (const auto* e = std::get_if<ActExperimenter>(&action)) {
      size_t start = w.size();
      header(Act10::kVendor, 0);
      w.U32(e->experimenter);
      w.Append(e->data);
      w.PadTo8(start);
      w.PatchU16(start + 2, static_cast<uint16_t>(w.size() - start));
    } else if (const auto* s = std::get_if<ActSetField>(&action)) {
      const OxmEntry& f = s->field;
      uint64_t v = f.ValueU64();
      switch (f.field) {
        case F::kVlanVid:
          header(Act10::kSetVlanVid, 8);
          w.U16(static_cast<uint16_t>(v & 0xfff));
          w.Zeros(2);
          break;
        case F::kVlanPcp:
          header(Act10::kSetVlanPcp, 8);
          w.U8(static_cast<uint8_t>(v));
          w.Zeros(3);
          break;
        case F::kEthSrc:
        case F::kEthDst:
          header(f.field == F::kEthSrc ? Act10::kSetDlSrc : Act10::kSetDlDst, 16);
          w.Append(f.value_bytes());
          w.Zeros(6);
          break;
        case F::kIpv4Src:
        case F::kIpv4Dst:
          header(f.field == F::kIpv4Src ? Act10::kSetNwSrc : Act10::kSetNwDst, 8);
          w.U32(static_cast<uint32_t>(v));
          break;
        case F::kIpDscp:
          header(Act10::kSetNwTos, 8);
          w.U8(static_cast<uint8_t>(v << 2));
          w.Zeros(3);
          break;
        case F::kTcpSrc:
        case F::kUdpSrc:
        case F::kSctpSrc:
        case F::kTcpDst:
        case F::kUdpDst:
        case F::kSctpDst: {
          bool src = f.field == F::kTcpSrc || f.field == F::kUdpSrc || f.field == F::kSctpSrc;
          header(src ? Act10::kSetTpSrc : Act10::kSetTpDst, 8);
          w.U16(static_cast<uint16_t>(v));
          w.Zeros(2);
          break;
        }
        default:
          return Unsupported("set_field of " + std::string(FieldInfo(f.field).name));
      }
    } else {
      return Unsupported("this action (type " + std::to_string(action.index()) + ")");
    }
  }
  return {};
}

// A flow's instructions as 1.0 sees them: nothing, or one apply-actions.
Result<const ActionList*> ActionsOf(const InstructionList& insts) {
  static const ActionList kNone;
  if (insts.empty()) return &kNone;
  if (insts.size() == 1) {
    if (const auto* a = std::get_if<InstApplyActions>(&insts[0])) return &a->actions;
  }
  return Unsupported("instructions other than one apply-actions");
}

InstructionList InstructionsOf(ActionList actions) {
  if (actions.empty()) return {};
  return {InstApplyActions{std::move(actions)}};
}

Result<void> EncodeInstructions10(const InstructionList& insts, Writer& w) {
  Result<const ActionList*> acts = ActionsOf(insts);
  if (!acts) return std::unexpected(acts.error());
  return EncodeActions10(**acts, w);
}

// ---- Ports -----------------------------------------------------------------------------

void DecodePhyPort(Reader& r, PortDesc* p) {
  *p = PortDesc{};
  p->port_no = PortFrom10(r.U16());
  for (uint8_t& b : p->hw_addr) b = r.U8();
  p->name = ReadFixedString(r, 16);
  p->config = r.U32() & kConfigCommon;
  p->state = r.U32() & kStateCommon;
  p->curr = FeaturesFrom10(r.U32());
  p->advertised = FeaturesFrom10(r.U32());
  p->supported = FeaturesFrom10(r.U32());
  p->peer = FeaturesFrom10(r.U32());
}

Result<void> EncodePhyPort(const PortDesc& p, Writer& w) {
  Result<uint16_t> port = Port10(p.port_no);
  if (!port) return std::unexpected(port.error());
  w.U16(*port);
  w.Append(p.hw_addr);
  WriteFixedString(p.name, 16, w);
  w.U32(p.config & kConfigCommon);
  w.U32(p.state & kStateCommon);
  for (uint32_t f : {p.curr, p.advertised, p.supported, p.peer}) w.U32(FeaturesTo10(f));
  return {};
}

// ---- Decoding --------------------------------------------------------------------------

template <class T>
OfpResult<Message> Lift(const Header& h, OfpResult<T>&& r) {
  if (!r) return std::unexpected(std::move(r.error()));
  return Message{h.version, h.xid, MessageBody(std::move(*r))};
}

OfpResult<void> ExpectLen(ByteSpan body, size_t want) {
  if (body.size() != want) {
    return Fail(BadLen(), "body is " + std::to_string(body.size()) + " bytes, expected " +
                              std::to_string(want));
  }
  return {};
}

OfpResult<FeaturesReply> DecodeFeatures10(ByteSpan body) {
  if (body.size() < 24 || (body.size() - 24) % kPhyPortLen != 0) {
    return Fail(BadLen(), "features reply length");
  }
  Reader r(body);
  FeaturesReply f;
  f.datapath_id = r.U64();
  f.n_buffers = r.U32();
  f.n_tables = r.U8();
  r.Skip(3);
  f.capabilities = r.U32() & kCapsCommon;
  r.Skip(4);  // supported actions
  while (r.remaining() > 0) {
    PortDesc p;
    DecodePhyPort(r, &p);
    f.ports.push_back(std::move(p));
  }
  return f;
}

OfpResult<FlowMod> DecodeFlowMod10(ByteSpan body) {
  if (body.size() < kMatch10Len + 24) return Fail(BadLen(), "short flow_mod");
  Reader r(body);
  FlowMod f;
  f.match = DecodeMatch10(r);
  f.cookie = r.U64();
  uint16_t command = r.U16();
  f.idle_timeout = r.U16();
  f.hard_timeout = r.U16();
  f.priority = r.U16();
  f.buffer_id = r.U32();
  f.out_port = PortFrom10(r.U16());
  f.flags = r.U16();
  if (command > static_cast<uint16_t>(FlowModCommand::kDeleteStrict)) {
    return Fail(OfpErr::kFlowModBadCommand, "command " + std::to_string(command));
  }
  f.command = static_cast<FlowModCommand>(command);
  // SEND_FLOW_REM and CHECK_OVERLAP; OFPFF_EMERG (emergency flows) is not supported.
  if (f.flags & ~(kFlowSendFlowRem | kFlowCheckOverlap)) {
    return Fail(OfpErr::kFlowModBadFlags, "flags " + std::to_string(f.flags));
  }
  // 1.0 has one table as far as the controller knows: adds and modifies go to table 0, deletes
  // apply to every table (as Open vSwitch does).
  bool deleting =
      f.command == FlowModCommand::kDelete || f.command == FlowModCommand::kDeleteStrict;
  f.table_id = deleting ? kTableAll : 0;
  OfpResult<ActionList> acts = DecodeActions10(r.Rest(), &f.match);
  if (!acts) return std::unexpected(std::move(acts.error()));
  f.instructions = InstructionsOf(std::move(*acts));
  return f;
}

OfpResult<PacketIn> DecodePacketIn10(ByteSpan body) {
  if (body.size() < 10) return Fail(BadLen(), "short packet_in");
  Reader r(body);
  PacketIn p;
  p.buffer_id = r.U32();
  p.total_len = r.U16();
  p.match.Set(OxmEntry::Exact(OxmField::kInPort, PortFrom10(r.U16())));
  uint8_t reason = r.U8();
  r.Skip(1);
  if (reason > static_cast<uint8_t>(PacketInReason::kAction)) {
    return Fail(OfpErr::kBadRequestBadType, "packet_in reason " + std::to_string(reason));
  }
  p.reason = static_cast<PacketInReason>(reason);
  ByteSpan data = r.Rest();
  p.data.assign(data.begin(), data.end());
  return p;
}

bool ValidInPort10(uint32_t port) {
  return (port != 0 && port < kPortMax) || port == kPortLocal || port == kPortController ||
         port == kPortAny;
}

OfpResult<PacketOut> DecodePacketOut10(ByteSpan body) {
  if (body.size() < 8) return Fail(BadLen(), "short packet_out");
  Reader r(body);
  PacketOut p;
  p.buffer_id = r.U32();
  // OFPP_NONE ("no input port") is what 1.3 calls OFPP_CONTROLLER for a packet-out.
  uint16_t in_port = r.U16();
  p.in_port = in_port == 0xffff ? kPortController : PortFrom10(in_port);
  uint16_t actions_len = r.U16();
  if (actions_len > r.remaining()) {
    return Fail(BadLen(), "actions_len " + std::to_string(actions_len));
  }
  if (!ValidInPort10(p.in_port)) {
    return Fail(OfpErr::kBadRequestBadPort, "in_port " + std::to_string(p.in_port));
  }
  OfpResult<ActionList> acts = DecodeActions10(r.Take(actions_len), nullptr);
  if (!acts) return std::unexpected(std::move(acts.error()));
  p.actions = std::move(*acts);
  ByteSpan data = r.Rest();
  p.data.assign(data.begin(), data.end());
  return p;
}

OfpResult<FlowRemoved> DecodeFlowRemoved10(ByteSpan body) {
  if (auto ok = ExpectLen(body, kMatch10Len + 40); !ok) return std::unexpected(ok.error());
  Reader r(body);
  FlowRemoved f;
  f.match = DecodeMatch10(r);
  f.cookie = r.U64();
  f.priority = r.U16();
  uint8_t reason = r.U8();
  r.Skip(1);
  f.duration_sec = r.U32();
  f.duration_nsec = r.U32();
  f.idle_timeout = r.U16();
  r.Skip(2);
  f.packet_count = r.U64();
  f.byte_count = r.U64();
  if (reason > static_cast<uint8_t>(FlowRemovedReason::kDelete)) {
    return Fail(OfpErr::kBadRequestBadType, "flow_removed reason " + std::to_string(reason));
  }
  f.reason = static_cast<FlowRemovedReason>(reason);
  return f;
}

OfpResult<PortStatus> DecodePortStatus10(ByteSpan body) {
  if (auto ok = ExpectLen(body, 8 + kPhyPortLen); !ok) return std::unexpected(ok.error());
  Reader r(body);
  PortStatus s;
  s.reason = static_cast<PortReason>(r.U8());
  r.Skip(7);
  DecodePhyPort(r, &s.desc);
  return s;
}

OfpResult<PortMod> DecodePortMod10(ByteSpan body) {
  if (auto ok = ExpectLen(body, 24); !ok) return std::unexpected(ok.error());
  Reader r(body);
  PortMod p;
  p.port_no = PortFrom10(r.U16());
  for (uint8_t& b : p.hw_addr) b = r.U8();
  p.config = r.U32();
  p.mask = r.U32();
  p.advertise = FeaturesFrom10(r.U32());
  if (p.port_no == 0 || (p.port_no >= kPortMax && p.port_no != kPortLocal)) {
    return Fail(OfpErr::kPortModBadPort, "port " + std::to_string(p.port_no));
  }
  // NO_STP, NO_RECV_STP and NO_FLOOD have no OpenFlow 1.3 meaning here.
  if ((p.config | p.mask) & ~kConfigCommon) {
    return Fail(OfpErr::kPortModBadConfig, "config bits without a 1.3 equivalent");
  }
  return p;
}

OfpResult<uint32_t> QueuePort10(uint16_t p) {
  uint32_t port = p == kPort10All ? kPortAny : PortFrom10(p);
  if (port == 0 || (port > kPortMax && port != kPortAny)) {
    return Fail(OfpErr::kQueueOpBadPort, "port " + std::to_string(port));
  }
  return port;
}

OfpResult<FlowStatsFilter> DecodeFilter10(ByteSpan body) {
  if (auto ok = ExpectLen(body, kMatch10Len + 4); !ok) return std::unexpected(ok.error());
  Reader r(body);
  FlowStatsFilter f;
  f.match = DecodeMatch10(r);
  f.table_id = r.U8();
  r.Skip(1);
  f.out_port = PortFrom10(r.U16());
  return f;
}

OfpResult<MultipartRequestBody> DecodeStatsRequestBody(uint16_t type, ByteSpan body) {
  auto empty = [&body](auto v) -> OfpResult<MultipartRequestBody> {
    if (auto ok = ExpectLen(body, 0); !ok) return std::unexpected(ok.error());
    return v;
  };
  switch (static_cast<Stats10>(type)) {
    case Stats10::kDesc:
      return empty(DescRequest{});
    case Stats10::kTable:
      return empty(TableStatsRequest{});
    case Stats10::kFlow:
    case Stats10::kAggregate: {
      OfpResult<FlowStatsFilter> f = DecodeFilter10(body);
      if (!f) return std::unexpected(std::move(f.error()));
      if (static_cast<Stats10>(type) == Stats10::kFlow) return FlowStatsRequest{std::move(*f)};
      return AggregateRequest{std::move(*f)};
    }
    case Stats10::kPort: {
      if (auto ok = ExpectLen(body, 8); !ok) return std::unexpected(ok.error());
      return PortStatsRequest{PortFrom10(Reader(body).U16())};
    }
    case Stats10::kQueue: {
      if (auto ok = ExpectLen(body, 8); !ok) return std::unexpected(ok.error());
      Reader r(body);
      uint16_t port = r.U16();
      r.Skip(2);
      QueueStatsRequest q;
      q.port_no = port == kPort10All ? kPortAny : PortFrom10(port);
      q.queue_id = r.U32();
      return q;
    }
    case Stats10::kVendor:
      return Fail(OfpErr::kBadRequestBadExperimenter, "vendor stats");
  }
  return Fail(OfpErr::kBadRequestBadMultipart, "stats type " + std::to_string(type));
}

// Reads the entries of a variable-length stats reply; `fixed` is the smallest entry.
template <class Entry, class Fn>
OfpResult<std::vector<Entry>> FixedEntries(ByteSpan body, size_t len, Fn read) {
  if (body.size() % len != 0) return Fail(BadLen(), "stats entry length");
  std::vector<Entry> out;
  Reader r(body);
  while (r.remaining() > 0) {
    Entry e;
    read(r, e);
    out.push_back(std::move(e));
  }
  return out;
}

OfpResult<FlowStatsReply> DecodeFlowStats10(ByteSpan body) {
  FlowStatsReply reply;
  Reader r(body);
  while (r.remaining() > 0) {
    if (r.remaining() < kFlowStats10Fixed) return Fail(BadLen(), "truncated flow stats");
    Reader peek = r;
    uint16_t len = peek.U16();
    if (len < kFlowStats10Fixed || len > r.remaining() || len % 8 != 0) {
      return Fail(BadLen(), "flow stats length " + std::to_string(len));
    }
    Reader e(r.Take(len));
    FlowStats s;
    e.Skip(2);
    s.table_id = e.U8();
    e.Skip(1);
    s.match = DecodeMatch10(e);
    s.duration_sec = e.U32();
    s.duration_nsec = e.U32();
    s.priority = e.U16();
    s.idle_timeout = e.U16();
    s.hard_timeout = e.U16();
    e.Skip(6);
    s.cookie = e.U64();
    s.packet_count = e.U64();
    s.byte_count = e.U64();
    OfpResult<ActionList> acts = DecodeActions10(e.Rest(), &s.match);
    if (!acts) return std::unexpected(std::move(acts.error()));
    s.instructions = InstructionsOf(std::move(*acts));
    reply.entries.push_back(std::move(s));
  }
  return reply;
}

OfpResult<MultipartReplyBody> DecodeStatsReplyBody(uint16_t type, ByteSpan body) {
  Reader r(body);
  switch (static_cast<Stats10>(type)) {
    case Stats10::kDesc: {
      if (auto ok = ExpectLen(body, 1056); !ok) return std::unexpected(ok.error());
      DescReply d;
      d.mfr_desc = ReadFixedString(r, 256);
      d.hw_desc = ReadFixedString(r, 256);
      d.sw_desc = ReadFixedString(r, 256);
      d.serial_num = ReadFixedString(r, 32);
      d.dp_desc = ReadFixedString(r, 256);
      return d;
    }
    case Stats10::kFlow: {
      auto f = DecodeFlowStats10(body);
      if (!f) return std::unexpected(std::move(f.error()));
      return std::move(*f);
    }
    case Stats10::kAggregate: {
      if (auto ok = ExpectLen(body, 24); !ok) return std::unexpected(ok.error());
      AggregateReply a;
      a.packet_count = r.U64();
      a.byte_count = r.U64();
      a.flow_count = r.U32();
      return a;
    }
    case Stats10::kTable: {
      auto t = FixedEntries<TableStats>(body, kTableStats10Len, [](Reader& er, TableStats& s) {
        s.table_id = er.U8();
        er.Skip(3 + 32 + 4 + 4);  // pad, name, wildcards, max_entries
        s.active_count = er.U32();
        s.lookup_count = er.U64();
        s.matched_count = er.U64();
      });
      if (!t) return std::unexpected(std::move(t.error()));
      return TableStatsReply{std::move(*t)};
    }
    case Stats10::kPort: {
      auto p = FixedEntries<PortStats>(body, kPortStats10Len, [](Reader& er, PortStats& s) {
        s.port_no = PortFrom10(er.U16());
        er.Skip(6);
        for (uint64_t* c : {&s.rx_packets, &s.tx_packets, &s.rx_bytes, &s.tx_bytes, &s.rx_dropped,
                            &s.tx_dropped, &s.rx_errors, &s.tx_errors, &s.rx_frame_err,
                            &s.rx_over_err, &s.rx_crc_err, &s.collisions}) {
          *c = er.U64();
        }
      });
      if (!p) return std::unexpected(std::move(p.error()));
      return PortStatsReply{std::move(*p)};
    }
    case Stats10::kQueue: {
      auto q = FixedEntries<QueueStats>(body, kQueueStats10Len, [](Reader& er, QueueStats& s) {
        s.port_no = PortFrom10(er.U16());
        er.Skip(2);
        s.queue_id = er.U32();
        s.tx_bytes = er.U64();
        s.tx_packets = er.U64();
        s.tx_errors = er.U64();
      });
      if (!q) return std::unexpected(std::move(q.error()));
      return QueueStatsReply{std::move(*q)};
    }
    case Stats10::kVendor:
      return Fail(OfpErr::kBadRequestBadExperimenter, "vendor stats");
  }
  return Fail(OfpErr::kBadRequestBadMultipart, "stats type " + std::to_string(type));
}

template <class M, class BodyT>
OfpResult<M> DecodeStats(ByteSpan body,
                         OfpResult<BodyT> (*decode_body)(uint16_t type, ByteSpan body)) {
  if (body.size() < 4) return Fail(BadLen(), "short stats header");
  Reader r(body);
  uint16_t type = r.U16();
  uint16_t flags = r.U16();
  OfpResult<BodyT> b = decode_body(type, r.Rest());
  if (!b) return std::unexpected(std::move(b.error()));
  return M{flags, std::move(*b)};
}

OfpResult<QueueGetConfigRequest> DecodeQueueRequest10(ByteSpan body) {
  if (auto ok = ExpectLen(body, 4); !ok) return std::unexpected(ok.error());
  OfpResult<uint32_t> port = QueuePort10(Reader(body).U16());
  if (!port) return std::unexpected(std::move(port.error()));
  return QueueGetConfigRequest{*port};
}

OfpResult<QueueGetConfigReply> DecodeQueueReply10(ByteSpan body) {
  if (body.size() < 8) return Fail(BadLen(), "short queue_get_config_reply");
  Reader r(body);
  QueueGetConfigReply q;
  q.port = PortFrom10(r.U16());
  r.Skip(6);
  while (r.remaining() > 0) {
    if (r.remaining() < 8) return Fail(BadLen(), "truncated queue");
    PacketQueue pq;
    pq.queue_id = r.U32();
    pq.port = q.port;
    uint16_t len = r.U16();
    r.Skip(2);
    if (len < 8 || len % 8 != 0 || len - 8u > r.remaining()) {
      return Fail(BadLen(), "queue length " + std::to_string(len));
    }
    auto props = DecodeQueueProps(r.Take(len - 8u));
    if (!props) return std::unexpected(std::move(props.error()));
    for (const QueueProp& p : *props) {
      if (p.type != QueuePropType::kMinRate) return Fail(BadLen(), "1.0 queue property type");
    }
    pq.properties = std::move(*props);
    q.queues.push_back(std::move(pq));
  }
  return q;
}

OfpResult<ExperimenterMsg> DecodeVendor10(ByteSpan body) {
  if (body.size() < 4) return Fail(BadLen(), "short vendor message");
  Reader r(body);
  ExperimenterMsg m;
  m.experimenter = r.U32();
  ByteSpan rest = r.Rest();
  m.data.assign(rest.begin(), rest.end());
  return m;
}

template <class T>
OfpResult<T> HeaderOnly(ByteSpan body) {
  if (!body.empty()) return Fail(BadLen(), "message takes no body");
  return T{};
}

template <class T>
OfpResult<T> Config10(ByteSpan body, bool is_set) {
  OfpResult<SwitchConfig> c = DecodeSwitchConfig(body, is_set);
  if (!c) return std::unexpected(std::move(c.error()));
  T t;
  static_cast<SwitchConfig&>(t) = *c;
  return t;
}

// ---- Encoding --------------------------------------------------------------------------

using Encoded = Result<T10>;

Encoded Body10(const Hello& m, Writer& w) {
  EncodeBody(m, w);
  return T10::kHello;
}
Encoded Body10(const ErrorMsg& m, Writer& w) {
  EncodeBody(m, w);
  return T10::kError;
}
Encoded Body10(const EchoRequest& m, Writer& w) {
  w.Append(m.data);
  return T10::kEchoRequest;
}
Encoded Body10(const EchoReply& m, Writer& w) {
  w.Append(m.data);
  return T10::kEchoReply;
}
Encoded Body10(const ExperimenterMsg& m, Writer& w) {
  if (m.exp_type != 0) return Unsupported("an experimenter message type");
  w.U32(m.experimenter);
  w.Append(m.data);
  return T10::kVendor;
}
Encoded Body10(const FeaturesRequest&, Writer&) { return T10::kFeaturesRequest; }
Encoded Body10(const FeaturesReply& m, Writer& w) {
  w.U64(m.datapath_id);
  w.U32(m.n_buffers);
  w.U8(m.n_tables);
  w.Zeros(3);
  // The 1.0 match carries ARP fields in nw_*, so ARP_MATCH_IP holds.
  w.U32((m.capabilities & kCapsCommon) | kCapArpMatchIp);
  w.U32(kAllActions10);
  for (const PortDesc& p : m.ports) {
    if (auto ok = EncodePhyPort(p, w); !ok) return std::unexpected(ok.error());
  }
  return T10::kFeaturesReply;
}
Encoded Body10(const GetConfigRequest&, Writer&) { return T10::kGetConfigRequest; }
Encoded Body10(const GetConfigReply& m, Writer& w) {
  EncodeBody(static_cast<const SwitchConfig&>(m), w);
  return T10::kGetConfigReply;
}
Encoded Body10(const SetConfig& m, Writer& w) {
  EncodeBody(static_cast<const SwitchConfig&>(m), w);
  return T10::kSetConfig;
}
Encoded Body10(const BarrierRequest&, Writer&) { return T10::kBarrierRequest; }
Encoded Body10(const BarrierReply&, Writer&) { return T10::kBarrierReply; }

Encoded Body10(const PacketIn& m, Writer& w) {
  if (m.reason > PacketInReason::kAction) return Unsupported("packet_in reason invalid_ttl");
  const OxmEntry* in = m.match.Find(OxmField::kInPort);
  Result<uint16_t> port = Port10(in ? static_cast<uint32_t>(in->ValueU64()) : kPortAny);
  if (!port) return std::unexpected(port.error());
  w.U32(m.buffer_id);
  w.U16(m.total_len);
  w.U16(*port);
  w.U8(static_cast<uint8_t>(m.reason));
  w.Zeros(1);
  w.Append(m.data);
  return T10::kPacketIn;
}

Encoded Body10(const FlowRemoved& m, Writer& w) {
  if (auto ok = EncodeMatch10(m.match, w); !ok) return std::unexpected(ok.error());
  w.U64(m.cookie);
  w.U16(m.priority);
  // A group delete is a delete to a 1.0 controller.
  w.U8(std::min(static_cast<uint8_t>(m.reason), static_cast<uint8_t>(FlowRemovedReason::kDelete)));
  w.Zeros(1);
  w.U32(m.duration_sec);
  w.U32(m.duration_nsec);
  w.U16(m.idle_timeout);
  w.Zeros(2);
  w.U64(m.packet_count);
  w.U64(m.byte_count);
  return T10::kFlowRemoved;
}

Encoded Body10(const PortStatus& m, Writer& w) {
  w.U8(static_cast<uint8_t>(m.reason));
  w.Zeros(7);
  if (auto ok = EncodePhyPort(m.desc, w); !ok) return std::unexpected(ok.error());
  return T10::kPortStatus;
}

Encoded Body10(const PacketOut& m, Writer& w) {
  Result<uint16_t> port = Port10(m.in_port);
  if (!port) return std::unexpected(port.error());
  w.U32(m.buffer_id);
  w.U16(*port);
  size_t len_at = w.size();
  w.U16(0);
  size_t start = w.size();
  if (auto ok = EncodeActions10(m.actions, w); !ok) return std::unexpected(ok.error());
  w.PatchU16(len_at, static_cast<uint16_t>(w.size() - start));
  w.Append(m.data);
  return T10::kPacketOut;
}

Encoded Body10(const FlowMod& m, Writer& w) {
  if (m.table_id != 0 && m.table_id != kTableAll) return Unsupported("a flow_mod table id");
  if (m.cookie_mask != 0) return Unsupported("a cookie mask");
  if (m.out_group != kGroupAny) return Unsupported("out_group");
  if (m.flags & ~(kFlowSendFlowRem | kFlowCheckOverlap)) return Unsupported("these flow flags");
  Result<uint16_t> out_port = Port10(m.out_port);
  if (!out_port) return std::unexpected(out_port.error());
  if (auto ok = EncodeMatch10(m.match, w); !ok) return std::unexpected(ok.error());
  w.U64(m.cookie);
  w.U16(static_cast<uint16_t>(m.command));
  w.U16(m.idle_timeout);
  w.U16(m.hard_timeout);
  w.U16(m.priority);
  w.U32(m.buffer_id);
  w.U16(*out_port);
  w.U16(m.flags);
  if (auto ok = EncodeInstructions10(m.instructions, w); !ok) return std::unexpected(ok.error());
  return T10::kFlowMod;
}

Encoded Body10(const PortMod& m, Writer& w) {
  Result<uint16_t> port = Port10(m.port_no);
  if (!port) return std::unexpected(port.error());
  if ((m.config | m.mask) & ~kConfigCommon) return Unsupported("these port config bits");
  w.U16(*port);
  w.Append(m.hw_addr);
  w.U32(m.config);
  w.U32(m.mask);
  w.U32(FeaturesTo10(m.advertise));
  w.Zeros(4);
  return T10::kPortMod;
}

Result<void> EncodeFilter10(const FlowStatsFilter& f, Writer& w) {
  if (f.cookie_mask != 0) return Unsupported("a cookie filter");
  if (f.out_group != kGroupAny) return Unsupported("out_group");
  Result<uint16_t> out_port = Port10(f.out_port);
  if (!out_port) return std::unexpected(out_port.error());
  if (auto ok = EncodeMatch10(f.match, w); !ok) return ok;
  w.U8(f.table_id);
  w.Zeros(1);
  w.U16(*out_port);
  return {};
}

uint16_t QueuePortTo10(uint32_t p) {
  return p == kPortAny ? kPort10All : PortTo10(p).value_or(kPort10All);
}

Encoded Body10(const MultipartRequest& m, Writer& w) {
  size_t type_at = w.size();
  w.U16(0);
  w.U16(m.flags);
  Result<Stats10> type = std::visit(
      [&w](const auto& b) -> Result<Stats10> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, DescRequest>) {
          return Stats10::kDesc;
        } else if constexpr (std::is_same_v<T, TableStatsRequest>) {
          return Stats10::kTable;
        } else if constexpr (std::is_base_of_v<FlowStatsFilter, T>) {
          if (auto ok = EncodeFilter10(b, w); !ok) return std::unexpected(ok.error());
          return std::is_same_v<T, FlowStatsRequest> ? Stats10::kFlow : Stats10::kAggregate;
        } else if constexpr (std::is_same_v<T, PortStatsRequest>) {
          Result<uint16_t> port = Port10(b.port_no);
          if (!port) return std::unexpected(port.error());
          w.U16(*port);
          w.Zeros(6);
          return Stats10::kPort;
        } else if constexpr (std::is_same_v<T, QueueStatsRequest>) {
          w.U16(QueuePortTo10(b.port_no));
          w.Zeros(2);
          w.U32(b.queue_id);
          return Stats10::kQueue;
        } else {
          return Unsupported("this multipart request");
        }
      },
      m.body);
  if (!type) return std::unexpected(type.error());
  w.PatchU16(type_at, static_cast<uint16_t>(*type));
  return T10::kStatsRequest;
}

Result<void> EncodeFlowStats10(const FlowStats& s, Writer& w) {
  Bytes tmp;
  Writer e(&tmp);
  e.U16(0);
  e.U8(s.table_id);
  e.Zeros(1);
  if (auto ok = EncodeMatch10(s.match, e); !ok) return ok;
  e.U32(s.duration_sec);
  e.U32(s.duration_nsec);
  e.U16(s.priority);
  e.U16(s.idle_timeout);
  e.U16(s.hard_timeout);
  e.Zeros(6);
  e.U64(s.cookie);
  e.U64(s.packet_count);
  e.U64(s.byte_count);
  if (auto ok = EncodeInstructions10(s.instructions, e); !ok) return ok;
  e.PatchU16(0, static_cast<uint16_t>(tmp.size()));
  w.Append(tmp);
  return {};
}

Encoded Body10(const MultipartReply& m, Writer& w) {
  size_t type_at = w.size();
  w.U16(0);
  w.U16(m.flags);
  Result<Stats10> type = std::visit(
      [&w](const auto& b) -> Result<Stats10> {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, DescReply>) {
          WriteFixedString(b.mfr_desc, 256, w);
          WriteFixedString(b.hw_desc, 256, w);
          WriteFixedString(b.sw_desc, 256, w);
          WriteFixedString(b.serial_num, 32, w);
          WriteFixedString(b.dp_desc, 256, w);
          return Stats10::kDesc;
        } else if constexpr (std::is_same_v<T, FlowStatsReply>) {
          // Flows 1.0 cannot describe (see the top of this file) are left out.
          for (const FlowStats& s : b.entries) (void)EncodeFlowStats10(s, w);
          return Stats10::kFlow;
        } else if constexpr (std::is_same_v<T, AggregateReply>) {
          w.U64(b.packet_count);
          w.U64(b.byte_count);
          w.U32(b.flow_count);
          w.Zeros(4);
          return Stats10::kAggregate;
        } else if constexpr (std::is_same_v<T, TableStatsReply>) {
          for (const TableStats& s : b.entries) {
            w.U8(s.table_id);
            w.Zeros(3);
            WriteFixedString("", 32, w);
            w.U32(kWAll);
            w.U32(0xffffffff);  // no per-table flow limit
            w.U32(s.active_count);
            w.U64(s.lookup_count);
            w.U64(s.matched_count);
          }
          return Stats10::kTable;
        } else if constexpr (std::is_same_v<T, PortStatsReply>) {
          for (const PortStats& s : b.entries) {
            Result<uint16_t> port = Port10(s.port_no);
            if (!port) return std::unexpected(port.error());
            w.U16(*port);
            w.Zeros(6);
            for (uint64_t c : {s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes, s.rx_dropped,
                               s.tx_dropped, s.rx_errors, s.tx_errors, s.rx_frame_err,
                               s.rx_over_err, s.rx_crc_err, s.collisions}) {
              w.U64(c);
            }
          }
          return Stats10::kPort;
        } else if constexpr (std::is_same_v<T, QueueStatsReply>) {
          for (const QueueStats& s : b.entries) {
            Result<uint16_t> port = Port10(s.port_no);
            if (!port) return std::unexpected(port.error());
            w.U16(*port);
            w.Zeros(2);
            w.U32(s.queue_id);
            w.U64(s.tx_bytes);
            w.U64(s.tx_packets);
            w.U64(s.tx_errors);
          }
          return Stats10::kQueue;
        } else {
          return Unsupported("this multipart reply");
        }
      },
      m.body);
  if (!type) return std::unexpected(type.error());
  w.PatchU16(type_at, static_cast<uint16_t>(*type));
  return T10::kStatsReply;
}

Encoded Body10(const QueueGetConfigRequest& m, Writer& w) {
  w.U16(QueuePortTo10(m.port));
  w.Zeros(2);
  return T10::kQueueGetConfigRequest;
}

Encoded Body10(const QueueGetConfigReply& m, Writer& w) {
  Result<uint16_t> port = Port10(m.port);
  if (!port) return std::unexpected(port.error());
  w.U16(*port);
  w.Zeros(6);
  for (const PacketQueue& q : m.queues) {
    for (const QueueProp& p : q.properties) {
      if (p.type != QueuePropType::kMinRate) return Unsupported("this queue property");
    }
    size_t start = w.size();
    w.U32(q.queue_id);
    w.U16(0);
    w.Zeros(2);
    EncodeQueueProps(q.properties, w);
    w.PatchU16(start + 4, static_cast<uint16_t>(w.size() - start));
  }
  return T10::kQueueGetConfigReply;
}

// Messages that OpenFlow 1.0 does not have.
template <class T>
Encoded Body10(const T&, Writer&) {
  return Unsupported("this message type (" + std::to_string(static_cast<int>(T::kType)) +
                     " in OpenFlow 1.3)");
}

}  // namespace

OfpResult<Message> DecodeOf10(const Header& h, ByteSpan body) {
  switch (static_cast<T10>(h.type)) {
    case T10::kHello:
      return Lift(h, DecodeHello(body));
    case T10::kError:
      return Lift(h, DecodeErrorMsg(body));
    case T10::kEchoRequest:
      return Message{h.version, h.xid, EchoRequest{Bytes(body.begin(), body.end())}};
    case T10::kEchoReply:
      return Message{h.version, h.xid, EchoReply{Bytes(body.begin(), body.end())}};
    case T10::kVendor:
      return Lift(h, DecodeVendor10(body));
    case T10::kFeaturesRequest:
      return Lift(h, HeaderOnly<FeaturesRequest>(body));
    case T10::kFeaturesReply:
      return Lift(h, DecodeFeatures10(body));
    case T10::kGetConfigRequest:
      return Lift(h, HeaderOnly<GetConfigRequest>(body));
    case T10::kGetConfigReply:
      return Lift(h, Config10<GetConfigReply>(body, false));
    case T10::kSetConfig:
      return Lift(h, Config10<SetConfig>(body, true));
    case T10::kPacketIn:
      return Lift(h, DecodePacketIn10(body));
    case T10::kFlowRemoved:
      return Lift(h, DecodeFlowRemoved10(body));
    case T10::kPortStatus:
      return Lift(h, DecodePortStatus10(body));
    case T10::kPacketOut:
      return Lift(h, DecodePacketOut10(body));
    case T10::kFlowMod:
      return Lift(h, DecodeFlowMod10(body));
    case T10::kPortMod:
      return Lift(h, DecodePortMod10(body));
    case T10::kStatsRequest:
      return Lift(h, DecodeStats<MultipartRequest>(body, &DecodeStatsRequestBody));
    case T10::kStatsReply:
      return Lift(h, DecodeStats<MultipartReply>(body, &DecodeStatsReplyBody));
    case T10::kBarrierRequest:
      return Lift(h, HeaderOnly<BarrierRequest>(body));
    case T10::kBarrierReply:
      return Lift(h, HeaderOnly<BarrierReply>(body));
    case T10::kQueueGetConfigRequest:
      return Lift(h, DecodeQueueRequest10(body));
    case T10::kQueueGetConfigReply:
      return Lift(h, DecodeQueueReply10(body));
  }
  return Fail(OfpErr::kBadRequestBadType, "OpenFlow 1.0 message type " + std::to_string(h.type));
}

Result<Bytes> EncodeOf10(const Message& msg) {
  Bytes out;
  Writer w(&out);
  EncodeHeader(Header{kOfp10, 0, 0, msg.xid}, w);
  Encoded type = std::visit([&w](const auto& m) { return Body10(m, w); }, msg.body);
  if (!type) return std::unexpected(type.error());
  if (out.size() > kMaxMessageLen) {
    return MakeError(Errc::kNoSpace,
                     "OpenFlow 1.0 message of " + std::to_string(out.size()) + " bytes");
  }
  out[1] = static_cast<uint8_t>(*type);
  w.PatchU16(2, static_cast<uint16_t>(out.size()));
  return out;
}

}  // namespace internal

Result<void> Of10CanDescribe(const FlowStats& flow) {
  Bytes tmp;
  Writer w(&tmp);
  return internal::EncodeFlowStats10(flow, w);
}
}  // namespace sluice::ofp
