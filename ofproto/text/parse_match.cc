// ovs-ofctl match keywords -> OXM.
#include <fmt/format.h>

#include "ofproto/text/parse_internal.h"

namespace sluice::ofp::text {
namespace internal {
namespace {

using F = OxmField;
constexpr uint16_t kEthIp = 0x0800, kEthIpv6 = 0x86dd, kEthArp = 0x0806, kEthRarp = 0x8035;

Bytes BeBytes(uint64_t v, size_t len) {
  Bytes b(len);
  for (size_t i = 0; i < len; ++i) b[len - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
  return b;
}

struct Shorthand {
  std::string_view name;
  uint16_t eth_type;
  int ip_proto;  // -1: none
};
constexpr Shorthand kShorthands[] = {
    {"ip", kEthIp, -1},    {"ipv4", kEthIp, -1},    {"ip4", kEthIp, -1},
    {"icmp", kEthIp, 1},   {"igmp", kEthIp, 2},     {"tcp", kEthIp, 6},
    {"udp", kEthIp, 17},   {"sctp", kEthIp, 132},   {"ipv6", kEthIpv6, -1},
    {"ip6", kEthIpv6, -1}, {"icmp6", kEthIpv6, 58}, {"icmpv6", kEthIpv6, 58},
    {"tcp6", kEthIpv6, 6}, {"udp6", kEthIpv6, 17},  {"sctp6", kEthIpv6, 132},
    {"arp", kEthArp, -1},  {"rarp", kEthRarp, -1},  {"mpls", 0x8847, -1},
    {"mplsm", 0x8848, -1},
};

// Fields that take a plain (optionally masked) integer, by ovs-ofctl keyword.
struct IntField {
  std::string_view name;
  OxmField field;
};
constexpr IntField kIntFields[] = {
    {"dl_type", F::kEthType},        {"eth_type", F::kEthType},
    {"ip_dscp", F::kIpDscp},         {"nw_ecn", F::kIpEcn},
    {"ip_ecn", F::kIpEcn},           {"tcp_src", F::kTcpSrc},
    {"tcp_dst", F::kTcpDst},         {"udp_src", F::kUdpSrc},
    {"udp_dst", F::kUdpDst},         {"sctp_src", F::kSctpSrc},
    {"sctp_dst", F::kSctpDst},       {"icmpv4_type", F::kIcmpv4Type},
    {"icmpv4_code", F::kIcmpv4Code}, {"icmpv6_type", F::kIcmpv6Type},
    {"icmpv6_code", F::kIcmpv6Code}, {"arp_op", F::kArpOp},
    {"ipv6_label", F::kIpv6Flabel},  {"ipv6_flabel", F::kIpv6Flabel},
    {"metadata", F::kMetadata},      {"tun_id", F::kTunnelId},
    {"tunnel_id", F::kTunnelId},     {"mpls_label", F::kMplsLabel},
    {"mpls_tc", F::kMplsTc},         {"mpls_bos", F::kMplsBos},
    {"pbb_isid", F::kPbbIsid},       {"ip_proto", F::kIpProto},
};

std::string_view PrereqHint(OxmField f) {
  switch (f) {
    case F::kIpDscp:
    case F::kIpEcn:
    case F::kIpProto:
      return "ip or ipv6";
    case F::kIpv4Src:
    case F::kIpv4Dst:
      return "ip";
    case F::kTcpSrc:
    case F::kTcpDst:
      return "tcp or tcp6";
    case F::kUdpSrc:
    case F::kUdpDst:
      return "udp or udp6";
    case F::kSctpSrc:
    case F::kSctpDst:
      return "sctp or sctp6";
    case F::kIcmpv4Type:
    case F::kIcmpv4Code:
      return "icmp";
    case F::kArpOp:
    case F::kArpSpa:
    case F::kArpTpa:
    case F::kArpSha:
    case F::kArpTha:
      return "arp";
    case F::kIpv6Src:
    case F::kIpv6Dst:
    case F::kIpv6Flabel:
    case F::kIpv6Exthdr:
      return "ipv6";
    case F::kIcmpv6Type:
    case F::kIcmpv6Code:
      return "icmp6";
    case F::kIpv6NdTarget:
      return "icmp6,icmp_type=135 or 136";
    case F::kIpv6NdSll:
      return "icmp6,icmp_type=135";
    case F::kIpv6NdTll:
      return "icmp6,icmp_type=136";
    case F::kMplsLabel:
    case F::kMplsTc:
    case F::kMplsBos:
      return "mpls or mplsm";
    case F::kVlanPcp:
      return "a VLAN (dl_vlan or vlan_tci)";
    case F::kPbbIsid:
      return "dl_type=0x88e7";
    default:
      return "its prerequisite fields";
  }
}

}  // namespace

Result<void> CheckVersion(uint8_t version) {
  if (version != kOfp13) {
    return MakeError(
        Errc::kUnsupported,
        fmt::format("OpenFlow version 0x{:02x} is not supported (only OpenFlow13)", version));
  }
  return {};
}

Result<void> MatchBuilder::SetMasked(OxmField f, ByteSpan v, ByteSpan m, std::string_view key) {
  const OxmFieldInfo& info = FieldInfo(f);
  bool all_ones = true, all_zero = true;
  for (uint8_t b : m) {
    all_ones &= b == 0xff;
    all_zero &= b == 0;
  }
  if (m.empty() || all_ones) {
    m_.Set(OxmEntry::FromBytes(f, v));
    return {};
  }
  if (all_zero) {
    m_.Erase(f);
    return {};
  }
  if (!info.maskable) {
    return MakeError(Errc::kUnsupported,
                     fmt::format("{}: OpenFlow 1.3 cannot match this field with a mask", key));
  }
  m_.Set(OxmEntry::FromBytes(f, v, m));
  return {};
}

Result<void> MatchBuilder::SetInt(OxmField f, uint64_t v, uint64_t m, bool has_mask,
                                  std::string_view key) {
  size_t len = FieldInfo(f).len;
  Bytes vb = BeBytes(v, len);
  if (!has_mask) return SetMasked(f, vb, {}, key);
  Bytes mb = BeBytes(m, len);
  return SetMasked(f, vb, mb, key);
}

Result<bool> MatchBuilder::Apply(std::string_view key, std::string_view value, bool has_value) {
  for (const Shorthand& s : kShorthands) {
    if (key == s.name && !has_value) {
      m_.Set(OxmEntry::Exact(F::kEthType, s.eth_type));
      if (s.ip_proto >= 0) m_.Set(OxmEntry::Exact(F::kIpProto, static_cast<uint64_t>(s.ip_proto)));
      return true;
    }
  }
  auto need_value = [&]() -> Result<void> {
    if (!has_value || value.empty()) {
      return MakeError(Errc::kInvalid, fmt::format("field {} missing value", key));
    }
    return {};
  };
  auto wrap = [&](Error e) {
    e.message = fmt::format("{}: {}", key, e.message);
    return std::unexpected(e);
  };

  if (key == "in_port" || key == "in_port_oxm") {
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    auto p = ParsePort(value, opts_);
    if (!p) {
      return MakeError(Errc::kInvalid,
                       fmt::format("{}: invalid or unknown port for in_port", value));
    }
    m_.Set(OxmEntry::Exact(F::kInPort, *p));
    return true;
  }
  if (key == "in_phy_port") {
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    auto p = ParsePort(value, opts_);
    if (!p) return MakeError(Errc::kInvalid, fmt::format("{}: invalid or unknown port", value));
    m_.Set(OxmEntry::Exact(F::kInPhyPort, *p));
    return true;
  }
  struct MacField {
    std::string_view name;
    OxmField field;
  };
  static constexpr MacField kMacs[] = {
      {"dl_src", F::kEthSrc},         {"eth_src", F::kEthSrc},   {"dl_dst", F::kEthDst},
      {"eth_dst", F::kEthDst},        {"arp_sha", F::kArpSha},   {"arp_tha", F::kArpTha},
      {"nd_sll", F::kIpv6NdSll},      {"nd_tll", F::kIpv6NdTll}, {"ipv6_nd_sll", F::kIpv6NdSll},
      {"ipv6_nd_tll", F::kIpv6NdTll},
  };
  for (const MacField& mf : kMacs) {
    if (key != mf.name) continue;
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    auto mac = ParseMacMasked(value);
    if (!mac) return std::unexpected(mac.error());
    bool exact = value.find('/') == std::string_view::npos;
    if (auto ok = SetMasked(mf.field, mac->first, exact ? ByteSpan{} : ByteSpan(mac->second), key);
        !ok) {
      return std::unexpected(ok.error());
    }
    return true;
  }
  if (key == "nw_src" || key == "nw_dst" || key == "ip_src" || key == "ip_dst" ||
      key == "ipv4_src" || key == "ipv4_dst" || key == "arp_spa" || key == "arp_tpa") {
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    auto a = ParseIpv4Masked(value);
    if (!a) return std::unexpected(a.error());
    if (key == "arp_spa" || key == "arp_tpa") {
      Bytes v = BeBytes(a->first, 4), mk = BeBytes(a->second, 4);
      if (auto ok = SetMasked(key == "arp_spa" ? F::kArpSpa : F::kArpTpa, v, mk, key); !ok) {
        return std::unexpected(ok.error());
      }
    } else if (key.ends_with("src")) {
      nw_src_ = *a;
    } else {
      nw_dst_ = *a;
    }
    return true;
  }
  if (key == "ipv6_src" || key == "ipv6_dst" || key == "nd_target" || key == "ipv6_nd_target") {
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    auto a = ParseIpv6Masked(value);
    if (!a) return std::unexpected(a.error());
    F f = key == "ipv6_src" ? F::kIpv6Src : key == "ipv6_dst" ? F::kIpv6Dst : F::kIpv6NdTarget;
    if (auto ok = SetMasked(f, a->first, a->second, key); !ok) return std::unexpected(ok.error());
    return true;
  }
  if (key == "dl_vlan") {
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    auto v = ParseUint(value, 0xffff, "dl_vlan");
    if (!v) return wrap(v.error());
    if (*v == 0xffff) {  // OFP_VLAN_NONE: no tag
      tci_ = 0;
      tci_mask_ = 0xffff;
    } else if (*v > 0xfff) {
      return MakeError(Errc::kInvalid, fmt::format("{}: not a valid VLAN VID", value));
    } else {
      tci_ = static_cast<uint16_t>((tci_ & ~0x0fff) | 0x1000 | *v);
      tci_mask_ |= 0x1fff;
    }
    return true;
  }
  if (key == "dl_vlan_pcp" || key == "vlan_pcp") {
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    auto v = ParseUint(value, 7, key);
    if (!v) return std::unexpected(v.error());
    tci_ = static_cast<uint16_t>((tci_ & ~0xe000) | (*v << 13) | 0x1000);
    tci_mask_ |= 0xf000;
    return true;
  }
  if (key == "vlan_tci") {
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    auto v = ParseMaskedUint(value, 0xffff, "vlan_tci");
    if (!v) return std::unexpected(v.error());
    tci_ = static_cast<uint16_t>(v->value);
    tci_mask_ = static_cast<uint16_t>(v->mask);
    return true;
  }
  if (key == "vlan_vid") {  // OXM semantics: 0x1000 is the "tag present" bit
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    auto v = ParseMaskedUint(value, 0x1fff, "vlan_vid");
    if (!v) return std::unexpected(v.error());
    uint16_t mask = static_cast<uint16_t>(v->has_mask ? v->mask : 0x1fff);
    tci_ = static_cast<uint16_t>((tci_ & ~0x1fff) | (v->value & mask));
    tci_mask_ = static_cast<uint16_t>((tci_mask_ & 0xe000) | mask);
    return true;
  }
  if (key == "tp_src" || key == "tp_dst" || key == "nw_proto" || key == "icmp_type" ||
      key == "icmp_code" || key == "nw_tos") {
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    bool tp = key.starts_with("tp_");
    auto v = tp ? ParseMaskedUint(value, 0xffff, key) : ParseMaskedUint(value, 0xff, key);
    if (!v) return std::unexpected(v.error());
    if (!tp && v->has_mask) {
      return MakeError(Errc::kUnsupported,
                       fmt::format("{}: OpenFlow 1.3 cannot match this field with a mask", key));
    }
    if (key == "tp_src") tp_src_ = *v;
    if (key == "tp_dst") tp_dst_ = *v;
    if (key == "nw_proto") nw_proto_ = *v;
    if (key == "icmp_type") icmp_type_ = *v;
    if (key == "icmp_code") icmp_code_ = *v;
    if (key == "nw_tos") nw_tos_ = *v;
    return true;
  }
  if (key == "nw_ttl" || key == "nw_frag" || key == "tcp_flags" || key == "ct_state" ||
      key == "pkt_mark" || key == "reg0" || key == "dl_vlan1") {
    return MakeError(Errc::kUnsupported,
                     fmt::format("{}: field cannot be matched in OpenFlow 1.3", key));
  }
  for (const IntField& f : kIntFields) {
    if (key != f.name) continue;
    if (auto ok = need_value(); !ok) return std::unexpected(ok.error());
    uint64_t max = FieldInfo(f.field).max_value;
    auto v = ParseMaskedUint(value, max, key);
    if (!v) return std::unexpected(v.error());
    if (auto ok = SetInt(f.field, v->value, v->mask, v->has_mask, key); !ok) {
      return std::unexpected(ok.error());
    }
    return true;
  }
  return false;
}

Result<Match> MatchBuilder::Finish() {
  // VLAN, as OVS encodes the TCI into OXM: vid + present bit, then pcp if a tag is required.
  if (tci_mask_ != 0) {
    uint16_t vmask = tci_mask_ & 0x1fff;
    uint16_t vid = tci_ & vmask;
    if (vmask == 0x1fff) {
      m_.Set(OxmEntry::Exact(F::kVlanVid, vid));
    } else if (vmask != 0) {
      m_.Set(OxmEntry::Masked(F::kVlanVid, vid, vmask));
    }
    if (vid != 0 && (tci_mask_ & 0xe000) != 0) {
      m_.Set(OxmEntry::Exact(F::kVlanPcp, (tci_ >> 13) & 7u));
    } else if ((tci_mask_ & 0xe000) != 0 && (tci_ & 0xe000) != 0) {
      return MakeError(Errc::kUnsupported,
                       "a VLAN priority can only be matched together with a VLAN tag");
    }
  }
  const OxmEntry* et = m_.Find(F::kEthType);
  uint64_t eth_type = et ? et->ValueU64() : 0;
  bool is_arp = et && (eth_type == kEthArp || eth_type == kEthRarp);
  bool is_ip4 = et && eth_type == kEthIp;
  bool is_ip6 = et && eth_type == kEthIpv6;
  if (nw_proto_) {
    if (is_arp) {
      m_.Set(OxmEntry::Exact(F::kArpOp, nw_proto_->value));
    } else if (is_ip4 || is_ip6) {
      m_.Set(OxmEntry::Exact(F::kIpProto, nw_proto_->value));
    } else {
      return MakeError(Errc::kInvalid, "nw_proto requires ip, ipv6 or arp (e.g. ip,nw_proto=6)");
    }
  }
  if (nw_tos_) {
    if (!is_ip4 && !is_ip6) {
      return MakeError(Errc::kInvalid, "nw_tos requires ip or ipv6 (e.g. ip,nw_tos=16)");
    }
    m_.Set(OxmEntry::Exact(F::kIpDscp, nw_tos_->value >> 2));
  }
  for (auto [addr, is_src] : {std::pair{&nw_src_, true}, std::pair{&nw_dst_, false}}) {
    if (!*addr) continue;
    F f;
    if (is_arp) {
      f = is_src ? F::kArpSpa : F::kArpTpa;
    } else if (is_ip4) {
      f = is_src ? F::kIpv4Src : F::kIpv4Dst;
    } else {
      return MakeError(Errc::kInvalid,
                       fmt::format("{} requires ip or arp (e.g. ip,{}=10.0.0.0/8)",
                                   is_src ? "nw_src" : "nw_dst", is_src ? "nw_src" : "nw_dst"));
    }
    Bytes v = BeBytes((*addr)->first, 4), mk = BeBytes((*addr)->second, 4);
    if (auto ok = SetMasked(f, v, mk, is_src ? "nw_src" : "nw_dst"); !ok) {
      return std::unexpected(ok.error());
    }
  }
  const OxmEntry* pe = m_.Find(F::kIpProto);
  int proto = pe && (is_ip4 || is_ip6) ? static_cast<int>(pe->ValueU64()) : -1;
  for (auto [tp, is_src] : {std::pair{&tp_src_, true}, std::pair{&tp_dst_, false}}) {
    if (!*tp) continue;
    std::string_view key = is_src ? "tp_src" : "tp_dst";
    F f;
    if (proto == 6) {
      f = is_src ? F::kTcpSrc : F::kTcpDst;
    } else if (proto == 17) {
      f = is_src ? F::kUdpSrc : F::kUdpDst;
    } else if (proto == 132) {
      f = is_src ? F::kSctpSrc : F::kSctpDst;
    } else {
      return MakeError(Errc::kInvalid,
                       fmt::format("{} requires tcp, udp or sctp (e.g. tcp,{}=80)", key, key));
    }
    if (auto ok = SetInt(f, (*tp)->value, (*tp)->mask, (*tp)->has_mask, key); !ok) {
      return std::unexpected(ok.error());
    }
  }
  for (auto [ic, is_type] : {std::pair{&icmp_type_, true}, std::pair{&icmp_code_, false}}) {
    if (!*ic) continue;
    F f;
    if (proto == 1 && is_ip4) {
      f = is_type ? F::kIcmpv4Type : F::kIcmpv4Code;
    } else if (proto == 58 && is_ip6) {
      f = is_type ? F::kIcmpv6Type : F::kIcmpv6Code;
    } else {
      return MakeError(Errc::kInvalid, fmt::format("{} requires icmp or icmp6",
                                                   is_type ? "icmp_type" : "icmp_code"));
    }
    m_.Set(OxmEntry::Exact(f, (*ic)->value));
  }
  for (const OxmEntry& e : m_.fields()) {
    if (!PrereqsMet(m_, e.field)) {
      return MakeError(Errc::kInvalid,
                       fmt::format("{} requires {} in the match (prerequisite not met)",
                                   FieldInfo(e.field).name, PrereqHint(e.field)));
    }
  }
  return m_;
}

}  // namespace internal

Result<Match> ParseMatch(std::string_view text, const ParseOptions& opts) {
  if (auto ok = internal::CheckVersion(opts.version); !ok) return std::unexpected(ok.error());
  internal::MatchBuilder b(opts);
  internal::KeyValueLexer lex(text);
  internal::KeyValue kv;
  while (lex.Next(&kv)) {
    auto r = b.Apply(kv.key, kv.value, kv.has_value);
    if (!r) return std::unexpected(r.error());
    if (!*r) return MakeError(Errc::kInvalid, fmt::format("unknown keyword {}", kv.key));
  }
  if (!lex.error().empty()) return MakeError(Errc::kInvalid, lex.error());
  return b.Finish();
}

}  // namespace sluice::ofp::text
