#include "datapath/packet/parse.h"

#include <bit>
#include <cstddef>
#include <cstring>

#include "datapath/packet/byte_order.h"
#include "datapath/packet/parse_l2.h"

namespace sluice::dp {
namespace {

// Host-order reads; packet memory has no alignment guarantee.
inline uint16_t Read16(const uint8_t* p) noexcept {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t Read32(const uint8_t* p) noexcept {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

constexpr uint16_t kEthTypeIpv4 = 0x0800;
constexpr uint16_t kEthTypeArp = 0x0806;
constexpr uint16_t kEthTypeRarp = 0x8035;
constexpr uint16_t kEthTypeIpv6 = 0x86dd;

constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kIpProtoSctp = 132;
constexpr uint8_t kIpProtoIcmpv6 = 58;
constexpr uint8_t kIp6HopByHop = 0;
constexpr uint8_t kIp6Routing = 43;
constexpr uint8_t kIp6Fragment = 44;
constexpr uint8_t kIp6Ah = 51;
constexpr uint8_t kIp6DstOpts = 60;

constexpr uint8_t kNdSolicit = 135;
constexpr uint8_t kNdAdvert = 136;
constexpr uint8_t kNdOptSll = 1;
constexpr uint8_t kNdOptTll = 2;

// Returns whether it was a complete Ethernet/IPv4 ARP header (the only kind with fields).
bool ParseArp(const uint8_t* p, uint32_t n, FlowKey* key) noexcept {
  if (n < 28) return false;
  if (Read16(p) != 1 || Read16(p + 2) != kEthTypeIpv4 || p[4] != 6 || p[5] != 4) return false;
  uint16_t op = Read16(p + 6);
  key->nw_proto = op <= 0xff ? static_cast<uint8_t>(op) : 0;
  std::memcpy(key->arp_sha.data(), p + 8, 6);
  std::memcpy(&key->nw_src, p + 14, 4);
  std::memcpy(key->arp_tha.data(), p + 18, 6);
  std::memcpy(&key->nw_dst, p + 24, 4);
  return true;
}

void ParseNd(const uint8_t* p, uint32_t n, FlowKey* key) noexcept {
  // type, code, checksum, 4 bytes of flags/reserved, then the target address.
  if (n < 24) return;
  std::memcpy(key->nd_target.data(), p + 8, 16);
  bool have_sll = false;
  bool have_tll = false;
  uint32_t o = 24;
  while (n - o >= 8) {
    uint32_t opt_len = p[o + 1] * 8u;
    if (opt_len == 0 || opt_len > n - o) return;
    if (opt_len == 8 && p[o] == kNdOptSll) {
      if (have_sll) return;  // a repeated option is an error: keep what came before
      std::memcpy(key->arp_sha.data(), p + o + 2, 6);
      have_sll = true;
    } else if (opt_len == 8 && p[o] == kNdOptTll) {
      if (have_tll) return;
      std::memcpy(key->arp_tha.data(), p + o + 2, 6);
      have_tll = true;
    }
    o += opt_len;
  }
}

// Parses the L4 header in [ofs, end) for the already-set key->nw_proto.
void ParseL4(const uint8_t* d, uint32_t ofs, uint32_t end, bool ipv6, FlowKey* key,
             PacketLayout* lay) noexcept {
  const uint8_t* p = d + ofs;
  uint32_t n = end - ofs;
  switch (key->nw_proto) {
    case kIpProtoTcp:
      if (n < 20) return;
      key->tp_src = Load16(p);
      key->tp_dst = Load16(p + 2);
      key->tcp_flags = Be16(Read16(p + 12) & 0x0fff);
      break;
    case kIpProtoUdp:
      if (n < 8) return;
      key->tp_src = Load16(p);
      key->tp_dst = Load16(p + 2);
      break;
    case kIpProtoSctp:
      if (n < 12) return;
      key->tp_src = Load16(p);
      key->tp_dst = Load16(p + 2);
      break;
    case kIpProtoIcmp:
      if (ipv6 || n < 8) return;
      key->tp_src = Be16(p[0]);
      key->tp_dst = Be16(p[1]);
      break;
    case kIpProtoIcmpv6:
      if (!ipv6 || n < 8) return;
      key->tp_src = Be16(p[0]);
      key->tp_dst = Be16(p[1]);
      if (p[1] == 0 && (p[0] == kNdSolicit || p[0] == kNdAdvert)) ParseNd(p, n, key);
      break;
    default:
      return;
  }
  lay->l4_ofs = ofs;
}

void ParseIpv4(const uint8_t* d, uint32_t base, uint32_t len, FlowKey* key,
               PacketLayout* lay) noexcept {
  const uint8_t* ip = d + base;
  uint32_t n = len - base;
  if (n < 20) return;
  uint32_t ihl = (ip[0] & 0x0fu) * 4;
  if ((ip[0] >> 4) != 4 || ihl < 20 || ihl > n) return;
  uint32_t tot_len = Read16(ip + 2);
  if (tot_len > n || tot_len < ihl) return;

  key->nw_tos = ip[1];
  key->nw_ttl = ip[8];
  key->nw_proto = ip[9];
  std::memcpy(&key->nw_src, ip + 12, 4);
  std::memcpy(&key->nw_dst, ip + 16, 4);
  uint16_t frag_off = Read16(ip + 6);
  if (frag_off & 0x3fff) {  // MF or a fragment offset
    key->nw_frag = kFragAny;
    if (frag_off & 0x1fff) key->nw_frag |= kFragLater;
  }
  lay->l3_ofs = base;
  lay->l4_end = base + tot_len;
  lay->nw_proto = key->nw_proto;
  if (key->nw_frag & kFragLater) return;
  ParseL4(d, base + ihl, base + tot_len, false, key, lay);
}

void ParseIpv6(const uint8_t* d, uint32_t base, uint32_t len, FlowKey* key,
               PacketLayout* lay) noexcept {
  const uint8_t* ip = d + base;
  uint32_t n = len - base;
  if (n < 40 || (ip[0] >> 4) != 6) return;
  uint32_t end = base + 40 + Read16(ip + 4);
  if (end > len) return;

  uint32_t vtc = Read32(ip);
  key->nw_tos = static_cast<uint8_t>(vtc >> 20);
  key->ipv6_label = Be32(vtc & 0xfffff);
  key->nw_ttl = ip[7];
  std::memcpy(key->ipv6_src.data(), ip + 8, 16);
  std::memcpy(key->ipv6_dst.data(), ip + 24, 16);
  lay->l3_ofs = base;
  lay->l4_end = end;

  // Walk the extension headers. Every step advances by at least 8 bytes, so this terminates;
  // a header that does not fit leaves nw_proto 0 (unknown) and no L4.
  uint8_t nh = ip[6];
  uint32_t ofs = base + 40;
  for (;;) {
    if (nh == kIp6HopByHop || nh == kIp6Routing || nh == kIp6DstOpts) {
      if (end - ofs < 8) return;
      uint32_t hlen = (d[ofs + 1] + 1u) * 8;
      if (hlen > end - ofs) return;
      if (nh == kIp6Routing && d[ofs + 3] != 0) lay->ipv6_routed = true;
      nh = d[ofs];
      ofs += hlen;
    } else if (nh == kIp6Ah) {
      if (end - ofs < 8) return;
      uint32_t hlen = (d[ofs + 1] + 2u) * 4;
      if (hlen > end - ofs) return;
      nh = d[ofs];
      ofs += hlen;
    } else if (nh == kIp6Fragment) {
      if (end - ofs < 8) return;
      uint16_t offlg = Read16(d + ofs + 2);
      nh = d[ofs];
      ofs += 8;
      if (offlg != 0) {
        key->nw_frag = kFragAny;
        if (offlg & 0xfff8) {
          // Only the first fragment has the upper-layer header; as OVS, report the fragment.
          key->nw_frag |= kFragLater;
          key->nw_proto = kIp6Fragment;
          lay->nw_proto = kIp6Fragment;
          return;
        }
      }
    } else {
      break;
    }
  }
  key->nw_proto = nh;
  lay->nw_proto = nh;
  ParseL4(d, ofs, end, true, key, lay);
}

}  // namespace

void ParsePacket(const uint8_t* data, uint32_t len, FlowKey* key, PacketLayout* layout) noexcept {
  constexpr size_t kL2Start = offsetof(FlowKey, eth_dst);
  std::memset(reinterpret_cast<uint8_t*>(key) + kL2Start, 0, sizeof(FlowKey) - kL2Start);
  PacketLayout lay;
  uint32_t l3 = parse_detail::ParseL2(data, len, key);
  if (l3 != 0) {
    lay.eth_type = key->eth_type;
    switch (Be16(key->eth_type)) {
      case kEthTypeIpv4:
        ParseIpv4(data, l3, len, key, &lay);
        break;
      case kEthTypeIpv6:
        ParseIpv6(data, l3, len, key, &lay);
        break;
      case kEthTypeArp:
      case kEthTypeRarp:
        if (ParseArp(data + l3, len - l3, key)) lay.l3_ofs = l3;
        break;
      case kEthTypeMpls:
      case kEthTypeMplsMcast:
        // Only the outermost label stack entry; what it carries is not parsed (as OVS).
        if (len - l3 >= 4) {
          std::memcpy(&key->mpls_lse, data + l3, 4);
          lay.l3_ofs = l3;
        }
        break;
      default:
        break;
    }
  }
  if (layout != nullptr) *layout = lay;
}

void ParsePacket(const uint8_t* data, uint32_t len, FlowKey* key) noexcept {
  ParsePacket(data, len, key, nullptr);
}

}  // namespace sluice::dp
