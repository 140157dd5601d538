#include "ofproto/codec/actions.h"

#include <string>
#include <type_traits>

namespace sluice::ofp {
namespace {

bool ValidOutPort(uint32_t port) {
  if (port == 0) return false;
  if (port < kPortMax) return true;
  switch (port) {
    case kPortInPort:
    case kPortTable:
    case kPortNormal:
    case kPortFlood:
    case kPortAll:
    case kPortController:
    case kPortLocal:
      return true;
    default:
      return false;  // OFPP_ANY and the unassigned reserved range
  }
}

// The OXM errors of a set-field, expressed as the OFPBAC_BAD_SET_* the spec asks for.
OfpErr SetFieldErr(OfpErr match_err) {
  switch (match_err) {
    case OfpErr::kBadMatchBadLen:
      return OfpErr::kBadActionBadSetLen;
    case OfpErr::kBadMatchBadField:
      return OfpErr::kBadActionBadSetType;
    default:
      return OfpErr::kBadActionBadSetArgument;
  }
}

OfpResult<Action> DecodeSetField(ByteSpan body, uint16_t len) {
  Reader r(body);
  OfpResult<OxmEntry> e = DecodeOxm(r);
  if (!e) return Fail(SetFieldErr(e.error().err), "set_field: " + e.error().detail);
  // The OXM plus the action header, padded to 8, must be exactly the action.
  if (RoundUp8(4 + OxmLen(*e)) != len) return Fail(OfpErr::kBadActionBadSetLen, "set_field pad");
  const OxmFieldInfo& info = FieldInfo(e->field);
  if (!info.settable) {
    return Fail(OfpErr::kBadActionBadSetType, std::string(info.name) + " is not settable");
  }
  if (e->has_mask) return Fail(OfpErr::kBadActionBadSetArgument, "masked set_field");
  return ActSetField{*e};
}

OfpResult<Action> DecodeOne(uint16_t type, uint16_t len, ByteSpan body) {
  Reader r(body);
  auto fixed = [len](uint16_t want) { return len == want; };
  switch (static_cast<ActionType>(type)) {
    case ActionType::kOutput: {
      if (!fixed(16)) break;
      ActOutput a;
      a.port = r.U32();
      a.max_len = r.U16();
      if (!ValidOutPort(a.port)) {
        return Fail(OfpErr::kBadActionBadOutPort, "output to " + std::to_string(a.port));
      }
      return a;
    }
    case ActionType::kCopyTtlOut:
      if (!fixed(8)) break;
      return ActCopyTtlOut{};
    case ActionType::kCopyTtlIn:
      if (!fixed(8)) break;
      return ActCopyTtlIn{};
    case ActionType::kSetMplsTtl:
      if (!fixed(8)) break;
      return ActSetMplsTtl{r.U8()};
    case ActionType::kDecMplsTtl:
      if (!fixed(8)) break;
      return ActDecMplsTtl{};
    case ActionType::kPushVlan: {
      if (!fixed(8)) break;
      uint16_t et = r.U16();
      if (et != 0x8100 && et != 0x88a8) return Fail(OfpErr::kBadActionBadArgument, "push_vlan");
      return ActPushVlan{et};
    }
    case ActionType::kPopVlan:
      if (!fixed(8)) break;
      return ActPopVlan{};
    case ActionType::kPushMpls: {
      if (!fixed(8)) break;
      uint16_t et = r.U16();
      if (et != 0x8847 && et != 0x8848) return Fail(OfpErr::kBadActionBadArgument, "push_mpls");
      return ActPushMpls{et};
    }
    case ActionType::kPopMpls:
      if (!fixed(8)) break;
      return ActPopMpls{r.U16()};
    case ActionType::kSetQueue:
      if (!fixed(8)) break;
      return ActSetQueue{r.U32()};
    case ActionType::kGroup: {
      if (!fixed(8)) break;
      uint32_t g = r.U32();
      if (g > kGroupMax) return Fail(OfpErr::kBadActionBadOutGroup, "group " + std::to_string(g));
      return ActGroup{g};
    }
    case ActionType::kSetNwTtl:
      if (!fixed(8)) break;
      return ActSetNwTtl{r.U8()};
    case ActionType::kDecNwTtl:
      if (!fixed(8)) break;
      return ActDecNwTtl{};
    case ActionType::kSetField:
      return DecodeSetField(body, len);
    case ActionType::kPushPbb: {
      if (!fixed(8)) break;
      uint16_t et = r.U16();
      if (et != 0x88e7) return Fail(OfpErr::kBadActionBadArgument, "push_pbb");
      return ActPushPbb{et};
    }
    case ActionType::kPopPbb:
      if (!fixed(8)) break;
      return ActPopPbb{};
    case ActionType::kExperimenter: {
      ActExperimenter a;
      a.experimenter = r.U32();
      ByteSpan rest = r.Rest();
      a.data.assign(rest.begin(), rest.end());
      return a;
    }
    default:
      return Fail(OfpErr::kBadActionBadType, "action type " + std::to_string(type));
  }
  return Fail(OfpErr::kBadActionBadLen,
              "action type " + std::to_string(type) + " length " + std::to_string(len));
}

template <class T>
constexpr ActionType TypeOf() {
  if constexpr (std::is_same_v<T, ActOutput>) return ActionType::kOutput;
  if constexpr (std::is_same_v<T, ActCopyTtlOut>) return ActionType::kCopyTtlOut;
  if constexpr (std::is_same_v<T, ActCopyTtlIn>) return ActionType::kCopyTtlIn;
  if constexpr (std::is_same_v<T, ActSetMplsTtl>) return ActionType::kSetMplsTtl;
  if constexpr (std::is_same_v<T, ActDecMplsTtl>) return ActionType::kDecMplsTtl;
  if constexpr (std::is_same_v<T, ActPushVlan>) return ActionType::kPushVlan;
  if constexpr (std::is_same_v<T, ActPopVlan>) return ActionType::kPopVlan;
  if constexpr (std::is_same_v<T, ActPushMpls>) return ActionType::kPushMpls;
  if constexpr (std::is_same_v<T, ActPopMpls>) return ActionType::kPopMpls;
  if constexpr (std::is_same_v<T, ActSetQueue>) return ActionType::kSetQueue;
  if constexpr (std::is_same_v<T, ActGroup>) return ActionType::kGroup;
  if constexpr (std::is_same_v<T, ActSetNwTtl>) return ActionType::kSetNwTtl;
  if constexpr (std::is_same_v<T, ActDecNwTtl>) return ActionType::kDecNwTtl;
  if constexpr (std::is_same_v<T, ActSetField>) return ActionType::kSetField;
  if constexpr (std::is_same_v<T, ActPushPbb>) return ActionType::kPushPbb;
  if constexpr (std::is_same_v<T, ActPopPbb>) return ActionType::kPopPbb;
  return ActionType::kExperimenter;
}

void EncodeOne(const Action& action, Writer& w) {
  size_t start = w.size();
  std::visit(
      [&](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        w.U16(static_cast<uint16_t>(TypeOf<T>()));
        w.U16(0);  // patched below
        if constexpr (std::is_same_v<T, ActOutput>) {
          w.U32(a.port);
          w.U16(a.max_len);
          w.Zeros(6);
        } else if constexpr (std::is_same_v<T, ActSetMplsTtl> || std::is_same_v<T, ActSetNwTtl>) {
          w.U8(a.ttl);
          w.Zeros(3);
        } else if constexpr (std::is_same_v<T, ActPushVlan> || std::is_same_v<T, ActPushMpls> ||
                             std::is_same_v<T, ActPopMpls> || std::is_same_v<T, ActPushPbb>) {
          w.U16(a.ethertype);
          w.Zeros(2);
        } else if constexpr (std::is_same_v<T, ActSetQueue>) {
          w.U32(a.queue_id);
        } else if constexpr (std::is_same_v<T, ActGroup>) {
          w.U32(a.group_id);
        } else if constexpr (std::is_same_v<T, ActSetField>) {
          EncodeOxm(a.field, w);
        } else if constexpr (std::is_same_v<T, ActExperimenter>) {
          w.U32(a.experimenter);
          w.Append(a.data);
        } else {
          w.Zeros(4);
        }
      },
      action);
  w.PadTo8(start);
  w.PatchU16(start + 2, static_cast<uint16_t>(w.size() - start));
}

}  // namespace

OfpResult<ActionTlv> NextActionTlv(Reader& r) {
  if (r.remaining() < 4) return Fail(OfpErr::kBadActionBadLen, "truncated action header");
  uint16_t type = r.U16();
  uint16_t len = r.U16();
  if (len < 8 || len % 8 != 0 || len - 4u > r.remaining()) {
    return Fail(OfpErr::kBadActionBadLen, "action length " + std::to_string(len));
  }
  return ActionTlv{type, len, r.Take(len - 4u)};
}

OfpResult<ActionList> DecodeActions(ByteSpan data) {
  ActionList out;
  Reader r(data);
  while (r.remaining() > 0) {
    OfpResult<ActionTlv> tlv = NextActionTlv(r);
    if (!tlv) return std::unexpected(std::move(tlv.error()));
    OfpResult<Action> a = DecodeOne(tlv->type, tlv->len, tlv->body);
    if (!a) return std::unexpected(std::move(a.error()));
    out.push_back(std::move(*a));
  }
  return out;
}

void EncodeActions(const ActionList& actions, Writer& w) {
  for (const Action& a : actions) EncodeOne(a, w);
}

size_t EncodedActionsLen(const ActionList& actions) {
  Bytes tmp;
  Writer w(&tmp);
  EncodeActions(actions, w);
  return tmp.size();
}

}  // namespace sluice::ofp
