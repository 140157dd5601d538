// What the flow parser (odp_text_flow_parse.cc) and the flow formatter
// (odp_text_flow_format.cc) share: the attributes of the OVS datapath flow syntax, the fields
// of each, and how a VLAN level that the text leaves out is read. Not part of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "datapath/flow/flow_key.h"
#include "datapath/flow/odp_text_internal.h"

namespace sluice::dp::odp_text {

#define SLUICE_KEY_OFF(f) static_cast<uint16_t>(offsetof(FlowKey, f))

inline constexpr FieldDesc kTunnelFields[] = {
    {"tun_id", FieldKind::kBe64, SLUICE_KEY_OFF(tun_id)},
    {"src", FieldKind::kIpv4, SLUICE_KEY_OFF(tun_src)},
    {"dst", FieldKind::kIpv4, SLUICE_KEY_OFF(tun_dst)},
};
inline constexpr FieldDesc kEthFields[] = {
    {"src", FieldKind::kMac, SLUICE_KEY_OFF(eth_src)},
    {"dst", FieldKind::kMac, SLUICE_KEY_OFF(eth_dst)},
};
inline constexpr FieldDesc kIpv4Fields[] = {
    {"src", FieldKind::kIpv4, SLUICE_KEY_OFF(nw_src)},
    {"dst", FieldKind::kIpv4, SLUICE_KEY_OFF(nw_dst)},
    {"proto", FieldKind::kU8, SLUICE_KEY_OFF(nw_proto)},
    {"tos", FieldKind::kU8Hex, SLUICE_KEY_OFF(nw_tos)},
    {"ttl", FieldKind::kU8, SLUICE_KEY_OFF(nw_ttl)},
    {"frag", FieldKind::kFrag, SLUICE_KEY_OFF(nw_frag)},
};
inline constexpr FieldDesc kIpv6Fields[] = {
    {"src", FieldKind::kIpv6, SLUICE_KEY_OFF(ipv6_src)},
    {"dst", FieldKind::kIpv6, SLUICE_KEY_OFF(ipv6_dst)},
    {"label", FieldKind::kLabel, SLUICE_KEY_OFF(ipv6_label)},
    {"proto", FieldKind::kU8, SLUICE_KEY_OFF(nw_proto)},
    {"tclass", FieldKind::kU8Hex, SLUICE_KEY_OFF(nw_tos)},
    {"hlimit", FieldKind::kU8, SLUICE_KEY_OFF(nw_ttl)},
    {"frag", FieldKind::kFrag, SLUICE_KEY_OFF(nw_frag)},
};
inline constexpr FieldDesc kPortFields[] = {
    {"src", FieldKind::kBe16, SLUICE_KEY_OFF(tp_src)},
    {"dst", FieldKind::kBe16, SLUICE_KEY_OFF(tp_dst)},
};
inline constexpr FieldDesc kIcmpFields[] = {
    {"type", FieldKind::kIcmp, SLUICE_KEY_OFF(tp_src)},
    {"code", FieldKind::kIcmp, SLUICE_KEY_OFF(tp_dst)},
};
inline constexpr FieldDesc kArpFields[] = {
    {"sip", FieldKind::kIpv4, SLUICE_KEY_OFF(nw_src)},
    {"tip", FieldKind::kIpv4, SLUICE_KEY_OFF(nw_dst)},
    {"op", FieldKind::kU8, SLUICE_KEY_OFF(nw_proto)},
    {"sha", FieldKind::kMac, SLUICE_KEY_OFF(arp_sha)},
    {"tha", FieldKind::kMac, SLUICE_KEY_OFF(arp_tha)},
};
inline constexpr FieldDesc kNdFields[] = {
    {"target", FieldKind::kIpv6, SLUICE_KEY_OFF(nd_target)},
    {"sll", FieldKind::kMac, SLUICE_KEY_OFF(arp_sha)},
    {"tll", FieldKind::kMac, SLUICE_KEY_OFF(arp_tha)},
};

#undef SLUICE_KEY_OFF

inline constexpr uint16_t kEthTypeIpv4 = 0x0800;
inline constexpr uint16_t kEthTypeIpv6 = 0x86dd;
inline constexpr uint16_t kEthTypeArp = 0x0806;
inline constexpr uint16_t kEthTypeRarp = 0x8035;
inline constexpr uint16_t kTpidVlan = 0x8100;
inline constexpr uint16_t kTpidQinQ = 0x88a8;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpv6 = 58;
inline constexpr uint8_t kProtoSctp = 132;
inline constexpr int kMaxVlans = 2;

inline constexpr std::string_view kTcpFlagNames[12] = {
    "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns", "[200]", "[400]", "[800]"};

enum class Attr : uint8_t {
  kRecircId,
  kDpHash,
  kSkbMark,
  kInPort,
  kPacketType,
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

inline constexpr std::pair<std::string_view, Attr> kAttrNames[] = {
    {"recirc_id", Attr::kRecircId},
    {"dp_hash", Attr::kDpHash},
    {"skb_mark", Attr::kSkbMark},
    {"in_port", Attr::kInPort},
    {"packet_type", Attr::kPacketType},
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

constexpr std::string_view AttrName(Attr a) {
  for (const auto& [name, attr] : kAttrNames) {
    if (attr == a) return name;
  }
  return "?";
}

// A VLAN level that the text does not name (no vlan() at the top, or none inside an encap())
// matches "no tag here", as in Open vSwitch: the TPID and the whole TCI match zero. This is the
// mask NORMAL's megaflows carry for untagged frames, so they print without vlan().
inline constexpr VlanHdr kNoTagMask = {0xffff, 0xffff};

inline bool IsNoTagLevel(const FlowKey& masked_key, const FlowKey& mask, int level) {
  return mask.vlans[level].tpid == kNoTagMask.tpid && mask.vlans[level].tci == kNoTagMask.tci &&
         masked_key.vlans[level].tpid == 0 && masked_key.vlans[level].tci == 0;
}

}  // namespace sluice::dp::odp_text
