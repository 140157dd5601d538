// Formatting the flow half of the OVS datapath text syntax: FormatOdpFlow, in the attribute
// order and spelling of Open vSwitch 3.1's odp_flow_format() (lib/odp-util.c) for the flows of
// its userspace datapath.
#include <arpa/inet.h>

#include <span>

#include "datapath/flow/odp_text.h"
#include "datapath/flow/odp_text_flow.h"

namespace sluice::dp {
namespace {

using namespace odp_text;  // NOLINT: the syntax's vocabulary is this file's

// Appends ',' unless at the start of the text or of a parenthesised list.
void Sep(std::string* out) {
  if (!out->empty() && out->back() != '(') out->push_back(',');
}

class FlowFormatter {
 public:
  // `k` is the key with the mask applied.
  FlowFormatter(const FlowKey& k, const FlowMask& mask, OdpVerbosity v)
      : k_(k),
        m_(mask.bits),
        kb_(reinterpret_cast<const uint8_t*>(&k)),
        mb_(reinterpret_cast<const uint8_t*>(&mask.bits)),
        verbose_(v == OdpVerbosity::kVerbose) {}

  std::string Format() {
    if (AllZero()) return {};
    // Open vSwitch's key order: tunnel, skb_mark, recirc_id, dp_hash, in_port, packet_type,
    // eth, then the VLAN levels and what they carry.
    FieldsAttr("tunnel", kTunnelFields, false);
    U32Attr("skb_mark", k_.pkt_mark, m_.pkt_mark, false);
    U32Attr("recirc_id", k_.recirc_id, m_.recirc_id, false);
    U32Attr("dp_hash", k_.dp_hash, m_.dp_hash, false);
    U32Attr("in_port", k_.in_port, m_.in_port, true);
    // Every Sluice flow is an Ethernet flow; OVS names the packet type of such megaflows.
    Sep(&out_);
    out_.append("packet_type(ns=0,id=0)");
    FieldsAttr("eth", kEthFields, verbose_);
    Level(&out_, 0);
    return std::move(out_);
  }

 private:
  bool AllZero() const {
    const uint64_t* w = m_.words();
    for (size_t i = 0; i < FlowKey::kWords; ++i) {
      if (w[i] != 0) return false;
    }
    return true;
  }

  // recirc_id, dp_hash, skb_mark: "%#x"; in_port: decimal. A partial mask follows as "/%#x".
  // Omitted when wildcarded, unless verbose.
  void U32Attr(const char* name, uint32_t v, uint32_t m, bool decimal) {
    if (m == 0 && !verbose_) return;
    Sep(&out_);
    Appendf(&out_, "%s(", name);
    if (decimal) {
      Appendf(&out_, "%u", v);
    } else {
      AppendHex(&out_, v);
    }
    if (m != UINT32_MAX) Appendf(&out_, "/%#x", m);
    out_.push_back(')');
  }

  // An attribute made of fields: printed when a field is matched (or `always`), with the
  // matched fields (every field when verbose).
  void FieldsAttr(std::string_view name, std::span<const FieldDesc> fields, bool always,
                  std::string* out = nullptr) {
    if (!out) out = &out_;
    if (!always && !AnyFieldMasked(fields, mb_)) return;
    Sep(out);
    out->append(name);
    out->push_back('(');
    FormatFieldList(fields, kb_, mb_, out, verbose_);
    out->push_back(')');
  }

  void EthType(std::string* out, uint16_t v_be, uint16_t m_be) {
    uint16_t v = ntohs(v_be);
    uint16_t m = ntohs(m_be);
    if (m == 0 && !verbose_) return;
    Sep(out);
    Appendf(out, "eth_type(0x%04x", v);
    if (m != 0xffff) Appendf(out, "/0x%04x", m);
    out->push_back(')');
  }

  // Whether VLAN level `level` (and so the levels above it) must be written out. A level that
  // matches "no tag" as the parser reads a missing vlan() is left out; tersely, so is one that
  // does not care whether there is a tag, and any "no tag" match (OVS shows neither).
  bool LevelShown(int level) const {
    if (level >= kMaxVlans) return false;
    const VlanHdr& kv = k_.vlans[level];
    const VlanHdr& mv = m_.vlans[level];
    bool own;
    if (verbose_) {
      own = !IsNoTagLevel(k_, m_, level);
    } else {
      bool no_tag = (mv.tci & htons(kVlanCfi)) && !(kv.tci & htons(kVlanCfi));
      bool any = mv.tpid == 0 && mv.tci == 0;
      own = !no_tag && !any;
    }
    return own || LevelShown(level + 1);
  }

  void Vlan(std::string* out, const VlanHdr& kv, const VlanHdr& mv) {
    uint16_t tci = ntohs(kv.tci);
    uint16_t tm = ntohs(mv.tci);
    Sep(out);
    out->append("vlan(");
    if (uint16_t vm = tm & 0xfff; vm != 0 || verbose_) {
      Sep(out);
      Appendf(out, "vid=%u", tci & 0xfff);
      if (vm != 0xfff) Appendf(out, "/0x%x", vm);
    }
    if (uint16_t pm = tm >> 13; pm != 0 || verbose_) {
      Sep(out);
      Appendf(out, "pcp=%u", tci >> 13);
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

  // As OVS: eth_type(TPID),vlan(...),encap(...) for a tag, else the innermost headers.
  void Level(std::string* out, int level) {
    if (!LevelShown(level)) {
      Inner(out);
      return;
    }
    const VlanHdr& kv = k_.vlans[level];
    const VlanHdr& mv = m_.vlans[level];
    EthType(out, kv.tpid, mv.tpid);
    Vlan(out, kv, mv);
    std::string inner;
    Level(&inner, level + 1);
    Sep(out);
    out->append("encap(");
    out->append(inner);
    out->push_back(')');
  }

  // mpls(): OVS prints all four subfields, with every mask once any bit is wildcarded.
  void Mpls(std::string* out) {
    uint32_t lse = ntohl(k_.mpls_lse);
    uint32_t m = ntohl(m_.mpls_lse);
    if (m == 0 && !verbose_) return;
    Sep(out);
    auto sub = [](uint32_t x, uint32_t mask, int shift) { return (x & mask) >> shift; };
    uint32_t label = sub(lse, kMplsLabelMask, kMplsLabelShift);
    uint32_t tc = sub(lse, kMplsTcMask, kMplsTcShift);
    uint32_t bos = sub(lse, kMplsBosMask, kMplsBosShift);
    uint32_t ttl = lse & kMplsTtlMask;
    if (m == UINT32_MAX) {
      Appendf(out, "mpls(label=%u,tc=%u,ttl=%u,bos=%u)", label, tc, ttl, bos);
      return;
    }
    Appendf(out, "mpls(label=%u/0x%x,tc=%u/%x,ttl=%u/0x%x,bos=%u/%x)", label,
            sub(m, kMplsLabelMask, kMplsLabelShift), tc, sub(m, kMplsTcMask, kMplsTcShift), ttl,
            m & kMplsTtlMask, bos, sub(m, kMplsBosMask, kMplsBosShift));
  }

  // Printed only when matched, also verbosely (OVS's key has tcp_flags only for a TCP packet
  // that had flags).
  void TcpFlags(std::string* out) {
    uint16_t m = ntohs(m_.tcp_flags) & 0xfff;
    uint16_t v = ntohs(k_.tcp_flags) & m;
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

  // The L3 attribute: from an exact eth_type as OVS does; otherwise inferred from what is
  // matched, choosing one whose fields cover everything any accepted text can set.
  Attr L3() const {
    if (m_.eth_type == 0xffff) {
      switch (ntohs(k_.eth_type)) {
        case kEthTypeIpv4:
          return Attr::kIpv4;
        case kEthTypeIpv6:
          return Attr::kIpv6;
        case kEthTypeArp:
        case kEthTypeRarp:
          return Attr::kArp;
        default:
          return Attr::kNone;
      }
    }
    bool v6_fields = AnyFieldMasked(std::span(kIpv6Fields).first(3), mb_) ||
                     AnyFieldMasked(std::span(kNdFields).first(1), mb_);
    bool v4_addrs = m_.nw_src != 0 || m_.nw_dst != 0;
    bool l2_addrs = AnyFieldMasked(std::span(kArpFields).subspan(3), mb_);
    bool ports = m_.tp_src != 0 || m_.tp_dst != 0;
    bool icmpv6 = m_.nw_proto == 0xff && k_.nw_proto == kProtoIcmpv6;
    if (v6_fields || (icmpv6 && !v4_addrs)) return Attr::kIpv6;
    if (l2_addrs) return ports ? Attr::kIpv6 : Attr::kArp;  // with ports: ND's, by icmpv6()
    if (AnyFieldMasked(kIpv4Fields, mb_) || ports) return Attr::kIpv4;  // bare ports: as tcp()
    return Attr::kNone;
  }

  Attr L4(Attr l3) const {
    if (l3 != Attr::kIpv4 && l3 != Attr::kIpv6) return Attr::kNone;
    if (m_.nw_proto == 0xff) {
      switch (k_.nw_proto) {
        case kProtoTcp:
          return Attr::kTcp;
        case kProtoUdp:
          return Attr::kUdp;
        case kProtoSctp:
          return Attr::kSctp;
        case kProtoIcmp:
          return l3 == Attr::kIpv4 ? Attr::kIcmp : Attr::kNone;
        case kProtoIcmpv6:
          return l3 == Attr::kIpv6 ? Attr::kIcmpv6 : Attr::kNone;
        default:
          return Attr::kNone;
      }
    }
    if (m_.tp_src != 0 || m_.tp_dst != 0) {
      // Protocol not pinned: ports next to ND fields can only have come from icmpv6(); any
      // others show in their plainest form.
      bool nd = l3 == Attr::kIpv6 && AnyFieldMasked(kNdFields, mb_);
      return nd ? Attr::kIcmpv6 : Attr::kTcp;
    }
    return Attr::kNone;
  }

  // Verbose output shows nd() where OVS's key has it: an exact neighbour solicitation or
  // advertisement.
  bool NdKey(Attr l4) const {
    if (l4 != Attr::kIcmpv6 || m_.tp_src != htons(0xffff)) return false;
    uint16_t type = ntohs(k_.tp_src);
    return type == 135 || type == 136;
  }

  // eth_type and what follows it at the innermost level.
  void Inner(std::string* out) {
    EthType(out, k_.eth_type, m_.eth_type);
    if (m_.mpls_lse != 0 || (m_.eth_type == 0xffff && IsMplsEthType(ntohs(k_.eth_type)))) {
      Mpls(out);  // nothing after an MPLS header is in the key
      TcpFlags(out);
      return;
    }
    Attr l3 = L3();
    bool shown = m_.eth_type == 0xffff && verbose_;  // OVS's key has the attribute
    if (l3 == Attr::kIpv4) FieldsAttr("ipv4", kIpv4Fields, shown, out);
    if (l3 == Attr::kIpv6) FieldsAttr("ipv6", kIpv6Fields, shown, out);
    if (l3 == Attr::kArp) FieldsAttr("arp", kArpFields, shown, out);
    Attr l4 = L4(l3);
    shown = m_.nw_proto == 0xff && verbose_;
    if (l4 == Attr::kIcmp || l4 == Attr::kIcmpv6) {
      FieldsAttr(AttrName(l4), kIcmpFields, shown, out);
    } else if (l4 != Attr::kNone) {
      FieldsAttr(AttrName(l4), kPortFields, shown, out);
    }
    if (l3 == Attr::kIpv6 && (l4 == Attr::kNone || l4 == Attr::kIcmpv6)) {
      FieldsAttr("nd", kNdFields, verbose_ && NdKey(l4), out);
    }
    TcpFlags(out);
  }

  const FlowKey& k_;
  const FlowKey& m_;
  const uint8_t* kb_;
  const uint8_t* mb_;
  bool verbose_;
  std::string out_;
};

}  // namespace

std::string FormatOdpFlow(const FlowKey& key, const FlowMask& mask, OdpVerbosity verbosity) {
  FlowKey k;
  ApplyMask(key, mask, &k);
  return FlowFormatter(k, mask, verbosity).Format();
}

}  // namespace sluice::dp
