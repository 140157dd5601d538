#include "datapath/actions/odp_execute.h"

#include <array>
#include <bit>
#include <cstring>

#include "datapath/actions/rewrite.h"
#include "datapath/packet/parse.h"

namespace sluice::dp {
namespace {

using rewrite::Be16;
using rewrite::Be32;
using rewrite::CsumApply;
using rewrite::CsumDiff;
using rewrite::Load16;
using rewrite::MaskedCopy;
using rewrite::Store16;

constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kIpProtoSctp = 132;
constexpr uint8_t kIpProtoIcmpv6 = 58;

// Applies an address (pseudo-header) or port change to the L4 checksum, if the L4 header has one.
void UpdateL4Csum(uint8_t* d, const PacketLayout& lay, bool ipv4, uint32_t acc) noexcept {
  if (acc == 0 || lay.l4_ofs == 0) return;
  uint8_t* l4 = d + lay.l4_ofs;
  switch (lay.nw_proto) {
    case kIpProtoTcp:
      Store16(l4 + 16, CsumApply(Load16(l4 + 16), acc));
      break;
    case kIpProtoUdp: {
      uint16_t csum = Load16(l4 + 6);
      if (ipv4 && csum == 0) return;  // no checksum in use
      csum = CsumApply(csum, acc);
      Store16(l4 + 6, csum == 0 ? 0xffff : csum);  // 0 on the wire means "none"
      break;
    }
    case kIpProtoIcmpv6:
      if (!ipv4) Store16(l4 + 2, CsumApply(Load16(l4 + 2), acc));
      break;
    default:
      break;
  }
}

void SetIpv4(uint8_t* d, const PacketLayout& lay, const OdpKeyIpv4& v,
             const OdpKeyIpv4& k) noexcept {
  if (lay.eth_type != Be16(0x0800) || lay.l3_ofs == 0) return;
  uint8_t* ip = d + lay.l3_ofs;
  uint8_t old[20];
  std::memcpy(old, ip, sizeof(old));
  MaskedCopy(ip + 1, &v.tos, &k.tos, 1);
  MaskedCopy(ip + 8, &v.ttl, &k.ttl, 1);
  MaskedCopy(ip + 12, &v.src, &k.src, 4);
  MaskedCopy(ip + 16, &v.dst, &k.dst, 4);
  uint32_t addr_acc = CsumDiff(0, old + 12, ip + 12, 8);
  uint32_t hdr_acc = CsumDiff(addr_acc, old, ip, 2);  // version/IHL + tos
  hdr_acc = CsumDiff(hdr_acc, old + 8, ip + 8, 2);    // ttl + protocol
  Store16(ip + 10, CsumApply(Load16(ip + 10), hdr_acc));
  UpdateL4Csum(d, lay, true, addr_acc);
}

void SetIpv6(uint8_t* d, const PacketLayout& lay, const OdpKeyIpv6& v,
             const OdpKeyIpv6& k) noexcept {
  if (lay.eth_type != Be16(0x86dd) || lay.l3_ofs == 0) return;
  uint8_t* ip = d + lay.l3_ofs;
  uint8_t old[40];
  std::memcpy(old, ip, sizeof(old));
  // Version (4 bits), traffic class (8), flow label (20) share the first word.
  uint32_t vtc;
  std::memcpy(&vtc, ip, 4);
  vtc = Be32(vtc);
  uint32_t tc_mask = static_cast<uint32_t>(k.tclass) << 20;
  uint32_t tc_val = static_cast<uint32_t>(v.tclass) << 20;
  uint32_t fl_mask = Be32(k.label) & 0xfffff;
  uint32_t fl_val = Be32(v.label) & 0xfffff;
  vtc = (vtc & ~(tc_mask | fl_mask)) | (tc_val & tc_mask) | (fl_val & fl_mask);
  vtc = Be32(vtc);
  std::memcpy(ip, &vtc, 4);
  MaskedCopy(ip + 7, &v.hlimit, &k.hlimit, 1);
  MaskedCopy(ip + 8, v.src.data(), k.src.data(), 16);
  MaskedCopy(ip + 24, v.dst.data(), k.dst.data(), 16);
  // Neither tclass, label nor hop limit is in the pseudo-header; the destination is not either
  // when a routing header names the final one.
  uint32_t acc = CsumDiff(0, old + 8, ip + 8, 16);
  if (!lay.ipv6_routed) acc = CsumDiff(acc, old + 24, ip + 24, 16);
  UpdateL4Csum(d, lay, false, acc);
}

void SetPorts(uint8_t* d, const PacketLayout& lay, uint8_t proto, const OdpKeyPorts& v,
              const OdpKeyPorts& k) noexcept {
  if (lay.l4_ofs == 0 || lay.nw_proto != proto) return;
  uint8_t* l4 = d + lay.l4_ofs;
  uint8_t old[4];
  std::memcpy(old, l4, sizeof(old));
  MaskedCopy(l4, &v.src, &k.src, 2);
  MaskedCopy(l4 + 2, &v.dst, &k.dst, 2);
  if (proto != kIpProtoSctp) {
    UpdateL4Csum(d, lay, lay.eth_type == Be16(0x0800), CsumDiff(0, old, l4, 4));
    return;
  }
  if (std::memcmp(old, l4, sizeof(old)) == 0) return;
  // CRC32c is not incrementally updatable in a cheap way; recompute over the SCTP packet with
  // the checksum field taken as zero.
  static constexpr uint8_t kZero[4] = {0, 0, 0, 0};
  uint32_t crc = Crc32c(0xffffffffu, l4, 8);
  crc = Crc32c(crc, kZero, 4);
  crc = ~Crc32c(crc, l4 + 12, lay.l4_end - lay.l4_ofs - 12);
  l4[8] = static_cast<uint8_t>(crc);
  l4[9] = static_cast<uint8_t>(crc >> 8);
  l4[10] = static_cast<uint8_t>(crc >> 16);
  l4[11] = static_cast<uint8_t>(crc >> 24);
}

constexpr std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int b = 0; b < 8; ++b) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrc32cTable = MakeCrc32cTable();

}  // namespace

uint32_t Crc32c(uint32_t crc, const uint8_t* data, uint32_t len) noexcept {
  for (uint32_t i = 0; i < len; ++i) crc = kCrc32cTable[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

bool SetMaskedBytes(uint8_t* d, uint32_t len, const ActSetMasked& a) noexcept {
  auto header = static_cast<SetHeader>(a.header);
  if (header == SetHeader::kEthernet) {
    if (len < 14) return true;
    MaskedCopy(d, a.value.eth.dst.data(), a.mask.eth.dst.data(), 6);
    MaskedCopy(d + 6, a.value.eth.src.data(), a.mask.eth.src.data(), 6);
    return true;
  }
  if (header == SetHeader::kMpls) {  // mpls.cc: needs no parse
    SetMplsLseBytes(d, len, a.value.mpls.lse, a.mask.mpls.lse);
    return true;
  }
  FlowKey key;
  PacketLayout lay;
  ParsePacket(d, len, &key, &lay);
  switch (header) {
    case SetHeader::kIpv4:
      SetIpv4(d, lay, a.value.ipv4, a.mask.ipv4);
      return true;
    case SetHeader::kIpv6:
      SetIpv6(d, lay, a.value.ipv6, a.mask.ipv6);
      return true;
    case SetHeader::kTcp:
      SetPorts(d, lay, kIpProtoTcp, a.value.ports, a.mask.ports);
      return true;
    case SetHeader::kUdp:
      SetPorts(d, lay, kIpProtoUdp, a.value.ports, a.mask.ports);
      return true;
    case SetHeader::kSctp:
      SetPorts(d, lay, kIpProtoSctp, a.value.ports, a.mask.ports);
      return true;
    case SetHeader::kArp:
      rewrite::SetArp(d, lay, a.value.arp, a.mask.arp);
      return true;
    case SetHeader::kIcmp:
    case SetHeader::kIcmpv6:
      rewrite::SetIcmp(d, lay, header == SetHeader::kIcmpv6, a.value.icmp, a.mask.icmp);
      return true;
    case SetHeader::kNd:
      rewrite::SetNd(d, lay, a.value.nd, a.mask.nd);
      return true;
    default:
      return false;
  }
}

}  // namespace sluice::dp
