// Parsing the flow half of the OVS datapath text syntax: ParseOdpFlow, ParseOdpFlowFilter.
#include <arpa/inet.h>

#include <cctype>
#include <cstddef>

#include "datapath/flow/odp_text.h"
#include "datapath/flow/odp_text_flow.h"

namespace sluice::dp {
namespace {

using namespace odp_text;  // NOLINT: the syntax's vocabulary is this file's

bool IsL3(Attr a) { return a == Attr::kIpv4 || a == Attr::kIpv6 || a == Attr::kArp; }
bool IsL4(Attr a) {
  return a == Attr::kTcp || a == Attr::kUdp || a == Attr::kSctp || a == Attr::kIcmp ||
         a == Attr::kIcmpv6;
}
bool IsMetadata(Attr a) {
  return a == Attr::kRecircId || a == Attr::kDpHash || a == Attr::kSkbMark || a == Attr::kInPort ||
         a == Attr::kPacketType || a == Attr::kTunnel || a == Attr::kEth;
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

class FlowParser {
 public:
  FlowParser(FlowKey* key, FlowMask* mask)
      : key_(key),
        mask_(mask),
        kb_(reinterpret_cast<uint8_t*>(key)),
        mb_(reinterpret_cast<uint8_t*>(&mask->bits)) {}

  // With `untagged_default`, VLAN levels the text does not name match "no tag" (unless the
  // text names nothing at all).
  Result<void> Parse(std::string_view text, bool untagged_default) {
    Scanner s(text);
    auto r = ParseLevel(&s, 0);
    if (!r) return r;
    if (untagged_default && named_anything_) {
      for (int level = vlan_levels_; level < kMaxVlans; ++level) {
        key_->vlans[level] = VlanHdr{0, 0};
        mask_->bits.vlans[level] = kNoTagMask;
      }
    }
    return CheckConsistency();
  }

 private:
  // One nesting level: the top level or the inside of an encap(). Consumes the closing ')' of
  // an encap().
  Result<void> ParseLevel(Scanner* s, int level) {
    bool has_eth_type = false;
    uint64_t et_value = 0;
    uint64_t et_mask = 0;
    bool has_vlan = false;
    bool has_encap = false;
    Attr l34 = Attr::kNone;  // an L3/L4 attribute seen at this level

    bool empty = level == 0 ? s->AtEnd() : s->TryConsume(')');
    while (!empty) {
      std::string_view name = s->ReadName();
      if (level == 0 && name == "ufid" && s->Peek() == ':') {
        s->ReadToken();  // an OVS flow id: not part of the match
      } else {
        if (name.empty()) {
          if (s->AtEnd()) return Fail("", "expected an attribute but the text ended");
          return Fail("", "expected an attribute at " + Quoted(s->Context()));
        }
        Attr attr = Attr::kNone;
        for (const auto& [n, a] : kAttrNames) {
          if (n == name) attr = a;
        }
        if (attr == Attr::kNone) return Fail("", "unknown attribute " + Quoted(name));
        if (auto r = s->Expect('(', name); !r) return r;
        named_anything_ = true;

        if (IsMetadata(attr) && level > 0) {
          return Fail(name, "not allowed inside encap()");
        }
        if (attr == Attr::kEthType || attr == Attr::kVlan || attr == Attr::kEncap) {
          bool* seen = attr == Attr::kEthType ? &has_eth_type
                       : attr == Attr::kVlan  ? &has_vlan
                                              : &has_encap;
          if (*seen) return Fail("", "duplicate attribute " + Quoted(name));
          *seen = true;
        } else {
          uint32_t bit = 1u << static_cast<unsigned>(attr);
          if (seen_ & bit) return Fail("", "duplicate attribute " + Quoted(name));
          seen_ |= bit;
        }
        if (IsL3(attr) || IsL4(attr) || attr == Attr::kNd || attr == Attr::kTcpFlags ||
            attr == Attr::kMpls) {
          if (l34 == Attr::kNone) l34 = attr;
        }

        Result<void> r;
        switch (attr) {
          case Attr::kRecircId:
            r = ParseU32(s, name, &key_->recirc_id, &mask_->bits.recirc_id);
            break;
          case Attr::kDpHash:
            r = ParseU32(s, name, &key_->dp_hash, &mask_->bits.dp_hash);
            break;
          case Attr::kSkbMark:
            r = ParseU32(s, name, &key_->pkt_mark, &mask_->bits.pkt_mark);
            break;
          case Attr::kInPort:
            r = ParseU32(s, name, &key_->in_port, &mask_->bits.in_port);
            break;
          case Attr::kPacketType:
            r = ParsePacketType(s);
            break;
          case Attr::kTunnel:
            r = ParseFieldList(s, name, kTunnelFields, kb_, mb_);
            break;
          case Attr::kEth:
            r = ParseFieldList(s, name, kEthFields, kb_, mb_);
            break;
          case Attr::kEthType: {
            auto vm = ParseMaskedUint(s->ReadToken(), 0xffff, 0xffff, name);
            if (!vm) return std::unexpected(vm.error());
            et_value = vm->first;
            et_mask = vm->second;
            r = s->Expect(')', name);
            break;
          }
          case Attr::kVlan:
            if (level >= kMaxVlans) return Fail(name, "at most 2 VLAN headers are supported");
            vlan_levels_ = level + 1;
            r = ParseVlan(s, level);
            break;
          case Attr::kEncap:
            if (!has_vlan) return Fail(name, "encap() must follow a vlan()");
            r = ParseLevel(s, level + 1);
            break;
          case Attr::kIpv4:
            r = ParseL3L4(s, attr, kIpv4Fields);
            break;
          case Attr::kIpv6:
            r = ParseL3L4(s, attr, kIpv6Fields);
            break;
          case Attr::kArp:
            r = ParseL3L4(s, attr, kArpFields);
            break;
          case Attr::kTcp:
          case Attr::kUdp:
          case Attr::kSctp:
            r = ParseL3L4(s, attr, kPortFields);
            break;
          case Attr::kIcmp:
          case Attr::kIcmpv6:
            r = ParseL3L4(s, attr, kIcmpFields);
            break;
          case Attr::kNd:
            r = ParseL3L4(s, attr, kNdFields);
            break;
          case Attr::kTcpFlags:
            r = ParseTcpFlags(s);
            break;
          case Attr::kMpls:
            if (l3_ != Attr::kNone) return Fail("mpls", "conflicts with " + Quoted(AttrName(l3_)));
            l3_ = Attr::kMpls;
            r = odp_text::ParseMplsFields(s, "mpls", &key_->mpls_lse, &mask_->bits.mpls_lse,
                                          nullptr);
            break;
          case Attr::kNone:
            break;
        }
        if (!r) return r;
      }
      if (level == 0 ? s->AtEnd() : s->TryConsume(')')) break;
      if (!s->TryConsume(',')) {
        if (level > 0 && s->AtEnd()) return Fail("encap", "missing ')'");
        return Fail("", "unexpected " + Quoted(s->Context()) + " after " + Quoted(name));
      }
    }

    if (has_vlan) {
      if (l34 != Attr::kNone) {
        return Fail(AttrName(l34), "must be inside encap() after vlan()");
      }
      if (has_eth_type) {
        if (et_mask == 0xffff && et_value != kTpidVlan && et_value != kTpidQinQ && et_value != 0) {
          std::string msg;
          Appendf(&msg, "eth_type(0x%04x) is not a VLAN TPID (0x8100 or 0x88a8)",
                  static_cast<unsigned>(et_value));
          return Fail("vlan", msg);
        }
        key_->vlans[level].tpid = htons(static_cast<uint16_t>(et_value));
        mask_->bits.vlans[level].tpid = htons(static_cast<uint16_t>(et_mask));
      }
    } else if (has_eth_type) {
      key_->eth_type = htons(static_cast<uint16_t>(et_value));
      mask_->bits.eth_type = htons(static_cast<uint16_t>(et_mask));
    }
    return {};
  }

  Result<void> ParseU32(Scanner* s, std::string_view name, uint32_t* key, uint32_t* mask) {
    auto vm = ParseMaskedUint(s->ReadToken(), UINT32_MAX, UINT32_MAX, name);
    if (!vm) return std::unexpected(vm.error());
    *key = static_cast<uint32_t>(vm->first);
    *mask = static_cast<uint32_t>(vm->second);
    return s->Expect(')', name);
  }

  Result<void> ParseL3L4(Scanner* s, Attr attr, std::span<const FieldDesc> fields) {
    Attr* slot = IsL3(attr) ? &l3_ : IsL4(attr) ? &l4_ : nullptr;
    if (slot) {
      if (*slot != Attr::kNone) {
        return Fail(AttrName(attr), "conflicts with " + Quoted(AttrName(*slot)));
      }
      *slot = attr;
    }
    return ParseFieldList(s, AttrName(attr), fields, kb_, mb_);
  }

  // Sluice's datapath sees Ethernet frames only: packet_type(ns=0,id=0), as OVS prints it for
  // them, is accepted and means nothing more.
  Result<void> ParsePacketType(Scanner* s) {
    constexpr std::string_view kCtx = "packet_type";
    for (std::string_view want : {"ns", "id"}) {
      std::string_view name = s->ReadName();
      if (name != want) {
        return Fail(kCtx, "expected '" + std::string(want) + "=' at " + Quoted(s->Context()));
      }
      if (!s->TryConsume('=')) return Fail(kCtx, "expected '=' after " + Quoted(name));
      auto v = ParseMaskedUint(s->ReadToken(), 0xffff, 0xffff, kCtx);
      if (!v) return std::unexpected(v.error());
      if (v->first != 0 || v->second != 0xffff) {
        return Fail(kCtx, "only Ethernet frames (ns=0,id=0) are supported");
      }
      if (want == "ns" && !s->TryConsume(',')) return Fail(kCtx, "expected ',' after ns");
    }
    return s->Expect(')', kCtx);
  }

  Result<void> ParseVlan(Scanner* s, int level) {
    uint16_t tci = 0;
    uint16_t tm = 0;
    bool seen[3] = {false, false, false};
    if (!s->TryConsume(')')) {
      while (true) {
        std::string_view name = s->ReadName();
        int idx = name == "vid" ? 0 : name == "pcp" ? 1 : name == "cfi" ? 2 : -1;
        if (idx < 0) {
          if (name.empty()) return Fail("vlan", "expected a field at " + Quoted(s->Context()));
          return Fail("vlan", "unknown field " + Quoted(name));
        }
        if (seen[idx]) return Fail("vlan", "duplicate field " + Quoted(name));
        seen[idx] = true;
        std::string ctx = "vlan." + std::string(name);
        if (!s->TryConsume('=')) return Fail(ctx, "expected '='");
        static constexpr uint64_t kMax[3] = {0xfff, 7, 1};
        static constexpr int kShift[3] = {0, 13, 12};
        auto vm = ParseMaskedUint(s->ReadToken(), kMax[idx], kMax[idx], ctx);
        if (!vm) return std::unexpected(vm.error());
        tci |= static_cast<uint16_t>(vm->first << kShift[idx]);
        tm |= static_cast<uint16_t>(vm->second << kShift[idx]);
        if (s->TryConsume(')')) break;
        if (!s->TryConsume(',')) {
          if (s->AtEnd()) return Fail("vlan", "missing ')'");
          return Fail(ctx, "unexpected " + Quoted(s->Context()) + " after value");
        }
      }
    }
    if (!seen[2]) {  // a vlan() names a present tag unless told otherwise
      tci |= kVlanCfi;
      tm |= kVlanCfi;
    }
    key_->vlans[level].tci = htons(tci);
    mask_->bits.vlans[level].tci = htons(tm);
    return {};
  }

  Result<void> ParseTcpFlags(Scanner* s) {
    constexpr std::string_view kCtx = "tcp_flags";
    std::string_view tok = s->ReadToken();
    if (tok.empty()) return Fail(kCtx, "missing value");
    uint64_t value = 0;
    uint64_t mask = 0;
    auto flag_bit = [&](std::string_view name) -> int {
      for (int i = 0; i < 12; ++i) {
        if (kTcpFlagNames[i] == name) return i;
      }
      return -1;
    };
    if (std::isdigit(static_cast<unsigned char>(tok[0]))) {
      auto vm = ParseMaskedUint(tok, 0xfff, 0xfff, kCtx);
      if (!vm) return std::unexpected(vm.error());
      value = vm->first;
      mask = vm->second;
    } else if (tok[0] == '+' || tok[0] == '-') {
      size_t pos = 0;
      while (pos < tok.size()) {
        bool set = tok[pos] == '+';
        size_t end = tok.find_first_of("+-", pos + 1);
        std::string_view name = tok.substr(
            pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
        int bit = flag_bit(name);
        if (bit < 0) return Fail(kCtx, "unknown flag " + Quoted(name));
        if (mask & (1u << bit)) return Fail(kCtx, "flag " + Quoted(name) + " given twice");
        mask |= 1u << bit;
        if (set) value |= 1u << bit;
        pos = end == std::string_view::npos ? tok.size() : end;
      }
    } else {
      mask = 0xfff;
      size_t pos = 0;
      while (true) {
        size_t bar = tok.find('|', pos);
        std::string_view name =
            tok.substr(pos, bar == std::string_view::npos ? std::string_view::npos : bar - pos);
        int bit = flag_bit(name);
        if (bit < 0) return Fail(kCtx, "unknown flag " + Quoted(name));
        value |= 1u << bit;
        if (bar == std::string_view::npos) break;
        pos = bar + 1;
      }
    }
    key_->tcp_flags = htons(static_cast<uint16_t>(value));
    mask_->bits.tcp_flags = htons(static_cast<uint16_t>(mask));
    return s->Expect(')', kCtx);
  }

  // Cross-attribute checks, done once everything is known since attributes come in any order.
  Result<void> CheckConsistency() {
    const FlowKey& m = mask_->bits;
    if (m.eth_type == 0xffff) {
      uint16_t et = ntohs(key_->eth_type);
      auto require = [&](Attr a, bool ok, const char* want) -> Result<void> {
        if (ok) return {};
        std::string msg = std::string("requires ") + want;
        Appendf(&msg, ", not eth_type(0x%04x)", et);
        return Fail(AttrName(a), msg);
      };
      Result<void> r;
      if (l3_ == Attr::kIpv4) r = require(l3_, et == kEthTypeIpv4, "eth_type(0x0800)");
      if (l3_ == Attr::kIpv6) r = require(l3_, et == kEthTypeIpv6, "eth_type(0x86dd)");
      if (l3_ == Attr::kArp) {
        r = require(l3_, et == kEthTypeArp || et == kEthTypeRarp, "eth_type(0x0806 or 0x8035)");
      }
      if (l3_ == Attr::kMpls) r = require(l3_, IsMplsEthType(et), "eth_type(0x8847 or 0x8848)");
      if (!r) return r;
      if (seen_ & (1u << static_cast<unsigned>(Attr::kNd))) {
        r = require(Attr::kNd, et == kEthTypeIpv6, "eth_type(0x86dd)");
        if (!r) return r;
      }
      if (l4_ == Attr::kIcmp) r = require(l4_, et == kEthTypeIpv4, "eth_type(0x0800)");
      if (l4_ == Attr::kIcmpv6) r = require(l4_, et == kEthTypeIpv6, "eth_type(0x86dd)");
      if (l4_ == Attr::kTcp || l4_ == Attr::kUdp || l4_ == Attr::kSctp) {
        r = require(l4_, et == kEthTypeIpv4 || et == kEthTypeIpv6, "eth_type(0x0800 or 0x86dd)");
      }
      if (!r) return r;
    }
    if (l4_ != Attr::kNone) {
      if (l3_ == Attr::kArp) return Fail(AttrName(l4_), "not allowed with 'arp'");
      if (l3_ == Attr::kMpls) return Fail(AttrName(l4_), "not allowed with 'mpls'");
      if (l3_ == Attr::kIpv6 && l4_ == Attr::kIcmp) {
        return Fail("icmp", "not allowed with 'ipv6' (use icmpv6)");
      }
      if (l3_ == Attr::kIpv4 && l4_ == Attr::kIcmpv6) {
        return Fail("icmpv6", "not allowed with 'ipv4' (use icmp)");
      }
      if (m.nw_proto == 0xff) {
        uint8_t want = l4_ == Attr::kTcp    ? kProtoTcp
                       : l4_ == Attr::kUdp  ? kProtoUdp
                       : l4_ == Attr::kSctp ? kProtoSctp
                       : l4_ == Attr::kIcmp ? kProtoIcmp
                                            : kProtoIcmpv6;
        if (key_->nw_proto != want) {
          std::string msg;
          Appendf(&msg, "requires proto=%u, not proto=%u", want, key_->nw_proto);
          return Fail(AttrName(l4_), msg);
        }
      }
    }
    if (seen_ & (1u << static_cast<unsigned>(Attr::kNd))) {
      if (l3_ == Attr::kIpv4 || l3_ == Attr::kArp) {
        return Fail("nd", "conflicts with " + Quoted(AttrName(l3_)));
      }
      if (l4_ != Attr::kNone && l4_ != Attr::kIcmpv6) {
        return Fail("nd", "conflicts with " + Quoted(AttrName(l4_)));
      }
      if (m.nw_proto == 0xff && key_->nw_proto != kProtoIcmpv6) {
        std::string msg;
        Appendf(&msg, "requires proto=%u, not proto=%u", kProtoIcmpv6, key_->nw_proto);
        return Fail("nd", msg);
      }
    }
    return {};
  }

  FlowKey* key_;
  FlowMask* mask_;
  uint8_t* kb_;
  uint8_t* mb_;
  uint32_t seen_ = 0;  // attributes that may appear once per flow, by Attr bit
  bool named_anything_ = false;
  int vlan_levels_ = 0;  // VLAN levels the text names with vlan()
  Attr l3_ = Attr::kNone;
  Attr l4_ = Attr::kNone;
};

}  // namespace

namespace {

Result<void> Parse(std::string_view text, FlowKey* key, FlowMask* mask, bool untagged_default) {
  key->Clear();
  mask->Clear();
  FlowParser parser(key, mask);
  auto r = parser.Parse(text, untagged_default);
  if (!r) return r;
  ApplyMask(*key, *mask, key);
  return {};
}

}  // namespace

Result<void> ParseOdpFlow(std::string_view text, FlowKey* key, FlowMask* mask) {
  return Parse(text, key, mask, true);
}

Result<void> ParseOdpFlowFilter(std::string_view text, FlowKey* key, FlowMask* mask) {
  return Parse(text, key, mask, false);
}

FlowMask PacketKeyMask(const FlowKey& key) {
  FlowMask m;
  m.SetAll();
  FlowKey& b = m.bits;
  for (size_t i = 0; i < 2; ++i) {
    if (key.vlans[i].tci == 0 && key.vlans[i].tpid == 0) b.vlans[i] = VlanHdr{};
  }
  uint16_t et = ntohs(key.eth_type);
  bool ipv4 = et == kEthTypeIpv4, ipv6 = et == kEthTypeIpv6;
  bool arp = et == kEthTypeArp || et == kEthTypeRarp;
  if (!IsMplsEthType(et)) b.mpls_lse = 0;
  if (!ipv4 && !arp) b.nw_src = b.nw_dst = 0;  // ARP keeps spa/tpa there
  if (!ipv6) {
    b.ipv6_src = b.ipv6_dst = In6Addr{};
    b.ipv6_label = 0;
  }
  if (ipv4 || ipv6) {
    b.nw_frag = kFragAny | kFragLater;
  } else {
    b.nw_frag = b.nw_tos = b.nw_ttl = 0;
    if (!arp) b.nw_proto = 0;  // ARP keeps the opcode there
  }
  // Neighbour discovery: an ICMPv6 solicitation or advertisement (type in tp_src's low byte).
  uint8_t icmp_type = static_cast<uint8_t>(ntohs(key.tp_src));
  bool nd = ipv6 && key.nw_proto == kProtoIcmpv6 && (icmp_type == 135 || icmp_type == 136);
  if (!nd) b.nd_target = In6Addr{};
  if (!nd && !arp) b.arp_sha = b.arp_tha = MacAddr{};
  // L4: TCP, UDP, SCTP, ICMP or ICMPv6 of a packet that is not a later fragment.
  bool l4 = (ipv4 || ipv6) && !(key.nw_frag & kFragLater) &&
            (key.nw_proto == kProtoTcp || key.nw_proto == kProtoUdp || key.nw_proto == kProtoSctp ||
             (ipv4 && key.nw_proto == kProtoIcmp) || (ipv6 && key.nw_proto == kProtoIcmpv6));
  if (!l4) b.tp_src = b.tp_dst = 0;
  if (!l4 || key.nw_proto != kProtoTcp) b.tcp_flags = 0;
  return m;
}

}  // namespace sluice::dp
