// Masked rewrites of ARP, ICMP/ICMPv6 type and code, and IPv6 neighbour discovery.
#include <cstring>

#include "datapath/actions/rewrite.h"

namespace sluice::dp::rewrite {
namespace {

constexpr uint16_t kEthTypeIpv4 = 0x0800;
constexpr uint16_t kEthTypeIpv6 = 0x86dd;
constexpr uint16_t kEthTypeArp = 0x0806;
constexpr uint16_t kEthTypeRarp = 0x8035;
constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoIcmpv6 = 58;
constexpr uint8_t kNdSolicit = 135;
constexpr uint8_t kNdAdvert = 136;
constexpr uint8_t kNdOptSll = 1;
constexpr uint8_t kNdOptTll = 2;

bool AnySet(const uint8_t* p, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) {
    if (p[i]) return true;
  }
  return false;
}

}  // namespace

void SetArp(uint8_t* d, const PacketLayout& lay, const OdpKeyArp& v, const OdpKeyArp& k) noexcept {
  // ParsePacket reports l3_ofs for ARP only when it is a complete Ethernet/IPv4 ARP header.
  if ((lay.eth_type != Be16(kEthTypeArp) && lay.eth_type != Be16(kEthTypeRarp)) ||
      lay.l3_ofs == 0) {
    return;
  }
  uint8_t* arp = d + lay.l3_ofs;
  MaskedCopy(arp + 6, &v.op, &k.op, 2);
  MaskedCopy(arp + 8, v.sha.data(), k.sha.data(), 6);
  MaskedCopy(arp + 14, &v.sip, &k.sip, 4);
  MaskedCopy(arp + 18, v.tha.data(), k.tha.data(), 6);
  MaskedCopy(arp + 24, &v.tip, &k.tip, 4);
}

void SetIcmp(uint8_t* d, const PacketLayout& lay, bool ipv6, const OdpKeyIcmp& v,
             const OdpKeyIcmp& k) noexcept {
  if (lay.l4_ofs == 0) return;
  if (ipv6 ? (lay.eth_type != Be16(kEthTypeIpv6) || lay.nw_proto != kIpProtoIcmpv6)
           : (lay.eth_type != Be16(kEthTypeIpv4) || lay.nw_proto != kIpProtoIcmp)) {
    return;
  }
  uint8_t* l4 = d + lay.l4_ofs;
  uint8_t old[2] = {l4[0], l4[1]};
  MaskedCopy(l4, &v.type, &k.type, 1);
  MaskedCopy(l4 + 1, &v.code, &k.code, 1);
  // Type and code are the first checksummed word; neither is in the ICMPv6 pseudo-header.
  Store16(l4 + 2, CsumApply(Load16(l4 + 2), CsumDiff(0, old, l4, 2)));
}

void SetNd(uint8_t* d, const PacketLayout& lay, const OdpKeyNd& v, const OdpKeyNd& k) noexcept {
  if (lay.l4_ofs == 0 || lay.eth_type != Be16(kEthTypeIpv6) || lay.nw_proto != kIpProtoIcmpv6) {
    return;
  }
  uint8_t* l4 = d + lay.l4_ofs;
  uint32_t n = lay.l4_end - lay.l4_ofs;
  // type, code, checksum, 4 bytes of flags/reserved, the target, then 8-byte aligned options.
  if (n < 24 || l4[1] != 0 || (l4[0] != kNdSolicit && l4[0] != kNdAdvert)) return;
  uint32_t acc = 0;
  if (AnySet(k.target.data(), 16)) {
    uint8_t old[16];
    std::memcpy(old, l4 + 8, 16);
    MaskedCopy(l4 + 8, v.target.data(), k.target.data(), 16);
    acc = CsumDiff(acc, old, l4 + 8, 16);
  }
  // The parser's walk: stop at a malformed or repeated option, so that what is rewritten is
  // exactly what the flow key reported.
  bool seen_sll = false;
  bool seen_tll = false;
  bool any = AnySet(k.sll.data(), 6) || AnySet(k.tll.data(), 6);
  for (uint32_t o = 24; any && n - o >= 8;) {
    uint32_t opt_len = l4[o + 1] * 8u;
    if (opt_len == 0 || opt_len > n - o) break;
    if (opt_len == 8 && (l4[o] == kNdOptSll || l4[o] == kNdOptTll)) {
      bool is_sll = l4[o] == kNdOptSll;
      bool& seen = is_sll ? seen_sll : seen_tll;
      if (seen) break;
      seen = true;
      uint8_t old[6];
      std::memcpy(old, l4 + o + 2, 6);
      MaskedCopy(l4 + o + 2, (is_sll ? v.sll : v.tll).data(), (is_sll ? k.sll : k.tll).data(), 6);
      acc = CsumDiff(acc, old, l4 + o + 2, 6);  // at an even offset from the ICMPv6 header
    }
    o += opt_len;
  }
  Store16(l4 + 2, CsumApply(Load16(l4 + 2), acc));
}

}  // namespace sluice::dp::rewrite
