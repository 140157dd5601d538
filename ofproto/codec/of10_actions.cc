// OpenFlow 1.0 actions <-> one apply-actions instruction. set_vlan_vid/pcp, set_dl_*, set_nw_*,
// set_nw_tos and set_tp_* become set-field (tp_* on TCP unless the match says UDP or SCTP),
// strip_vlan becomes pop_vlan, enqueue becomes set_queue + output.
#include "ofproto/codec/of10_internal.h"

namespace sluice::ofp::internal::of10 {

namespace {

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

// A flow's instructions as 1.0 sees them: nothing, or one apply-actions.
Result<const ActionList*> ActionsOf(const InstructionList& insts) {
  static const ActionList kNone;
  if (insts.empty()) return &kNone;
  if (insts.size() == 1) {
    if (const auto* a = std::get_if<InstApplyActions>(&insts[0])) return &a->actions;
  }
  return Unsupported("instructions other than one apply-actions");
}

}  // namespace

OfpResult<ActionList> DecodeActions10(ByteSpan data, const Match* match) {
  using F = OxmField;
  ActionList out;
  Reader r(data);
  uint8_t l4 = L4Of(match);
  auto set = [&out](F f, uint64_t v) { out.push_back(ActSetField{OxmEntry::Exact(f, v)}); };
  while (r.remaining() > 0) {
    OfpResult<ActionTlv> tlv = NextActionTlv(r);
    if (!tlv) return std::unexpected(std::move(tlv.error()));
    uint16_t type = tlv->type;
    uint16_t len = tlv->len;
    Reader a(tlv->body);
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

InstructionList InstructionsOf(ActionList actions) {
  if (actions.empty()) return {};
  return {InstApplyActions{std::move(actions)}};
}

Result<void> EncodeInstructions10(const InstructionList& insts, Writer& w) {
  Result<const ActionList*> acts = ActionsOf(insts);
  if (!acts) return std::unexpected(acts.error());
  return EncodeActions10(**acts, w);
}

}  // namespace sluice::ofp::internal::of10
