// ovs-ofctl actions -> OpenFlow 1.3 actions and instructions.
#include <fmt/format.h>

#include "ofproto/text/parse_internal.h"

namespace sluice::ofp::text {
namespace internal {
namespace {

using F = OxmField;

struct NamedField {
  std::string_view name;
  OxmField field;
};
// OVS's names first (they are what the formatter prints), then accepted aliases.
constexpr NamedField kSetFieldNames[] = {
    {"in_port", F::kInPort},
    {"metadata", F::kMetadata},
    {"eth_dst", F::kEthDst},
    {"eth_src", F::kEthSrc},
    {"eth_type", F::kEthType},
    {"vlan_vid", F::kVlanVid},
    {"vlan_pcp", F::kVlanPcp},
    {"ip_dscp", F::kIpDscp},
    {"nw_ecn", F::kIpEcn},
    {"nw_proto", F::kIpProto},
    {"ip_src", F::kIpv4Src},
    {"ip_dst", F::kIpv4Dst},
    {"tcp_src", F::kTcpSrc},
    {"tcp_dst", F::kTcpDst},
    {"udp_src", F::kUdpSrc},
    {"udp_dst", F::kUdpDst},
    {"sctp_src", F::kSctpSrc},
    {"sctp_dst", F::kSctpDst},
    {"icmp_type", F::kIcmpv4Type},
    {"icmp_code", F::kIcmpv4Code},
    {"arp_op", F::kArpOp},
    {"arp_spa", F::kArpSpa},
    {"arp_tpa", F::kArpTpa},
    {"arp_sha", F::kArpSha},
    {"arp_tha", F::kArpTha},
    {"ipv6_src", F::kIpv6Src},
    {"ipv6_dst", F::kIpv6Dst},
    {"ipv6_label", F::kIpv6Flabel},
    {"icmpv6_type", F::kIcmpv6Type},
    {"icmpv6_code", F::kIcmpv6Code},
    {"nd_target", F::kIpv6NdTarget},
    {"nd_sll", F::kIpv6NdSll},
    {"nd_tll", F::kIpv6NdTll},
    {"mpls_label", F::kMplsLabel},
    {"mpls_tc", F::kMplsTc},
    {"mpls_bos", F::kMplsBos},
    {"pbb_isid", F::kPbbIsid},
    {"tun_id", F::kTunnelId},
    {"in_phy_port", F::kInPhyPort},
    {"ipv6_exthdr", F::kIpv6Exthdr},
    // aliases
    {"dl_dst", F::kEthDst},
    {"dl_src", F::kEthSrc},
    {"dl_type", F::kEthType},
    {"ip_ecn", F::kIpEcn},
    {"ip_proto", F::kIpProto},
    {"nw_src", F::kIpv4Src},
    {"nw_dst", F::kIpv4Dst},
    {"ipv4_src", F::kIpv4Src},
    {"ipv4_dst", F::kIpv4Dst},
    {"icmpv4_type", F::kIcmpv4Type},
    {"icmpv4_code", F::kIcmpv4Code},
    {"ipv6_flabel", F::kIpv6Flabel},
    {"ipv6_nd_target", F::kIpv6NdTarget},
    {"ipv6_nd_sll", F::kIpv6NdSll},
    {"ipv6_nd_tll", F::kIpv6NdTll},
    {"tunnel_id", F::kTunnelId},
    {"in_port_oxm", F::kInPort},
};

bool IsMacField(F f) {
  return f == F::kEthDst || f == F::kEthSrc || f == F::kArpSha || f == F::kArpTha ||
         f == F::kIpv6NdSll || f == F::kIpv6NdTll;
}
bool IsIpv4Field(F f) {
  return f == F::kIpv4Src || f == F::kIpv4Dst || f == F::kArpSpa || f == F::kArpTpa;
}
bool IsIpv6Field(F f) { return f == F::kIpv6Src || f == F::kIpv6Dst || f == F::kIpv6NdTarget; }
bool IsHexField(F f) {
  return f == F::kMetadata || f == F::kTunnelId || f == F::kIpv6Flabel || f == F::kEthType ||
         f == F::kPbbIsid || f == F::kIpv6Exthdr;
}

// Instruction order ovs-ofctl insists on (OpenFlow 1.1+ executes them in this order anyway).
enum Rank { kRankMeter, kRankApply, kRankClear, kRankWrite, kRankMetadata, kRankGoto };
constexpr std::string_view kRankNames[] = {"meter",         "apply_actions",  "clear_actions",
                                           "write_actions", "write_metadata", "goto_table"};

class ActionParser {
 public:
  ActionParser(const ParseOptions& opts, const Match* match) : opts_(opts), match_(match) {
    if (match) {
      if (const OxmEntry* v = match->Find(F::kVlanVid)) {
        has_vlan_ = (v->ValueU64() & kVidPresent) && (v->MaskU64() & kVidPresent);
      }
      if (const OxmEntry* et = match->Find(F::kEthType)) {
        has_mpls_ = et->ValueU64() == 0x8847 || et->ValueU64() == 0x8848;
      }
    }
  }

  // Parses one action keyword into `out`; false if the keyword is not an action. Set-field
  // actions are checked against the match (and the tags pushed before them), as ovs-ofctl
  // does.
  Result<bool> Action(std::string_view key, std::string_view value, bool has_value,
                      ActionList* out) {
    size_t before = out->size();
    auto r = ParseOne(key, value, has_value, out);
    if (!r || !*r) return r;
    for (size_t i = before; i < out->size(); ++i) {
      if (const auto* sf = std::get_if<ActSetField>(&(*out)[i])) {
        if (auto ok = CheckSetField(sf->field.field); !ok) return std::unexpected(ok.error());
      }
    }
    return true;
  }

 private:
  Result<bool> ParseOne(std::string_view key, std::string_view value, bool has_value,
                        ActionList* out);

  Result<void> CheckSetField(OxmField f) const {
    if (!match_) return {};  // packet-out and group buckets: no match to check against
    bool ok = true;
    if (f == F::kVlanVid || f == F::kVlanPcp) {
      ok = has_vlan_;
    } else if (f == F::kMplsLabel || f == F::kMplsTc || f == F::kMplsBos) {
      ok = has_mpls_;
    } else if (f != F::kTunnelId && f != F::kEthSrc && f != F::kEthDst) {
      ok = !has_mpls_ && PrereqsMet(*match_, f);
    }
    if (ok) return {};
    return MakeError(Errc::kInvalid,
                     fmt::format("actions are invalid with specified match "
                                 "(OFPBAC_MATCH_INCONSISTENT): set_field to {} needs {}",
                                 SetFieldName(f),
                                 f == F::kVlanVid || f == F::kVlanPcp
                                     ? "a VLAN tag (match one or push_vlan first)"
                                 : f == F::kMplsLabel || f == F::kMplsTc || f == F::kMplsBos
                                     ? "an MPLS packet (match mpls or push_mpls first)"
                                     : "its prerequisites in the match"));
  }

 private:
  Result<uint64_t> Arg(std::string_view key, std::string_view value, bool has_value, uint64_t max) {
    if (!has_value || value.empty()) {
      return MakeError(Errc::kInvalid, fmt::format("{}: missing argument", key));
    }
    auto v = ParseUint(value, max, key);
    if (!v) return std::unexpected(v.error());
    return *v;
  }
  void PushVlanIfNeeded(ActionList* out) {
    if (!has_vlan_) {
      out->push_back(ActPushVlan{0x8100});
      has_vlan_ = true;
    }
  }
  int Proto() const {
    if (!match_) return -1;
    const OxmEntry* p = match_->Find(F::kIpProto);
    return p ? static_cast<int>(p->ValueU64()) : -1;
  }

  const ParseOptions& opts_;
  const Match* match_;
  bool has_vlan_ = false;
  bool has_mpls_ = false;
};

Result<bool> ActionParser::ParseOne(std::string_view key, std::string_view value, bool has_value,
                                    ActionList* out) {
  auto port_out = [&](uint32_t port, uint16_t max_len = kControllerNoBuffer) -> Result<bool> {
    // As ovs-ofctl checks an output port: a number below OFPP_MAX, or a reserved port that can
    // be output to (not ANY, not an undefined one such as 1.0's 0xffea).
    if (port >= kPortMax && (port < kPortInPort || port > kPortLocal)) {
      return MakeError(Errc::kInvalid,
                       "actions are invalid with specified match (OFPBAC_BAD_OUT_PORT)");
    }
    out->push_back(ActOutput{port, port == kPortController ? max_len : uint16_t{0}});
    return true;
  };
  if (key == "output") {
    if (!has_value) return MakeError(Errc::kInvalid, "output: missing port");
    auto p = ParsePort(value, opts_);
    if (!p) return MakeError(Errc::kInvalid, fmt::format("{}: output to unknown port", value));
    return port_out(*p);
  }
  if (IEquals(key, "controller")) {
    uint16_t max_len = kControllerNoBuffer;
    if (has_value && !value.empty()) {
      if (value.find('=') == std::string_view::npos) {  // CONTROLLER:LEN
        auto v = ParseUint(value, 0xffff, "controller max_len");
        if (!v) return std::unexpected(v.error());
        max_len = static_cast<uint16_t>(*v);
      } else {  // controller(max_len=N,reason=action)
        KeyValueLexer lex(value);
        KeyValue kv;
        while (lex.Next(&kv)) {
          if (kv.key == "max_len") {
            auto v = ParseUint(kv.value, 0xffff, "controller max_len");
            if (!v) return std::unexpected(v.error());
            max_len = static_cast<uint16_t>(*v);
          } else if (kv.key == "reason" && kv.value == "action") {
          } else if (kv.key == "id" && kv.value == "0") {
          } else {
            return MakeError(
                Errc::kUnsupported,
                fmt::format("controller: {} is not supported in OpenFlow 1.3", kv.key));
          }
        }
      }
    }
    return port_out(kPortController, max_len);
  }
  if (key == "drop") {
    return MakeError(Errc::kInvalid,
                     "\"drop\" must not be accompanied by any other action or instruction");
  }
  if (key == "mod_vlan_vid" || key == "set_vlan_vid") {
    if (!has_value) return MakeError(Errc::kInvalid, fmt::format("{}: missing argument", key));
    auto v = ParseUint(value, 0xfff, key);
    if (!v) return MakeError(Errc::kInvalid, fmt::format("{}: not a valid VLAN VID", value));
    PushVlanIfNeeded(out);
    out->push_back(ActSetField{OxmEntry::Exact(F::kVlanVid, kVidPresent | *v)});
    return true;
  }
  if (key == "mod_vlan_pcp" || key == "set_vlan_pcp") {
    if (!has_value) return MakeError(Errc::kInvalid, fmt::format("{}: missing argument", key));
    auto v = ParseUint(value, 7, key);
    if (!v) return MakeError(Errc::kInvalid, fmt::format("{}: not a valid VLAN PCP", value));
    PushVlanIfNeeded(out);
    out->push_back(ActSetField{OxmEntry::Exact(F::kVlanPcp, *v)});
    return true;
  }
  if (key == "strip_vlan" || key == "pop_vlan") {
    out->push_back(ActPopVlan{});
    has_vlan_ = false;
    return true;
  }
  if (key == "push_vlan") {
    auto v = Arg(key, value, has_value, 0xffff);
    if (!v) return std::unexpected(v.error());
    if (*v != 0x8100 && *v != 0x88a8) {
      return MakeError(Errc::kInvalid, fmt::format("{}: not a valid VLAN ethertype", value));
    }
    out->push_back(ActPushVlan{static_cast<uint16_t>(*v)});
    has_vlan_ = true;
    return true;
  }
  if (key == "push_mpls" || key == "pop_mpls") {
    auto v = Arg(key, value, has_value, 0xffff);
    if (!v) return std::unexpected(v.error());
    if (key == "push_mpls") {
      if (*v != 0x8847 && *v != 0x8848) {
        return MakeError(Errc::kInvalid, fmt::format("{}: not a valid MPLS ethertype", value));
      }
      out->push_back(ActPushMpls{static_cast<uint16_t>(*v)});
      has_mpls_ = true;
    } else {
      out->push_back(ActPopMpls{static_cast<uint16_t>(*v)});
      has_mpls_ = false;
    }
    return true;
  }
  if (key == "mod_dl_src" || key == "mod_dl_dst") {
    if (!has_value) return MakeError(Errc::kInvalid, fmt::format("{}: missing argument", key));
    auto mac = ParseMac(value);
    if (!mac) return std::unexpected(mac.error());
    out->push_back(
        ActSetField{OxmEntry::FromBytes(key == "mod_dl_src" ? F::kEthSrc : F::kEthDst, *mac)});
    return true;
  }
  if (key == "mod_nw_src" || key == "mod_nw_dst") {
    if (!has_value) return MakeError(Errc::kInvalid, fmt::format("{}: missing argument", key));
    auto ip = ParseIpv4(value);
    if (!ip) return std::unexpected(ip.error());
    out->push_back(
        ActSetField{OxmEntry::Exact(key == "mod_nw_src" ? F::kIpv4Src : F::kIpv4Dst, *ip)});
    return true;
  }
  if (key == "mod_nw_tos") {
    auto v = Arg(key, value, has_value, 0xff);
    if (!v) return std::unexpected(v.error());
    if (*v & 3) return MakeError(Errc::kInvalid, fmt::format("invalid IP_DSCP tos \"{}\"", value));
    out->push_back(ActSetField{OxmEntry::Exact(F::kIpDscp, *v >> 2)});
    return true;
  }
  if (key == "mod_nw_ecn") {
    auto v = Arg(key, value, has_value, 3);
    if (!v) return std::unexpected(v.error());
    out->push_back(ActSetField{OxmEntry::Exact(F::kIpEcn, *v)});
    return true;
  }
  if (key == "mod_nw_ttl") {
    auto v = Arg(key, value, has_value, 0xff);
    if (!v) return std::unexpected(v.error());
    out->push_back(ActSetNwTtl{static_cast<uint8_t>(*v)});
    return true;
  }
  if (key == "mod_tp_src" || key == "mod_tp_dst") {
    auto v = Arg(key, value, has_value, 0xffff);
    if (!v) return std::unexpected(v.error());
    bool src = key == "mod_tp_src";
    F f;
    switch (Proto()) {
      case 6:
        f = src ? F::kTcpSrc : F::kTcpDst;
        break;
      case 17:
        f = src ? F::kUdpSrc : F::kUdpDst;
        break;
      case 132:
        f = src ? F::kSctpSrc : F::kSctpDst;
        break;
      default:
        return MakeError(
            Errc::kInvalid,
            fmt::format("{} requires a tcp, udp or sctp match (e.g. tcp,actions={}:{})", key, key,
                        value));
    }
    out->push_back(ActSetField{OxmEntry::Exact(f, *v)});
    return true;
  }
  if (key == "dec_ttl") {
    if (has_value && !value.empty()) {
      return MakeError(Errc::kUnsupported, "dec_ttl(ids) is not supported in OpenFlow 1.3");
    }
    out->push_back(ActDecNwTtl{});
    return true;
  }
  if (key == "dec_mpls_ttl") {
    out->push_back(ActDecMplsTtl{});
    return true;
  }
  if (key == "set_mpls_ttl") {
    auto v = Arg(key, value, has_value, 0xff);
    if (!v) return std::unexpected(v.error());
    out->push_back(ActSetMplsTtl{static_cast<uint8_t>(*v)});
    return true;
  }
  if (key == "copy_ttl_in") {
    out->push_back(ActCopyTtlIn{});
    return true;
  }
  if (key == "copy_ttl_out") {
    out->push_back(ActCopyTtlOut{});
    return true;
  }
  if (key == "set_field") {
    if (!has_value) return MakeError(Errc::kInvalid, "set_field: missing argument");
    auto e = ParseSetField(value);
    if (!e) return std::unexpected(e.error());
    out->push_back(ActSetField{*e});
    return true;
  }
  if (key == "load" || key == "move") {
    return MakeError(Errc::kUnsupported,
                     fmt::format("{} is not supported; use set_field:VALUE->FIELD", key));
  }
  if (key == "group") {
    auto v = Arg(key, value, has_value, 0xffffffff);
    if (!v) return std::unexpected(v.error());
    out->push_back(ActGroup{static_cast<uint32_t>(*v)});
    return true;
  }
  if (key == "set_queue") {
    auto v = Arg(key, value, has_value, 0xffffffff);
    if (!v) return std::unexpected(v.error());
    out->push_back(ActSetQueue{static_cast<uint32_t>(*v)});
    return true;
  }
  if (key == "enqueue") {
    return MakeError(Errc::kUnsupported,
                     "enqueue is not an OpenFlow 1.3 action; use set_queue:Q,output:P");
  }
  // A bare port: "2", "LOCAL", "in_port", "NORMAL", or a port name.
  if (!has_value) {
    if (auto p = ParsePort(key, opts_)) return port_out(*p);
  }
  return false;
}

}  // namespace

Result<OxmEntry> ParseSetField(std::string_view arg) {
  size_t arrow = arg.find("->");
  if (arrow == std::string_view::npos) {
    return MakeError(Errc::kInvalid, fmt::format("{}: missing `->'", arg));
  }
  std::string_view value = arg.substr(0, arrow);
  std::string_view name = arg.substr(arrow + 2);
  const NamedField* nf = nullptr;
  for (const NamedField& n : kSetFieldNames) {
    if (n.name == name) nf = &n;
  }
  bool tos = name == "nw_tos";
  if (tos) nf = &kSetFieldNames[7];  // ip_dscp
  if (!nf) {
    return MakeError(Errc::kInvalid, fmt::format("{} is not a valid OXM field name", name));
  }
  if (value.find('/') != std::string_view::npos) {
    return MakeError(Errc::kUnsupported,
                     fmt::format("{}: OpenFlow 1.3 set_field cannot take a mask", arg));
  }
  F f = nf->field;
  if (f == F::kEthType || f == F::kIpProto || f == F::kMplsBos) {
    return MakeError(Errc::kInvalid, fmt::format("{} is read-only", name));
  }
  if (!FieldInfo(f).settable) {
    return MakeError(Errc::kUnsupported,
                     fmt::format("{} cannot be written by set_field in OpenFlow 1.3{}", name,
                                 f == F::kMetadata ? " (use write_metadata)" : ""));
  }
  if (IsMacField(f)) {
    auto mac = ParseMac(value);
    if (!mac) return std::unexpected(mac.error());
    return OxmEntry::FromBytes(f, *mac);
  }
  if (IsIpv4Field(f)) {
    auto ip = ParseIpv4(value);
    if (!ip) return std::unexpected(ip.error());
    return OxmEntry::Exact(f, *ip);
  }
  if (IsIpv6Field(f)) {
    auto ip = ParseIpv6(value);
    if (!ip) return std::unexpected(ip.error());
    return OxmEntry::FromBytes(f, *ip);
  }
  if (tos) {
    auto v = ParseUint(value, 0xff, "nw_tos");
    if (!v) return std::unexpected(v.error());
    return OxmEntry::Exact(F::kIpDscp, *v >> 2);
  }
  auto v = ParseUint(value, FieldInfo(f).max_value, name);
  if (!v) {
    return MakeError(Errc::kInvalid, fmt::format("{}: value not valid for field {}", value, name));
  }
  if (f == F::kVlanVid) *v |= kVidPresent;  // OpenFlow 1.3 requires the present bit
  return OxmEntry::Exact(f, *v);
}

std::string_view SetFieldName(OxmField f) {
  for (const NamedField& n : kSetFieldNames) {
    if (n.field == f) return n.name;
  }
  return FieldInfo(f).name;
}

std::string FormatFieldValue(const OxmEntry& e) {
  F f = e.field;
  if (IsMacField(f)) return FormatMac(e.value.data());
  if (IsIpv4Field(f)) return FormatIpv4(static_cast<uint32_t>(e.ValueU64()));
  if (IsIpv6Field(f)) return FormatIpv6(e.value.data());
  if (IsHexField(f)) return Hex(e.ValueU64());
  return std::to_string(e.ValueU64());
}

namespace {

Result<ActionList> ParseActionListImpl(std::string_view text, const ParseOptions& opts,
                                       const Match* match) {
  ActionParser p(opts, match);
  ActionList out;
  KeyValueLexer lex(text);
  KeyValue kv;
  while (lex.Next(&kv)) {
    if (kv.key == "drop" && out.empty()) {
      KeyValue more;
      if (lex.Next(&more)) {
        return MakeError(Errc::kInvalid,
                         "\"drop\" must not be accompanied by any other action or instruction");
      }
      break;
    }
    auto r = p.Action(kv.key, kv.value, kv.has_value, &out);
    if (!r) return std::unexpected(r.error());
    if (!*r) {
      std::string_view k = kv.key;
      if (k == "meter" || k == "goto_table" || k == "write_metadata" || k == "write_actions" ||
          k == "clear_actions") {
        return MakeError(Errc::kInvalid,
                         fmt::format("instruction {} not allowed here (only actions)", k));
      }
      return MakeError(Errc::kInvalid, fmt::format("unknown action {}", kv.key));
    }
  }
  if (!lex.error().empty()) return MakeError(Errc::kInvalid, lex.error());
  return out;
}

}  // namespace
}  // namespace internal

Result<ActionList> ParseActions(std::string_view text, const ParseOptions& opts) {
  if (auto ok = internal::CheckVersion(opts.version); !ok) return std::unexpected(ok.error());
  return internal::ParseActionListImpl(text, opts, nullptr);
}

Result<InstructionList> ParseInstructions(std::string_view text, const Match& match,
                                          const ParseOptions& opts) {
  using namespace internal;
  if (auto ok = CheckVersion(opts.version); !ok) return std::unexpected(ok.error());
  ActionParser p(opts, &match);
  InstructionList out;
  ActionList apply;
  bool have_apply = false;
  int last = -1;
  bool seen[kRankGoto + 1] = {};
  bool dropped = false;
  KeyValueLexer lex(text);
  KeyValue kv;
  auto rank = [&](Rank r) -> Result<void> {
    if (dropped) {
      return MakeError(Errc::kInvalid,
                       "\"drop\" must not be accompanied by any other action or instruction");
    }
    if (r < last) {
      return MakeError(Errc::kInvalid,
                       fmt::format("invalid instruction ordering: {} must appear before {}, for "
                                   "OpenFlow 1.1+ compatibility",
                                   kRankNames[r], kRankNames[last]));
    }
    if (r != kRankApply && seen[r]) {
      return MakeError(Errc::kInvalid, fmt::format("duplicate instruction {}", kRankNames[r]));
    }
    if (r != kRankApply && have_apply) {
      out.push_back(InstApplyActions{std::move(apply)});
      apply.clear();
      have_apply = false;
    }
    seen[r] = true;
    last = r;
    return {};
  };
  while (lex.Next(&kv)) {
    std::string_view k = kv.key;
    Result<void> ok;
    if (k == "drop") {
      if (last != -1) {
        return MakeError(Errc::kInvalid,
                         "\"drop\" must not be accompanied by any other action or instruction");
      }
      dropped = true;
      last = kRankGoto;
      continue;
    }
    if (k == "meter") {
      if (ok = rank(kRankMeter); !ok) return std::unexpected(ok.error());
      auto v = ParseUint(kv.value, 0xffffffff, "meter");
      if (!kv.has_value || !v) return MakeError(Errc::kInvalid, "meter: invalid meter id");
      out.push_back(InstMeter{static_cast<uint32_t>(*v)});
    } else if (k == "clear_actions") {
      if (ok = rank(kRankClear); !ok) return std::unexpected(ok.error());
      out.push_back(InstClearActions{});
    } else if (k == "write_actions") {
      if (ok = rank(kRankWrite); !ok) return std::unexpected(ok.error());
      auto acts = ParseActionListImpl(kv.value, opts, &match);
      if (!acts) return std::unexpected(acts.error());
      out.push_back(InstWriteActions{std::move(*acts)});
    } else if (k == "write_metadata") {
      if (ok = rank(kRankMetadata); !ok) return std::unexpected(ok.error());
      if (!kv.has_value) return MakeError(Errc::kInvalid, "write_metadata: missing argument");
      auto v = ParseMaskedUint(kv.value, ~uint64_t{0}, "write_metadata");
      if (!v) return std::unexpected(v.error());
      out.push_back(InstWriteMetadata{v->value, v->has_mask ? v->mask : ~uint64_t{0}});
    } else if (k == "goto_table") {
      if (ok = rank(kRankGoto); !ok) return std::unexpected(ok.error());
      auto v = ParseUint(kv.value, 0xfe, "goto_table");
      if (!kv.has_value || !v) return MakeError(Errc::kInvalid, "goto_table: invalid table id");
      out.push_back(InstGotoTable{static_cast<uint8_t>(*v)});
    } else {
      if (ok = rank(kRankApply); !ok) return std::unexpected(ok.error());
      auto r = p.Action(k, kv.value, kv.has_value, &apply);
      if (!r) return std::unexpected(r.error());
      if (!*r) return MakeError(Errc::kInvalid, fmt::format("unknown action {}", k));
      have_apply = true;
    }
  }
  if (!lex.error().empty()) return MakeError(Errc::kInvalid, lex.error());
  if (have_apply) out.push_back(InstApplyActions{std::move(apply)});
  // Apply-actions was pushed when the next instruction came; restore spec order (it is
  // already in order because ranks only grow).
  return out;
}

}  // namespace sluice::ofp::text
