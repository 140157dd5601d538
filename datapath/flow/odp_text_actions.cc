// Action half of the OVS datapath text syntax: ParseOdpActions / FormatOdpActions.
#include <arpa/inet.h>

#include <cctype>
#include <cstddef>
#include <cstring>

#include "datapath/flow/odp_text.h"
#include "datapath/flow/odp_text_internal.h"

namespace sluice::dp {
namespace {

using odp_text::Appendf;
using odp_text::AppendHex;
using odp_text::Fail;
using odp_text::FieldDesc;
using odp_text::FieldKind;
using odp_text::FormatFieldList;
using odp_text::ParseFieldList;
using odp_text::ParseUint;
using odp_text::Scanner;

#define SLUICE_OFF(type, f) static_cast<uint16_t>(offsetof(type, f))

// Only the fields a datapath can rewrite; proto and frag are key-only.
constexpr FieldDesc kSetEthFields[] = {
    {"src", FieldKind::kMac, SLUICE_OFF(OdpKeyEthernet, src)},
    {"dst", FieldKind::kMac, SLUICE_OFF(OdpKeyEthernet, dst)},
};
constexpr FieldDesc kSetIpv4Fields[] = {
    {"src", FieldKind::kIpv4, SLUICE_OFF(OdpKeyIpv4, src)},
    {"dst", FieldKind::kIpv4, SLUICE_OFF(OdpKeyIpv4, dst)},
    {"tos", FieldKind::kU8Hex, SLUICE_OFF(OdpKeyIpv4, tos)},
    {"ttl", FieldKind::kU8, SLUICE_OFF(OdpKeyIpv4, ttl)},
};
constexpr FieldDesc kSetIpv6Fields[] = {
    {"src", FieldKind::kIpv6, SLUICE_OFF(OdpKeyIpv6, src)},
    {"dst", FieldKind::kIpv6, SLUICE_OFF(OdpKeyIpv6, dst)},
    {"label", FieldKind::kLabel, SLUICE_OFF(OdpKeyIpv6, label)},
    {"tclass", FieldKind::kU8Hex, SLUICE_OFF(OdpKeyIpv6, tclass)},
    {"hlimit", FieldKind::kU8, SLUICE_OFF(OdpKeyIpv6, hlimit)},
};
constexpr FieldDesc kSetPortFields[] = {
    {"src", FieldKind::kBe16, SLUICE_OFF(OdpKeyPorts, src)},
    {"dst", FieldKind::kBe16, SLUICE_OFF(OdpKeyPorts, dst)},
};

constexpr FieldDesc kSetArpFields[] = {
    {"sip", FieldKind::kIpv4, SLUICE_OFF(OdpKeyArp, sip)},
    {"tip", FieldKind::kIpv4, SLUICE_OFF(OdpKeyArp, tip)},
    {"op", FieldKind::kBe16, SLUICE_OFF(OdpKeyArp, op)},
    {"sha", FieldKind::kMac, SLUICE_OFF(OdpKeyArp, sha)},
    {"tha", FieldKind::kMac, SLUICE_OFF(OdpKeyArp, tha)},
};
constexpr FieldDesc kSetIcmpFields[] = {
    // icmp, icmpv6
    {"type", FieldKind::kU8, SLUICE_OFF(OdpKeyIcmp, type)},
    {"code", FieldKind::kU8, SLUICE_OFF(OdpKeyIcmp, code)},
};
constexpr FieldDesc kSetNdFields[] = {
    {"target", FieldKind::kIpv6, SLUICE_OFF(OdpKeyNd, target)},
    {"sll", FieldKind::kMac, SLUICE_OFF(OdpKeyNd, sll)},
    {"tll", FieldKind::kMac, SLUICE_OFF(OdpKeyNd, tll)},
};

#undef SLUICE_OFF

struct SetHeaderDesc {
  std::string_view name;
  SetHeader header;
  std::span<const FieldDesc> fields;
};

constexpr SetHeaderDesc kSetHeaders[] = {
    {"eth", SetHeader::kEthernet, kSetEthFields},   {"ipv4", SetHeader::kIpv4, kSetIpv4Fields},
    {"ipv6", SetHeader::kIpv6, kSetIpv6Fields},     {"tcp", SetHeader::kTcp, kSetPortFields},
    {"udp", SetHeader::kUdp, kSetPortFields},       {"sctp", SetHeader::kSctp, kSetPortFields},
    {"arp", SetHeader::kArp, kSetArpFields},        {"icmp", SetHeader::kIcmp, kSetIcmpFields},
    {"icmpv6", SetHeader::kIcmpv6, kSetIcmpFields}, {"nd", SetHeader::kNd, kSetNdFields},
};

constexpr uint16_t kTpidVlan = 0x8100;

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

Result<uint32_t> ParseU32Token(Scanner* s, std::string_view ctx, uint64_t max = UINT32_MAX) {
  auto v = ParseUint(s->ReadToken(), max, ctx);
  if (!v) return std::unexpected(v.error());
  return static_cast<uint32_t>(*v);
}

Result<void> ParseUserspace(Scanner* s, ActionBuilder* b) {
  constexpr std::string_view kCtx = "userspace";
  bool has_pid = false;
  uint32_t pid = 0;
  bool has_userdata = false;
  uint64_t cookie = 0;
  if (auto r = s->Expect('(', kCtx); !r) return r;
  while (!s->TryConsume(')')) {
    std::string_view name = s->ReadName();
    if (name == "pid" && !has_pid) {
      if (!s->TryConsume('=')) return Fail(kCtx, "expected '=' after 'pid'");
      auto v = ParseU32Token(s, "userspace.pid");
      if (!v) return std::unexpected(v.error());
      pid = *v;
      has_pid = true;
    } else if (name == "userdata" && !has_userdata) {
      if (auto r = s->Expect('(', "userspace.userdata"); !r) return r;
      std::string_view hex = s->ReadToken();
      if (hex.size() % 2 != 0 || hex.size() > 2 * sizeof(cookie)) {
        return Fail("userspace.userdata",
                    "expected up to 8 bytes as hex digits, got " + Quoted(hex));
      }
      uint8_t bytes[sizeof(cookie)] = {};
      for (size_t i = 0; i < hex.size(); i += 2) {
        auto v = ParseUint("0x" + std::string(hex.substr(i, 2)), 0xff, "userspace.userdata");
        if (!v) return Fail("userspace.userdata", "bad hex digits " + Quoted(hex));
        bytes[i / 2] = static_cast<uint8_t>(*v);
      }
      std::memcpy(&cookie, bytes, sizeof(cookie));
      has_userdata = true;
      if (auto r = s->Expect(')', "userspace.userdata"); !r) return r;
    } else if (name == "pid" || name == "userdata") {
      return Fail(kCtx, "duplicate field " + Quoted(name));
    } else if (name.empty()) {
      return Fail(kCtx, "expected a field at " + Quoted(s->Context()));
    } else {
      return Fail(kCtx, "unknown field " + Quoted(name));
    }
    if (s->TryConsume(')')) break;
    if (!s->TryConsume(',')) return Fail(kCtx, "unexpected " + Quoted(s->Context()));
  }
  if (!has_pid) return Fail(kCtx, "missing pid");
  b->Userspace(pid, cookie);
  return {};
}

Result<void> ParsePushVlan(Scanner* s, ActionBuilder* b) {
  constexpr std::string_view kCtx = "push_vlan";
  static constexpr std::string_view kNames[] = {"tpid", "vid", "pcp", "cfi"};
  static constexpr uint64_t kMax[] = {0xffff, 0xfff, 7, 1};
  uint64_t v[] = {kTpidVlan, 0, 0, 1};
  bool seen[4] = {};
  if (auto r = s->Expect('(', kCtx); !r) return r;
  while (!s->TryConsume(')')) {
    std::string_view name = s->ReadName();
    int idx = -1;
    for (int i = 0; i < 4; ++i) {
      if (kNames[i] == name) idx = i;
    }
    if (idx < 0) {
      if (name.empty()) return Fail(kCtx, "expected a field at " + Quoted(s->Context()));
      return Fail(kCtx, "unknown field " + Quoted(name));
    }
    if (seen[idx]) return Fail(kCtx, "duplicate field " + Quoted(name));
    seen[idx] = true;
    std::string ctx = "push_vlan." + std::string(name);
    if (!s->TryConsume('=')) return Fail(ctx, "expected '='");
    auto pv = ParseUint(s->ReadToken(), kMax[idx], ctx);
    if (!pv) return std::unexpected(pv.error());
    v[idx] = *pv;
    if (s->TryConsume(')')) break;
    if (!s->TryConsume(',')) return Fail(ctx, "unexpected " + Quoted(s->Context()));
  }
  uint16_t tci = static_cast<uint16_t>(v[1] | v[2] << 13 | (v[3] ? kVlanCfi : 0));
  b->PushVlan(htons(static_cast<uint16_t>(v[0])), htons(tci));
  return {};
}

Result<void> ParseSet(Scanner* s, ActionBuilder* b) {
  if (auto r = s->Expect('(', "set"); !r) return r;
  std::string_view name = s->ReadName();
  if (name == "mpls") {  // not byte fields: odp_text_mpls.cc
    ActSetMasked act;
    std::memset(&act, 0, sizeof(act));
    act.header = static_cast<uint16_t>(SetHeader::kMpls);
    if (auto r = s->Expect('(', "set(mpls)"); !r) return r;
    auto r =
        odp_text::ParseMplsFields(s, "set(mpls)", &act.value.mpls.lse, &act.mask.mpls.lse, nullptr);
    if (!r) return r;
    if (r = s->Expect(')', "set"); !r) return r;
    b->SetMasked(act);
    return {};
  }
  const SetHeaderDesc* desc = nullptr;
  for (const SetHeaderDesc& d : kSetHeaders) {
    if (d.name == name) desc = &d;
  }
  if (!desc) {
    if (name.empty()) return Fail("set", "expected a header at " + Quoted(s->Context()));
    return Fail("set", "unsupported header " + Quoted(name));
  }
  std::string ctx = "set(" + std::string(name) + ")";
  if (auto r = s->Expect('(', ctx); !r) return r;
  ActSetMasked act;
  std::memset(&act, 0, sizeof(act));
  act.header = static_cast<uint16_t>(desc->header);
  if (auto r = ParseFieldList(s, ctx, desc->fields, act.value.raw, act.mask.raw); !r) return r;
  if (auto r = s->Expect(')', "set"); !r) return r;
  b->SetMasked(act);
  return {};
}

template <class T>
bool HasPayload(const ActionHeader& h) {
  return h.len >= sizeof(ActionHeader) + sizeof(T);
}

void FormatOne(const ActionHeader& h, const uint8_t* payload, std::string* out) {
  auto malformed = [&] { Appendf(out, "<malformed action type %u len %u>", h.type, h.len); };
  switch (static_cast<ActionType>(h.type)) {
    case ActionType::kOutput: {
      if (!HasPayload<ActOutput>(h)) return malformed();
      ActOutput a;
      std::memcpy(&a, payload, sizeof(a));
      Appendf(out, "%u", a.port);
      return;
    }
    case ActionType::kUserspace: {
      if (!HasPayload<ActUserspace>(h)) return malformed();
      ActUserspace a;
      std::memcpy(&a, payload, sizeof(a));
      Appendf(out, "userspace(pid=%u", a.pid);
      if (a.cookie != 0) {
        uint8_t bytes[sizeof(a.cookie)];
        std::memcpy(bytes, &a.cookie, sizeof(bytes));
        out->append(",userdata(");
        for (uint8_t byte : bytes) Appendf(out, "%02x", byte);
        out->push_back(')');
      }
      out->push_back(')');
      return;
    }
    case ActionType::kPushVlan: {
      if (!HasPayload<ActPushVlan>(h)) return malformed();
      ActPushVlan a;
      std::memcpy(&a, payload, sizeof(a));
      uint16_t tpid = ntohs(a.tpid);
      uint16_t tci = ntohs(a.tci);
      out->append("push_vlan(");
      if (tpid != kTpidVlan) Appendf(out, "tpid=0x%04x,", tpid);
      Appendf(out, "vid=%u,pcp=%u", tci & 0xfff, tci >> 13);
      if (!(tci & kVlanCfi)) out->append(",cfi=0");
      out->push_back(')');
      return;
    }
    case ActionType::kPopVlan:
      out->append("pop_vlan");
      return;
    case ActionType::kSetMasked: {
      if (!HasPayload<ActSetMasked>(h)) return malformed();
      ActSetMasked a;
      std::memcpy(&a, payload, sizeof(a));
      if (a.header == static_cast<uint16_t>(SetHeader::kMpls)) {
        out->append("set(mpls(");
        odp_text::FormatMplsFields(a.value.mpls.lse, a.mask.mpls.lse, out);
        out->append("))");
        return;
      }
      for (const SetHeaderDesc& d : kSetHeaders) {
        if (static_cast<uint16_t>(d.header) != a.header) continue;
        out->append("set(");
        out->append(d.name);
        out->push_back('(');
        FormatFieldList(d.fields, a.value.raw, a.mask.raw, out);
        out->append("))");
        return;
      }
      Appendf(out, "<set of unknown header %u>", a.header);
      return;
    }
    case ActionType::kRecirc: {
      if (!HasPayload<ActRecirc>(h)) return malformed();
      ActRecirc a;
      std::memcpy(&a, payload, sizeof(a));
      out->append("recirc(");
      AppendHex(out, a.recirc_id);
      out->push_back(')');
      return;
    }
    case ActionType::kDrop:
      out->append("drop");
      return;
    case ActionType::kMeter: {
      if (!HasPayload<ActMeter>(h)) return malformed();
      ActMeter a;
      std::memcpy(&a, payload, sizeof(a));
      Appendf(out, "meter(%u)", a.meter_id);  // decimal, as OVS's dpctl prints it
      return;
    }
    case ActionType::kPushMpls:
    case ActionType::kPopMpls:
      if (!odp_text::FormatMplsAction(h, payload, out)) malformed();
      return;
  }
  Appendf(out, "<unknown action type %u len %u>", h.type, h.len);
}

}  // namespace

Result<ActionBuilder> ParseOdpActions(std::string_view text) {
  ActionBuilder b;
  Scanner s(text);
  size_t count = 0;
  bool only_drop = true;
  while (!s.AtEnd()) {
    std::string_view name;
    Result<void> r;
    if (std::isdigit(static_cast<unsigned char>(s.Peek()))) {
      name = "output";
      auto port = ParseU32Token(&s, "output");
      if (!port) return std::unexpected(port.error());
      b.Output(*port);
    } else {
      name = s.ReadName();
      if (name == "output") {
        if (!s.TryConsume(':')) return Fail("output", "expected ':' and a port number");
        auto port = ParseU32Token(&s, "output");
        if (!port) return std::unexpected(port.error());
        b.Output(*port);
      } else if (name == "drop") {
        b.Drop();
      } else if (name == "pop_vlan") {
        b.PopVlan();
      } else if (name == "userspace") {
        r = ParseUserspace(&s, &b);
      } else if (name == "push_vlan") {
        r = ParsePushVlan(&s, &b);
      } else if (name == "recirc") {
        r = s.Expect('(', "recirc");
        if (r) {
          auto id = ParseU32Token(&s, "recirc");
          if (!id) return std::unexpected(id.error());
          b.Recirc(*id);
          r = s.Expect(')', "recirc");
        }
      } else if (name == "meter") {
        r = s.Expect('(', "meter");
        if (r) {
          auto id = ParseU32Token(&s, "meter");
          if (!id) return std::unexpected(id.error());
          b.Meter(*id);
          r = s.Expect(')', "meter");
        }
      } else if (name == "set") {
        r = ParseSet(&s, &b);
      } else if (name == "push_mpls" || name == "pop_mpls") {
        r = odp_text::ParseMplsAction(name, &s, &b);
      } else if (name.empty()) {
        return Fail("", "expected an action at " + Quoted(s.Context()));
      } else {
        return Fail("", "unknown action " + Quoted(name));
      }
    }
    if (!r) return std::unexpected(r.error());
    ++count;
    if (name != "drop") only_drop = false;
    if (s.AtEnd()) break;
    if (!s.TryConsume(',')) {
      return Fail("", "unexpected " + Quoted(s.Context()) + " after " + Quoted(name));
    }
    if (s.AtEnd()) return Fail("", "expected an action after ','");
  }
  // A lone "drop" is how OVS spells the empty action list.
  if (count == 1 && only_drop) return ActionBuilder{};
  return b;
}

std::string FormatOdpActions(ActionView actions) {
  if (actions.empty()) return "drop";
  std::string out;
  const uint8_t* p = actions.data();
  size_t left = actions.size();
  while (left > 0) {
    if (!out.empty()) out.push_back(',');
    ActionHeader h;
    if (left < sizeof(h)) {
      Appendf(&out, "<malformed: %zu trailing bytes>", left);
      break;
    }
    std::memcpy(&h, p, sizeof(h));
    if (h.len < sizeof(h) || h.len > left) {
      Appendf(&out, "<malformed action type %u len %u>", h.type, h.len);
      break;
    }
    FormatOne(h, p + sizeof(h), &out);
    p += h.len;
    left -= h.len;
  }
  return out;
}

}  // namespace sluice::dp
