// The exact flow of a parsed packet (ofproto/trace's "Flow:" lines, the packet fuzzer's round
// trip): FormatOdpFlow(key, PacketKeyMask(key)) must parse back to the same flow, whatever the
// packet. The frames below are ones the packet_parse fuzzer found printing flows that did not
// parse (nd() for a truncated IPv6 header) or would (L4 fields of a later fragment).
#include <gtest/gtest.h>

#include "datapath/flow/odp_text.h"
#include "datapath/packet/parse.h"

namespace sluice::dp {
namespace {

std::vector<uint8_t> Hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::string RoundTrip(const std::vector<uint8_t>& frame) {
  FlowKey key;
  key.Clear();
  ParsePacket(frame.data(), static_cast<uint32_t>(frame.size()), &key);
  std::string text = FormatOdpFlow(key, PacketKeyMask(key));
  FlowKey k2;
  FlowMask m2;
  auto r = ParseOdpFlow(text, &k2, &m2);
  EXPECT_TRUE(r.has_value()) << text << "\n" << (r ? "" : r.error().message);
  if (r) {
    EXPECT_EQ(FormatOdpFlow(k2, m2), text);
  }
  return text;
}

TEST(PacketKeyMaskTest, TruncatedIpv6HasNoNd) {
  // Found by packet_parse_fuzz: an IPv6 header cut short printed nd(...) with proto=0.
  std::string t =
      RoundTrip(Hex("00000000000200000000000186dd60012345001011ff00000000000200fe800000"));
  EXPECT_EQ(t.find("nd("), std::string::npos) << t;
  EXPECT_NE(t.find("eth_type(0x86dd)"), std::string::npos) << t;
}

TEST(PacketKeyMaskTest, OnlyWhatThePacketHas) {
  // ARP: spa/tpa and sha/tha, no L4.
  std::string arp = RoundTrip(
      Hex("ffffffffffff000000000001080600010800060400010000000000010a0000010000000000000a000002"));
  EXPECT_NE(arp.find("arp(sip=10.0.0.1,tip=10.0.0.2,op=1"), std::string::npos) << arp;
  EXPECT_EQ(arp.find("tcp("), std::string::npos) << arp;
  // IPv4 later fragment of UDP: no udp() attribute.
  std::string frag =
      RoundTrip(Hex("00000000000200000000000108004500002400010010401100000a0000010a000002000100"
                    "02001000007878787878787878"));
  EXPECT_NE(frag.find("frag=later"), std::string::npos) << frag;
  EXPECT_EQ(frag.find("udp("), std::string::npos) << frag;
  // A plain TCP packet keeps its ports and flags.
  std::string tcp =
      RoundTrip(Hex("0000000000020000000000010800450000280001000040060000"
                    "0a0000010a000002"
                    "04d200500000000100000002501203e800000000"));
  EXPECT_NE(tcp.find("tcp(src=1234,dst=80)"), std::string::npos) << tcp;
  EXPECT_NE(tcp.find("tcp_flags("), std::string::npos) << tcp;
}

}  // namespace
}  // namespace sluice::dp
