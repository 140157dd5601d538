// ofproto/text: OFPMP_TABLE_FEATURES as ovs-ofctl prints it. The expected text is what Debian's
// ovs-ofctl 3.1 `ofp-print` prints for the same encoded reply (its body after the header line).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ofproto/codec/messages.h"
#include "ofproto/table/table_features.h"
#include "ofproto/text/ofp_text.h"

namespace sluice::ofp::text {
namespace {

using F = OxmField;
using P = TableFeaturePropType;

TableFeatureProp Ids(P type, std::vector<uint16_t> ids) {
  TableFeatureProp p;
  p.type = type;
  for (uint16_t i : ids) p.ids.push_back(FeatureId{i, {}});
  return p;
}
TableFeatureProp Oxms(P type, std::vector<std::pair<F, bool>> fields) {
  TableFeatureProp p;
  p.type = type;
  for (auto [f, m] : fields) p.oxms.push_back(OxmId::Of(f, m));
  return p;
}
TableFeatureProp Next(P type, std::vector<uint8_t> tables) {
  TableFeatureProp p;
  p.type = type;
  p.tables = std::move(tables);
  return p;
}

// Three tables: miss and non-miss instructions differ, write and apply actions differ; the
// second equals the first (but for its own next table), the third has a name.
std::vector<TableFeatures> Tables() {
  std::vector<TableFeatures> out;
  for (uint8_t t = 0; t < 4; ++t) {
    TableFeatures tf;
    tf.table_id = t;
    tf.max_entries = 100;
    if (t == 3) tf.name = "last";
    std::vector<uint8_t> next;
    for (uint8_t n = t + 1; n < 4; ++n) next.push_back(n);
    tf.properties = {
        Ids(P::kInstructions, {1, 4}),
        Ids(P::kInstructionsMiss, {4}),
        Next(P::kNextTables, next),
        Next(P::kNextTablesMiss, {}),
        Ids(P::kWriteActions, {0}),
        Oxms(P::kWriteSetfield, {}),
        Ids(P::kApplyActions, {0, 17, 18, 25}),
        Oxms(P::kApplySetfield, {{F::kVlanVid, false}, {F::kVlanPcp, false}}),
        Oxms(P::kMatch, {{F::kInPort, false},
                         {F::kEthDst, true},
                         {F::kEthSrc, true},
                         {F::kIpv4Src, false},
                         {F::kTcpSrc, false},
                         {F::kTcpDst, false}}),
        Oxms(P::kWildcards, {{F::kEthDst, false}, {F::kEthSrc, false}, {F::kTcpSrc, false}}),
    };
    out.push_back(std::move(tf));
  }
  return out;
}

// `ovs-ofctl ofp-print HEX` on the encoded reply (set PRINT_HEX=1 to see the hex).
TEST(TableFeaturesText, ReplyAsOvsOfctlPrintsIt) {
  Message msg{kOfp13, 2, MultipartReply{0, TableFeaturesReply{Tables()}}};
  auto b = EncodeMessage(msg);
  ASSERT_TRUE(b.has_value());
  if (std::getenv("PRINT_HEX")) {
    std::string hex;
    for (uint8_t c : *b) hex += fmt::format("{:02x}", c);
    std::puts(hex.c_str());
  }
  EXPECT_EQ(FormatMessage(msg), R"(OFPST_TABLE_FEATURES reply (OF1.3) (xid=0x2):
  table 0:
    max_entries=100
    instructions (other than table miss):
      next tables: 1-3
      instructions: apply_actions goto_table
      Write-Actions features:
        actions: output
      Apply-Actions features:
        actions: output set_field strip_vlan push_vlan
        supported on Set-Field: vlan_{vid,pcp}
    instructions (table miss):
      instructions: apply_actions
      Write-Actions features:
        actions: output
      Apply-Actions features:
        actions: output set_field strip_vlan push_vlan
        supported on Set-Field: vlan_{vid,pcp}
    matching:
      arbitrary mask: eth_{src,dst}
      exact match or wildcard: tcp_src
      must exact match: in_port_oxm ip_src tcp_dst

  tables 1...2: ditto

  table 3 ("last"): ditto
)");
}

// dump-table-features prints the same without the header (and its first newline).
TEST(TableFeaturesText, StartsEachTableWithANewline) {
  std::string s = FormatTableFeatures(Tables());
  EXPECT_TRUE(s.starts_with("\n  table 0:\n    max_entries=100\n")) << s;
  EXPECT_TRUE(s.ends_with("\n  tables 1...2: ditto\n\n  table 3 (\"last\"): ditto")) << s;
}

// Sluice's own 254 tables: table 0, tables 1...252 alike, table 253 without goto_table.
TEST(TableFeaturesText, SluiceTables) {
  std::string s = FormatTableFeatures(SupportedTableFeatures(254).entries);
  EXPECT_NE(s.find("\n  tables 1...252: ditto\n"), std::string::npos) << s;
  EXPECT_NE(s.find("      next tables: 1-253\n"), std::string::npos) << s;
  EXPECT_NE(s.find("        supported on Set-Field: tun_id eth_{src,dst} vlan_{vid,pcp} "
                   "mpls_{label,tc,bos} ip_{src,dst} ipv6_{src,dst,label} ip_dscp nw_ecn "
                   "arp_{op,spa,tpa,sha,tha} tcp_{src,dst} udp_{src,dst} sctp_{src,dst} "
                   "icmp_{type,code} icmpv6_{type,code} nd_{target,sll,tll}\n"),
            std::string::npos)
      << s;
  EXPECT_TRUE(s.ends_with("      (same actions)\n    (same matching)\n")) << s;
}

// NXM and experimenter fields by Open vSwitch's names (as a real Open vSwitch advertises them),
// numbered runs of three or more folded, pairs not; fields it has no name for left out.
TEST(TableFeaturesText, NxmAndExperimenterFields) {
  auto nxm = [](uint16_t cls, uint8_t field, uint32_t exp = 0) {
    return OxmId{(uint32_t{cls} << 16) | (uint32_t{field} << 9) | 4u, exp};
  };
  TableFeatures tf;
  tf.table_id = 0;
  TableFeatureProp match;
  match.type = P::kMatch;
  match.oxms = {nxm(0xffff, 0, 0x2320),                                                  // dp_hash
                nxm(0x0001, 0),         nxm(0x0001, 1), nxm(0x0001, 2), nxm(0x0001, 3),  // reg0..3
                nxm(0x8001, 0),         nxm(0x8001, 1),  // xreg0, xreg1
                nxm(0x8000, 1),                          // in_phy_port: no name
                nxm(0x8000, 4)};                         // eth_src
  tf.properties = {match};
  EXPECT_EQ(FormatTableFeatures({tf}),
            "\n  table 0:\n    matching:\n      must exact match: dp_hash reg0...reg3 xreg0 xreg1 "
            "eth_src\n");
}

}  // namespace
}  // namespace sluice::ofp::text
