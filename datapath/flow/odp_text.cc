// Flow half of the OVS datapath text syntax: ParseOdpFlow / FormatOdpFlow.
#include "datapath/flow/odp_text.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstddef>

#include "datapath/flow/odp_text_internal.h"

namespace sluice::dp {
namespace {

using odp_text::AnyFieldMasked;
using odp_text::Appendf;
using odp_text::AppendHex;
using odp_text::Fail;
using odp_text::FieldDesc;
using odp_text::FieldKind;
using odp_text::FormatFieldList;
using odp_text::ParseFieldList;
using odp_text::ParseMaskedUint;
using odp_text::Scanner;

#define SLUICE_KEY_OFF(f) static_cast<uint16_t>(offsetof(FlowKey, f))

constexpr FieldDesc kTunnelFields[] = {
    {"tun_id", FieldKind::kBe64, SLUICE_KEY_OFF(tun_id)},
    {"src", FieldKind::kIpv4, SLUICE_KEY_OFF(tun_src)},
    {"dst", FieldKind::kIpv4, SLUICE_KEY_OFF(tun_dst)},
};
constexpr FieldDesc kEthFields[] = {
    {"src", FieldKind::kMac, SLUICE_KEY_OFF(eth_src)},
    {"dst", FieldKind::kMac, SLUICE_KEY_OFF(eth_dst)},
};
constexpr FieldDesc kIpv4Fields[] = {
    {"src", FieldKind::kIpv4, SLUICE_KEY_OFF(nw_src)},
    {"dst", FieldKind::kIpv4, SLUICE_KEY_OFF(nw_dst)},
    {"proto", FieldKind::kU8, SLUICE_KEY_OFF(nw_proto)},
    {"tos", FieldKind::kU8Hex, SLUICE_KEY_OFF(nw_tos)},
    {"ttl", FieldKind::kU8, SLUICE_KEY_OFF(nw_ttl)},
    {"frag", FieldKind::kFrag, SLUICE_KEY_OFF(nw_frag)},
};
constexpr FieldDesc kIpv6Fields[] = {
    {"src", FieldKind::kIpv6, SLUICE_KEY_OFF(ipv6_src)},
    {"dst", FieldKind::kIpv6, SLUICE_KEY_OFF(ipv6_dst)},
    {"label", FieldKind::kLabel, SLUICE_KEY_OFF(ipv6_label)},
    {"proto", FieldKind::kU8, SLUICE_KEY_OFF(nw_proto)},
    {"tclass", FieldKind::kU8Hex, SLUICE_KEY_OFF(nw_tos)},
    {"hlimit", FieldKind::kU8, SLUICE_KEY_OFF(nw_ttl)},
    {"frag", FieldKind::kFrag, SLUICE_KEY_OFF(nw_frag)},
};
constexpr FieldDesc kPortFields[] = {
    {"src", FieldKind::kBe16, SLUICE_KEY_OFF(tp_src)},
    {"dst", FieldKind::kBe16, SLUICE_KEY_OFF(tp_dst)},
};
constexpr FieldDesc kIcmpFields[] = {
    {"type", FieldKind::kIcmp, SLUICE_KEY_OFF(tp_src)},
    {"code", FieldKind::kIcmp, SLUICE_KEY_OFF(tp_dst)},
};
constexpr FieldDesc kArpFields[] = {
    {"sip", FieldKind::kIpv4, SLUICE_KEY_OFF(nw_src)},
    {"tip", FieldKind::kIpv4, SLUICE_KEY_OFF(nw_dst)},
    {"op", FieldKind::kU8, SLUICE_KEY_OFF(nw_proto)},
    {"sha", FieldKind::kMac, SLUICE_KEY_OFF(arp_sha)},
    {"tha", FieldKind::kMac, SLUICE_KEY_OFF(arp_tha)},
};
constexpr FieldDesc kNdFields[] = {
    {"target", FieldKind::kIpv6, SLUICE_KEY_OFF(nd_target)},
    {"sll", FieldKind::kMac, SLUICE_KEY_OFF(arp_sha)},
    {"tll", FieldKind::kMac, SLUICE_KEY_OFF(arp_tha)},
};

#undef SLUICE_KEY_OFF

constexpr uint16_t kEthTypeIpv4 = 0x0800;
constexpr uint16_t kEthTypeIpv6 = 0x86dd;
constexpr uint16_t kEthTypeArp = 0x0806;
constexpr uint16_t kEthTypeRarp = 0x8035;
constexpr uint16_t kTpidVlan = 0x8100;
constexpr uint16_t kTpidQinQ = 0x88a8;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoSctp = 132;
constexpr int kMaxVlans = 2;

constexpr std::string_view kTcpFlagNames[12] = {"fin", "syn", "rst", "psh",   "ack",   "urg",
                                                "ece", "cwr", "ns",  "[200]", "[400]", "[800]"};

enum class Attr : uint8_t {
  kRecircId,
  kDpHash,
  kSkbMark,
  kInPort,
  kTunnel,
  kEth,
  kEthType,
  kVlan,
  kEncap,
  kIpv4,
  kIpv6,
  kArp,
  kTcp,
  kUdp,
  kSctp,
  kIcmp,
  kIcmpv6,
  kNd,
  kTcpFlags,
  kMpls,
  kNone,
};

constexpr std::pair<std::string_view, Attr> kAttrNames[] = {
    {"recirc_id", Attr::kRecircId},
    {"dp_hash", Attr::kDpHash},
    {"skb_mark", Attr::kSkbMark},
    {"in_port", Attr::kInPort},
    {"tunnel", Attr::kTunnel},
    {"eth", Attr::kEth},
    {"eth_type", Attr::kEthType},
    {"vlan", Attr::kVlan},
    {"encap", Attr::kEncap},
    {"ipv4", Attr::kIpv4},
    {"ipv6", Attr::kIpv6},
    {"arp", Attr::kArp},
    {"tcp", Attr::kTcp},
    {"udp", Attr::kUdp},
    {"sctp", Attr::kSctp},
    {"icmp", Attr::kIcmp},
    {"icmpv6", Attr::kIcmpv6},
    {"nd", Attr::kNd},
    {"tcp_flags", Attr::kTcpFlags},
    {"mpls", Attr::kMpls},
};

std::string_view AttrName(Attr a) {
  for (const auto& [name, attr] : kAttrNames) {
    if (attr == a) return name;
  }
  return "?";
}

bool IsL3(Attr a) { return a == Attr::kIpv4 || a == Attr::kIpv6 || a == Attr::kArp; }
bool IsL4(Attr a) {
  return a == Attr::kTcp || a == Attr::kUdp || a == Attr::kSctp || a == Attr::kIcmp ||
         a == Attr::kIcmpv6;
}
bool IsMetadata(Attr a) {
  return a == Attr::kRecircId || a == Attr::kDpHash || a == Attr::kSkbMark || a == Attr::kInPort ||
         a == Attr::kTunnel || a == Attr::kEth;
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// ---- parsing ---------------------------------------------------------------------------------

class FlowParser {
 public:
  FlowParser(FlowKey* key, FlowMask* mask)
      : key_(key),
        mask_(mask),
        kb_(reinterpret_cast<uint8_t*>(key)),
        mb_(reinterpret_cast<uint8_t*>(&mask->bits)) {}

  Result<void> Parse(std::string_view text) {
    Scanner s(text);
    auto r = ParseLevel(&s, 0);
    if (!r) return r;
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
  Attr l3_ = Attr::kNone;
  Attr l4_ = Attr::kNone;
};

// ---- formatting ------------------------------------------------------------------------------

// Appends ',' unless at the start of the text or of a parenthesised list.
void Sep(std::string* out) {
  if (!out->empty() && out->back() != '(') out->push_back(',');
}

void FormatU32Attr(std::string* out, const char* name, uint32_t v, uint32_t m, bool decimal) {
  if (m == 0) return;
  Sep(out);
  Appendf(out, "%s(", name);
  if (decimal) {
    Appendf(out, "%u", v & m);
  } else {
    AppendHex(out, v & m);
  }
  if (m != UINT32_MAX) Appendf(out, "/%#x", m);
  out->push_back(')');
}

void FormatFieldsAttr(std::string* out, std::string_view name, std::span<const FieldDesc> fields,
                      const FlowKey& k, const FlowMask& m) {
  const uint8_t* kb = reinterpret_cast<const uint8_t*>(&k);
  const uint8_t* mb = reinterpret_cast<const uint8_t*>(&m.bits);
  if (!AnyFieldMasked(fields, mb)) return;
  Sep(out);
  out->append(name);
  out->push_back('(');
  FormatFieldList(fields, kb, mb, out);
  out->push_back(')');
}

void FormatEthType(std::string* out, uint16_t v_be, uint16_t m_be) {
  uint16_t v = ntohs(v_be);
  uint16_t m = ntohs(m_be);
  if (m == 0) return;
  Sep(out);
  Appendf(out, "eth_type(0x%04x", v & m);
  if (m != 0xffff) Appendf(out, "/0x%04x", m);
  out->push_back(')');
}

void FormatVlan(std::string* out, const VlanHdr& kv, const VlanHdr& mv) {
  uint16_t tci = ntohs(kv.tci);
  uint16_t tm = ntohs(mv.tci);
  Sep(out);
  out->append("vlan(");
  if (uint16_t vm = tm & 0xfff; vm != 0) {
    Sep(out);
    Appendf(out, "vid=%u", tci & vm);
    if (vm != 0xfff) Appendf(out, "/0x%x", vm);
  }
  if (uint16_t pm = tm >> 13; pm != 0) {
    Sep(out);
    Appendf(out, "pcp=%u", (tci >> 13) & pm);
    if (pm != 7) Appendf(out, "/0x%x", pm);
  }
  if (!(tm & kVlanCfi)) {
    Sep(out);
    out->append("cfi=0/0");
  } else if (!(tci & kVlanCfi)) {
    Sep(out);
    out->append("cfi=0");
  }
  out->push_back(')');
}

bool VlanMasked(const FlowMask& m, int level) {
  return m.bits.vlans[level].tpid != 0 || m.bits.vlans[level].tci != 0;
}

void FormatTcpFlags(std::string* out, uint16_t v_be, uint16_t m_be) {
  uint16_t m = ntohs(m_be) & 0xfff;
  uint16_t v = ntohs(v_be) & m;
  if (m == 0) return;
  Sep(out);
  out->append("tcp_flags(");
  if (m == 0xfff) {
    if (v == 0) out->push_back('0');
    bool first = true;
    for (int i = 0; i < 12; ++i) {
      if (!(v & (1u << i))) continue;
      if (!first) out->push_back('|');
      first = false;
      out->append(kTcpFlagNames[i]);
    }
  } else {
    for (int i = 0; i < 12; ++i) {
      if (!(m & (1u << i))) continue;
      out->push_back(v & (1u << i) ? '+' : '-');
      out->append(kTcpFlagNames[i]);
    }
  }
  out->push_back(')');
}

// eth_type and what follows it at the innermost level.
void FormatInner(std::string* out, const FlowKey& k, const FlowMask& mask) {
  const FlowKey& m = mask.bits;
  const uint8_t* mb = reinterpret_cast<const uint8_t*>(&m);
  FormatEthType(out, k.eth_type, m.eth_type);
  if (m.mpls_lse != 0 || (m.eth_type == 0xffff && IsMplsEthType(ntohs(k.eth_type)))) {
    // Nothing after an MPLS header is in the key.
    if (m.mpls_lse != 0) {
      Sep(out);
      out->append("mpls(");
      odp_text::FormatMplsFields(k.mpls_lse, m.mpls_lse, out);
      out->push_back(')');
    }
    FormatTcpFlags(out, k.tcp_flags, m.tcp_flags);
    return;
  }

  Attr l3 = Attr::kNone;
  if (m.eth_type == 0xffff) {
    switch (ntohs(k.eth_type)) {
      case kEthTypeIpv4:
        l3 = Attr::kIpv4;
        break;
      case kEthTypeIpv6:
        l3 = Attr::kIpv6;
        break;
      case kEthTypeArp:
      case kEthTypeRarp:
        l3 = Attr::kArp;
        break;
      default:
        break;
    }
  } else {
    // eth_type does not name the protocol: infer the attribute from what is masked, choosing
    // one whose fields cover everything that any accepted combination of attributes can set.
    bool v6_fields = AnyFieldMasked(std::span(kIpv6Fields).first(3), mb) ||
                     AnyFieldMasked(std::span(kNdFields).first(1), mb);
    bool v4_addrs = m.nw_src != 0 || m.nw_dst != 0;
    bool l2_addrs = AnyFieldMasked(std::span(kArpFields).subspan(3), mb);
    bool ports = m.tp_src != 0 || m.tp_dst != 0;
    bool icmpv6 = m.nw_proto == 0xff && k.nw_proto == kProtoIcmpv6;
    if (v6_fields || (icmpv6 && !v4_addrs)) {
      l3 = Attr::kIpv6;
    } else if (l2_addrs) {
      l3 = ports ? Attr::kIpv6 : Attr::kArp;  // with ports they are ND's, next to icmpv6()
    } else if (AnyFieldMasked(kIpv4Fields, mb) || ports) {
      l3 = Attr::kIpv4;  // also carries bare ports, which then print as tcp()
    }
  }

  Attr l4 = Attr::kNone;
  if (l3 == Attr::kIpv4) FormatFieldsAttr(out, "ipv4", kIpv4Fields, k, mask);
  if (l3 == Attr::kIpv6) FormatFieldsAttr(out, "ipv6", kIpv6Fields, k, mask);
  if (l3 == Attr::kArp) FormatFieldsAttr(out, "arp", kArpFields, k, mask);
  if (l3 == Attr::kIpv4 || l3 == Attr::kIpv6) {
    if (m.nw_proto == 0xff) {
      switch (k.nw_proto) {
        case kProtoTcp:
          l4 = Attr::kTcp;
          break;
        case kProtoUdp:
          l4 = Attr::kUdp;
          break;
        case kProtoSctp:
          l4 = Attr::kSctp;
          break;
        case kProtoIcmp:
          if (l3 == Attr::kIpv4) l4 = Attr::kIcmp;
          break;
        case kProtoIcmpv6:
          if (l3 == Attr::kIpv6) l4 = Attr::kIcmpv6;
          break;
        default:
          break;
      }
    } else if (m.tp_src != 0 || m.tp_dst != 0) {
      // Protocol not pinned: ports next to ND fields can only have come from icmpv6(); any
      // others show in their plainest form.
      bool nd = l3 == Attr::kIpv6 && AnyFieldMasked(kNdFields, mb);
      l4 = nd ? Attr::kIcmpv6 : Attr::kTcp;
    }
  }
  if (l4 == Attr::kIcmp || l4 == Attr::kIcmpv6) {
    FormatFieldsAttr(out, AttrName(l4), kIcmpFields, k, mask);
  } else if (l4 != Attr::kNone) {
    FormatFieldsAttr(out, AttrName(l4), kPortFields, k, mask);
  }
  if (l3 == Attr::kIpv6 && (l4 == Attr::kNone || l4 == Attr::kIcmpv6)) {
    FormatFieldsAttr(out, "nd", kNdFields, k, mask);
  }
  FormatTcpFlags(out, k.tcp_flags, m.tcp_flags);
}

void FormatLevel(std::string* out, const FlowKey& k, const FlowMask& m, int level) {
  bool deeper = level == 0 && VlanMasked(m, 1);
  if (level >= kMaxVlans || (!VlanMasked(m, level) && !deeper)) {
    FormatInner(out, k, m);
    return;
  }
  const VlanHdr& kv = k.vlans[level];
  const VlanHdr& mv = m.bits.vlans[level];
  FormatEthType(out, kv.tpid, mv.tpid);
  FormatVlan(out, kv, mv);
  std::string inner;
  FormatLevel(&inner, k, m, level + 1);
  if (!inner.empty()) {
    Sep(out);
    out->append("encap(");
    out->append(inner);
    out->push_back(')');
  }
}

}  // namespace

Result<void> ParseOdpFlow(std::string_view text, FlowKey* key, FlowMask* mask) {
  key->Clear();
  mask->Clear();
  FlowParser parser(key, mask);
  auto r = parser.Parse(text);
  if (!r) return r;
  ApplyMask(*key, *mask, key);
  return {};
}

std::string FormatOdpFlow(const FlowKey& key, const FlowMask& mask) {
  FlowKey k;
  ApplyMask(key, mask, &k);
  const FlowKey& m = mask.bits;
  std::string out;
  FormatFieldsAttr(&out, "tunnel", kTunnelFields, k, mask);
  FormatU32Attr(&out, "recirc_id", k.recirc_id, m.recirc_id, false);
  FormatU32Attr(&out, "dp_hash", k.dp_hash, m.dp_hash, false);
  FormatU32Attr(&out, "in_port", k.in_port, m.in_port, true);
  FormatU32Attr(&out, "skb_mark", k.pkt_mark, m.pkt_mark, false);
  FormatFieldsAttr(&out, "eth", kEthFields, k, mask);
  FormatLevel(&out, k, mask, 0);
  return out;
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
