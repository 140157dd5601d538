// ofproto/text: ovs-ofctl syntax <-> the OpenFlow 1.3 codec. The expected strings and wire
// bytes were produced by Debian's ovs-ofctl 3.1 (-O OpenFlow13) against a real Open vSwitch
// bridge: the canonical dump-flows --no-stats form of each flow, and the exact messages
// ovs-ofctl sent for add-flow / add-group / add-meter / del-flows.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "ofproto/codec/messages.h"
#include "ofproto/text/ofp_text.h"

namespace sluice::ofp::text {
namespace {

ParseOptions Opts() {
  ParseOptions o;
  o.resolve_port = [](std::string_view name) -> std::optional<uint32_t> {
    static const std::map<std::string, uint32_t, std::less<>> kPorts = {{"p1", 1}, {"p2", 2}};
    auto it = kPorts.find(name);
    if (it == kPorts.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

std::string Hex(const Bytes& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

Bytes EncodeOrDie(MessageBody body) {
  Result<Bytes> b = EncodeMessage(Message{kOfp13, 0, std::move(body)});
  EXPECT_TRUE(b.has_value());
  return b.value_or(Bytes{});
}

FlowStats StatsOf(const FlowMod& fm) {
  FlowStats fs;
  fs.table_id = fm.table_id;
  fs.priority = fm.priority;
  fs.idle_timeout = fm.idle_timeout;
  fs.hard_timeout = fm.hard_timeout;
  fs.flags = fm.flags;
  fs.cookie = fm.cookie;
  fs.match = fm.match;
  fs.instructions = fm.instructions;
  return fs;
}

struct FlowCase {
  const char* input;
  const char* ovs_no_stats;  // ovs-ofctl dump-flows --no-stats after ovs-ofctl add-flow
};

const FlowCase kFlows[] = {
    {R"(priority=100,ip,nw_dst=10.0.0.0/8,actions=output:2)",
     R"( priority=100,ip,nw_dst=10.0.0.0/8 actions=output:2)"},
    {R"(table=0,priority=200,cookie=0x12,tcp,tp_dst=80,idle_timeout=30,hard_timeout=60,send_flow_rem actions=mod_vlan_vid:10,p1)",
     R"( cookie=0x12, idle_timeout=30, hard_timeout=60, send_flow_rem priority=200,tcp,tp_dst=80 actions=push_vlan:0x8100,set_field:4106->vlan_vid,output:1)"},
    {R"(in_port=p1,dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,dl_vlan=5,actions=strip_vlan,output:2,CONTROLLER:100)",
     R"( in_port=1,dl_vlan=5,dl_src=00:11:22:00:00:00/ff:ff:ff:00:00:00 actions=pop_vlan,output:2,CONTROLLER:100)"},
    {R"(arp,arp_tpa=10.0.0.1,actions=NORMAL)", R"( arp,arp_tpa=10.0.0.1 actions=NORMAL)"},
    {R"(ipv6,ipv6_src=2001:db8::/32,actions=drop)", R"( ipv6,ipv6_src=2001:db8::/32 actions=drop)"},
    {R"(priority=5,metadata=0x5/0xff,actions=write_metadata:0x10/0xff,goto_table:3)",
     R"( priority=5,metadata=0x5/0xff actions=write_metadata:0x10/0xff,goto_table:3)"},
    {R"(priority=6,udp,actions=set_field:10.1.1.1->ip_dst,dec_ttl,mod_tp_dst:99,clear_actions,write_actions(output:1))",
     R"( priority=6,udp actions=set_field:10.1.1.1->ip_dst,dec_ttl,set_field:99->udp_dst,clear_actions,write_actions(output:1))"},
    {R"(table=3,actions=set_queue:3,push_mpls:0x8847,set_field:5->mpls_label,output:1)",
     R"( table=3, actions=set_queue:3,push_mpls:0x8847,set_field:5->mpls_label,output:1)"},
    {R"(table=1,priority=7,tcp6,tp_src=22,actions=set_field:fe80::1->ipv6_src,output:LOCAL)",
     R"( table=1, priority=7,tcp6,tp_src=22 actions=set_field:fe80::1->ipv6_src,LOCAL)"},
    {R"(table=1,icmp,icmp_type=8,icmp_code=0,nw_src=192.168.0.0/255.255.0.255,actions=mod_nw_tos:16,mod_nw_ttl:5,in_port)",
     R"( table=1, icmp,nw_src=192.168.0.0/255.255.0.255,icmp_type=8,icmp_code=0 actions=set_field:4->ip_dscp,mod_nw_ttl:5,IN_PORT)"},
    {R"(table=1,icmp6,icmp_type=135,nd_target=fe80::2,nd_sll=00:00:00:00:00:09,actions=drop)",
     R"( table=1, icmp6,icmp_type=135,nd_target=fe80::2,nd_sll=00:00:00:00:00:09 actions=drop)"},
    {R"(table=1,arp,arp_op=2,arp_sha=00:00:00:00:00:01,arp_spa=1.1.1.1,actions=FLOOD)",
     R"( table=1, arp,arp_spa=1.1.1.1,arp_op=2,arp_sha=00:00:00:00:00:01 actions=FLOOD)"},
    {R"(table=1,dl_vlan_pcp=3,actions=ALL)", R"( table=1, dl_vlan_pcp=3 actions=ALL)"},
    {R"(table=1,ip,vlan_tci=0x1000/0x1000,actions=mod_dl_src:00:00:00:00:00:01,mod_dl_dst:00:00:00:00:00:02,mod_nw_src:1.2.3.4,push_vlan:0x88a8)",
     R"( table=1, ip,vlan_tci=0x1000/0x1000 actions=set_field:00:00:00:00:00:01->eth_src,set_field:00:00:00:00:00:02->eth_dst,set_field:1.2.3.4->ip_src,push_vlan:0x88a8)"},
    {R"(table=1,vlan_tci=0,dl_type=0x1234,actions=group:1)",
     R"( table=1, vlan_tci=0x0000/0x1fff,dl_type=0x1234 actions=group:1)"},
    {R"(table=1,tun_id=0x10/0xff,ip,nw_tos=8,nw_ecn=2,actions=meter:1,output:1)",
     R"( table=1, ip,tun_id=0x10/0xff,nw_tos=8,nw_ecn=2 actions=meter:1,output:1)"},
    {R"(table=2,mpls,mpls_label=5,mpls_tc=2,mpls_bos=1,actions=pop_mpls:0x0800,controller(max_len=80))",
     R"( table=2, mpls,mpls_label=5,mpls_tc=2,mpls_bos=1 actions=pop_mpls:0x0800,CONTROLLER:80)"},
    {R"(table=2,sctp,sctp_dst=5,actions=set_field:0x12->tun_id,set_field:3->ip_dscp,set_field:1->ip_ecn)",
     R"( table=2, sctp,tp_dst=5 actions=set_field:0x12->tun_id,set_field:3->ip_dscp,set_field:1->nw_ecn)"},
    {R"(table=2,udp6,ipv6_label=0x12345,ipv6_dst=::1/64,actions=set_field:00:00:00:00:00:05->eth_dst)",
     R"( table=2, udp6,ipv6_dst=::/64,ipv6_label=0x12345 actions=set_field:00:00:00:00:00:05->eth_dst)"},
    {R"(table=2,ip,nw_proto=47,in_port=LOCAL,actions=CONTROLLER)",
     R"( table=2, ip,in_port=LOCAL,nw_proto=47 actions=CONTROLLER:65535)"},
    {R"(table=2,eth_src=01:00:00:00:00:00/01:00:00:00:00:00,eth_type=0x0800,ip_proto=6,actions=NORMAL)",
     R"( table=2, tcp,dl_src=01:00:00:00:00:00/01:00:00:00:00:00 actions=NORMAL)"},
    {R"(table=2,udp,udp_src=53,actions=mod_vlan_pcp:2)",
     R"( table=2, udp,tp_src=53 actions=push_vlan:0x8100,set_field:2->vlan_pcp)"},
    {R"(table=2,priority=0,actions=drop)", R"( table=2, priority=0 actions=drop)"},
    {R"(table=4,priority=9,ip,nw_src=10.1.0.0/16,nw_dst=10.2.3.4,nw_proto=17,actions=output:1,output:2,group:3)",
     R"( table=4, priority=9,udp,nw_src=10.1.0.0/16,nw_dst=10.2.3.4 actions=output:1,output:2,group:3)"},
    {R"(table=4,in_port=2,dl_dst=ff:ff:ff:ff:ff:ff,actions=mod_vlan_vid:100,output:1)",
     R"( table=4, in_port=2,dl_dst=ff:ff:ff:ff:ff:ff actions=push_vlan:0x8100,set_field:4196->vlan_vid,output:1)"},
    {R"(table=4,ipv6,ipv6_src=2001:db8::1/ffff:0:ffff::,actions=set_field:0x1234->ipv6_label)",
     R"( table=4, ipv6,ipv6_src=2001::/ffff:0:ffff:: actions=set_field:0x1234->ipv6_label)"},
    {R"(table=4,rarp,actions=NORMAL)", R"( table=4, rarp actions=NORMAL)"},
    {R"(table=4,dl_type=0x88cc,actions=CONTROLLER:65535)",
     R"( table=4, dl_type=0x88cc actions=CONTROLLER:65535)"},
};

// parse -> encode -> decode -> format gives exactly what ovs-ofctl prints for the same flow,
// and parsing that output again gives the same message (the text form is canonical).
TEST(OfctlTextRoundTrip, FlowsMatchOvsOfctl) {
  for (const FlowCase& c : kFlows) {
    SCOPED_TRACE(c.input);
    Result<FlowMod> fm = ParseFlowMod(c.input, FlowModCommand::kAdd, Opts());
    ASSERT_TRUE(fm.has_value()) << fm.error().message;
    Bytes wire = EncodeOrDie(*fm);
    OfpResult<Message> back = DecodeMessage(wire);
    ASSERT_TRUE(back.has_value()) << OfpErrName(back.error().err) << " " << back.error().detail;
    const FlowMod& decoded = std::get<FlowMod>(back->body);
    EXPECT_EQ(decoded, *fm);
    EXPECT_EQ(FormatFlowStats(StatsOf(decoded), false), c.ovs_no_stats);

    // The printed form (minus the ", " separators of the stats prefix) parses back to it.
    std::string again = c.ovs_no_stats;
    for (size_t p; (p = again.find(", ")) != std::string::npos;) again.replace(p, 2, ",");
    Result<FlowMod> fm2 = ParseFlowMod(again, FlowModCommand::kAdd, Opts());
    ASSERT_TRUE(fm2.has_value()) << again << ": " << fm2.error().message;
    EXPECT_EQ(fm2->match, fm->match);
    EXPECT_EQ(fm2->instructions, fm->instructions);
    EXPECT_EQ(FormatFlowForFile(StatsOf(*fm2)), FormatFlowForFile(StatsOf(*fm)));
  }
}

struct WireCase {
  const char* kind;
  const char* input;
  const char* ovs_hex;  // what ovs-ofctl sent, xid zeroed
  // OVS writes OXM fields in its own order (eth_type, ipv4_src, ip_proto); the codec writes
  // them in field-id order. Same message, other bytes.
  bool oxm_order_differs = false;
};

Bytes Unhex(std::string_view h) { return ParseHexBytes(h).value(); }

const WireCase kWire[] = {
    {"flow", R"(priority=100,ip,nw_dst=10.0.0.0/8,actions=output:2)",
     "040e006000000000000000000000000000000000000000000000000000000064ffffffffffffffffffffffff00000"
     "0000001001680000a020800800019080a000000ff0000000000000400180000000000000010000000020000000000"
     "000000"},
    {"flow",
     R"(cookie=0x12,tcp,tp_dst=80,idle_timeout=30,send_flow_rem,actions=mod_vlan_vid:10,output:1)",
     "040e007800000000000000000000001200000000000000000000001e00008000ffffffffffffffffffffffff00010"
     "0000001001580000a020800800014010680001c020050000000000400300000000000110008810000000019001080"
     "000c02100a00000000000000000010000000010000000000000000"},
    {"flow",
     R"(dl_vlan=5,dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,actions=strip_vlan,CONTROLLER:100)",
     "040e007000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000"
     "0000001001a8000090c001122000000ffffff00000080000c02100500000000000000040020000000000012000800"
     "00000000000010fffffffd0064000000000000"},
    {"flow", R"(table=1,metadata=0x5/0xff,actions=write_metadata:0x10/0xff,goto_table:3)",
     "040e006800000000000000000000000000000000000000000100000000008000ffffffffffffffffffffffff00000"
     "0000001001880000510000000000000000500000000000000ff000200180000000000000000000000100000000000"
     "0000ff0001000803000000"},
    {"flow", R"(arp,arp_tpa=10.0.0.1,arp_op=2,actions=NORMAL)",
     "040e006000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000"
     "0000001001880000a02080680002a02000280002e040a000001000400180000000000000010fffffffa0000000000"
     "000000"},
    {"flow",
     R"(ipv6,ipv6_src=2001:db8::/32,actions=set_field:fe80::1->ipv6_dst,clear_actions,write_actions(group:1))",
     "040e009800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000"
     "0000001002e80000a0286dd8000352020010db8000000000000000000000000ffffffff0000000000000000000000"
     "00000000040020000000000019001880003610fe80000000000000000000000000000100050008000000000003001"
     "0000000000016000800000001"},
    {"flow", R"(icmp6,icmp_type=135,nd_target=fe80::2,actions=mod_nw_ttl:3,dec_ttl,LOCAL)",
     "040e008000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000"
     "0000001002880000a0286dd800014013a80003a018780003e10fe8000000000000000000000000000020004002800"
     "0000000017000803000000001800080000000000000010fffffffe0000000000000000"},
    {"flow", R"(udp,vlan_tci=0x1000/0x1000,tp_src=53,actions=mod_vlan_pcp:2,set_queue:1,in_port)",
     "040e008000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000"
     "0000001001d80000a02080080000d0410001000800014011180001e02003500000000040030000000000019001080"
     "000e010200000000000000001500080000000100000010fffffff80000000000000000"},
    {"group",
     R"(group_id=7,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,watch_port:2,actions=set_field:00:00:00:00:00:01->eth_src,output:2)",
     "040f00600000000000000100000000070020000affffffffffffffff0000000000000010000000010000000000000"
     "0000030001400000002ffffffff000000000019001080000806000000000001000000000010000000020000000000"
     "000000"},
    {"group",
     R"(group_id=8,type=fast_failover,bucket=watch_port:1,actions=output:1,bucket=watch_group:7,actions=group:7)",
     "040f00480000000000000300000000080020000000000001ffffffff0000000000000010000000010000000000000"
     "00000180000ffffffff00000007000000000016000800000007"},
    {"meter", R"(meter=5,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100)",
     "041d0020000000000000000d0000000500010010000003e80000006400000000"},
    {"meter", R"(meter=6,pktps,bands=type=dscp_remark,rate=100,prec_level=1)",
     "041d002000000000000000020000000600020010000000640000000001000000"},
    {"del", R"(tcp,nw_src=1.2.3.4)",
     "040e00480000000000000000000000000000000000000000ff03000000008000ffffffffffffffffffffffff00000"
     "0000001001780000a0208008000160401020304800014010600",
     true},
    {"del_strict", R"(priority=5,tcp)",
     "040e00400000000000000000000000000000000000000000ff04000000000005ffffffffffffffffffffffff00000"
     "0000001000f80000a020800800014010600"},
};

// The bytes on the wire are the ones ovs-ofctl sends.
TEST(OfctlTextWire, SameBytesAsOvsOfctl) {
  for (const WireCase& c : kWire) {
    SCOPED_TRACE(c.input);
    std::string kind = c.kind;
    MessageBody body;
    if (kind == "flow" || kind == "del" || kind == "del_strict") {
      FlowModCommand cmd = kind == "flow"  ? FlowModCommand::kAdd
                           : kind == "del" ? FlowModCommand::kDelete
                                           : FlowModCommand::kDeleteStrict;
      Result<FlowMod> fm = ParseFlowMod(c.input, cmd, Opts());
      ASSERT_TRUE(fm.has_value()) << fm.error().message;
      body = *fm;
    } else if (kind == "group") {
      Result<GroupMod> gm = ParseGroupMod(c.input, GroupModCommand::kAdd, Opts());
      ASSERT_TRUE(gm.has_value()) << gm.error().message;
      body = *gm;
    } else {
      Result<MeterMod> mm = ParseMeterMod(c.input, MeterModCommand::kAdd, Opts());
      ASSERT_TRUE(mm.has_value()) << mm.error().message;
      body = *mm;
    }
    OfpResult<Message> theirs = DecodeMessage(Unhex(c.ovs_hex));
    ASSERT_TRUE(theirs.has_value());
    EXPECT_EQ(theirs->body, body);
    if (!c.oxm_order_differs) {
      EXPECT_EQ(Hex(EncodeOrDie(body)), c.ovs_hex);
    }
  }
}

struct ErrorCase {
  const char* input;
  const char* message;
};

TEST(OfctlTextErrors, ClearMessages) {
  const ErrorCase kCases[] = {
      {"foo=1,actions=drop", "unknown keyword foo"},
      {"in_port=nosuch,actions=drop", "nosuch: invalid or unknown port for in_port"},
      {"actions=output:bad", "bad: output to unknown port"},
      {"tcp,actions=frob", "unknown action frob"},
      {"priority=70000,actions=drop", "invalid priority \"70000\""},
      {"dl_src=00:11,actions=drop", "00:11: invalid Ethernet address"},
      {"nw_dst=1.2.3.4/33,actions=drop",
       "1.2.3.4/33: IPv4 network prefix bits not between 0 and 32, inclusive"},
      {"actions=mod_vlan_vid:5000", "5000: not a valid VLAN VID"},
      {"in_port=1", "must specify an action"},
      {"cookie=0x5/0xff,actions=drop", "flow additions cannot use a cookie mask"},
      {"tp_dst=80,actions=drop", "tp_dst requires tcp, udp or sctp (e.g. tcp,tp_dst=80)"},
      {"nw_src=1.2.3.4,actions=drop", "nw_src requires ip or arp (e.g. ip,nw_src=10.0.0.0/8)"},
      {"ipv6_src=::1,actions=drop", "ipv6_src requires ipv6 in the match (prerequisite not met)"},
      {"tcp,actions=drop,output:1",
       "\"drop\" must not be accompanied by any other action or instruction"},
      {"tcp,actions=goto_table:1,output:1",
       "invalid instruction ordering: apply_actions must appear before goto_table, for "
       "OpenFlow 1.1+ compatibility"},
      {"tcp,actions=output:1,meter:1",
       "invalid instruction ordering: meter must appear before apply_actions, for OpenFlow "
       "1.1+ compatibility"},
      {"ip,actions=mod_tp_dst:5",
       "mod_tp_dst requires a tcp, udp or sctp match (e.g. tcp,actions=mod_tp_dst:5)"},
      {"tcp,tp_src=0x10/0xfff0,actions=drop",
       "tp_src: OpenFlow 1.3 cannot match this field with a mask"},
      {"tcp,tcp_flags=+syn,actions=drop", "tcp_flags: field cannot be matched in OpenFlow 1.3"},
      {"importance=5,actions=drop",
       "importance requires OpenFlow 1.4 or later (this connection speaks OpenFlow 1.3)"},
      {"actions=set_field:5->tcp_dst/0xff", "tcp_dst/0xff is not a valid OXM field name"},
      {"actions=set_field:5/1->tcp_dst", "5/1->tcp_dst: OpenFlow 1.3 set_field cannot take a mask"},
      {"actions=load:1->NXM_OF_IN_PORT[]", "load is not supported; use set_field:VALUE->FIELD"},
      {"actions=write_actions(output:1", "write_actions: unbalanced parentheses"},
      {"table=all,actions=drop", "table=all is only allowed for del-flows"},
      // Found by ofctl_flow_fuzz: a flow-mod the switch's decoder refuses (goto must go forward).
      {"table=2,tcp,actions=goto_table:2",
       "actions are invalid with specified match (OFPBIC_BAD_TABLE_ID)"},
      {"table=3,actions=goto_table:1",
       "actions are invalid with specified match (OFPBIC_BAD_TABLE_ID)"},
      // Found by the ofctl_flow_fuzz campaign: 1.0's 0xffea is no port (as ovs-ofctl says).
      {"actions=65514", "actions are invalid with specified match (OFPBAC_BAD_OUT_PORT)"},
      {"actions=output:65280", "actions are invalid with specified match (OFPBAC_BAD_OUT_PORT)"},
      {"actions=output:ANY", "actions are invalid with specified match (OFPBAC_BAD_OUT_PORT)"},
      {"ip,actions=set_field:6->ip_proto", "ip_proto is read-only"},
      {"actions=set_field:1->metadata",
       "metadata cannot be written by set_field in OpenFlow 1.3 (use write_metadata)"},
      {"actions=set_field:5->vlan_vid",
       "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): set_field to "
       "vlan_vid needs a VLAN tag (match one or push_vlan first)"},
      {"tcp,actions=set_field:1->udp_dst",
       "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): set_field to "
       "udp_dst needs its prerequisites in the match"},
      {"actions=set_field:1->mpls_tc",
       "actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT): set_field to "
       "mpls_tc needs an MPLS packet (match mpls or push_mpls first)"},
  };
  for (const ErrorCase& c : kCases) {
    Result<FlowMod> fm = ParseFlowMod(c.input, FlowModCommand::kAdd, Opts());
    ASSERT_FALSE(fm.has_value()) << c.input;
    EXPECT_EQ(fm.error().message, c.message) << c.input;
  }
  ParseOptions o13 = Opts();
  o13.version = kOfp10;
  Result<FlowMod> v10 = ParseFlowMod("actions=drop", FlowModCommand::kAdd, o13);
  ASSERT_FALSE(v10.has_value());
  EXPECT_EQ(v10.error().code, Errc::kUnsupported);
}

TEST(OfctlTextFlows, ModifyDeleteAndFilters) {
  Result<FlowMod> del = ParseFlowMod("", FlowModCommand::kDelete, Opts());
  ASSERT_TRUE(del.has_value());
  EXPECT_EQ(del->table_id, kTableAll);
  EXPECT_TRUE(del->match.empty());
  Result<FlowMod> del2 =
      ParseFlowMod("table=3,cookie=0x10/0xf0,out_port=p2,ip", FlowModCommand::kDelete, Opts());
  ASSERT_TRUE(del2.has_value()) << del2.error().message;
  EXPECT_EQ(del2->table_id, 3);
  EXPECT_EQ(del2->cookie, 0x10u);
  EXPECT_EQ(del2->cookie_mask, 0xf0u);
  EXPECT_EQ(del2->out_port, 2u);
  EXPECT_FALSE(ParseFlowMod("ip,actions=drop", FlowModCommand::kDelete, Opts()).has_value());
  Result<FlowMod> mod =
      ParseFlowMod("in_port=1,actions=output:2", FlowModCommand::kModifyStrict, Opts());
  ASSERT_TRUE(mod.has_value());
  EXPECT_EQ(mod->command, FlowModCommand::kModifyStrict);
  EXPECT_EQ(mod->table_id, 0);

  Result<FlowStatsFilter> f = ParseFlowFilter("table=2,tcp,tp_dst=22,cookie=1/-1", Opts());
  EXPECT_FALSE(f.has_value());  // -1 is not a number
  f = ParseFlowFilter("table=2,tcp,tp_dst=22,cookie=1/0xffffffffffffffff,out_group=4", Opts());
  ASSERT_TRUE(f.has_value()) << f.error().message;
  EXPECT_EQ(f->table_id, 2);
  EXPECT_EQ(f->out_group, 4u);
  EXPECT_EQ(FormatMatch(f->match), "tcp,tp_dst=22");
  Result<FlowStatsFilter> all = ParseFlowFilter("", Opts());
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->table_id, kTableAll);
  EXPECT_FALSE(ParseFlowFilter("ip,actions=drop", Opts()).has_value());
  EXPECT_FALSE(ParseFlowFilter("priority=5", Opts()).has_value());
}

TEST(OfctlTextActions, SetFieldAfterPush) {
  for (const char* ok : {"actions=push_vlan:0x8100,set_field:5->vlan_vid",
                         "dl_vlan=3,actions=set_field:4101->vlan_vid",
                         "actions=push_mpls:0x8847,set_field:5->mpls_label", "actions=controller:0",
                         "actions=set_field:1->tun_id"}) {
    EXPECT_TRUE(ParseFlowMod(ok, FlowModCommand::kAdd, Opts()).has_value()) << ok;
  }
  Result<FlowMod> c0 = ParseFlowMod("actions=controller:0", FlowModCommand::kAdd, Opts());
  EXPECT_EQ(FormatInstructions(c0->instructions), "CONTROLLER:0");
}

TEST(OfctlTextPorts, NamesNumbersReserved) {
  EXPECT_EQ(ParsePort("LOCAL", Opts()).value(), kPortLocal);
  EXPECT_EQ(ParsePort("in_port", Opts()).value(), kPortInPort);
  EXPECT_EQ(ParsePort("65534", Opts()).value(), kPortLocal);  // OpenFlow 1.0 numbering
  EXPECT_EQ(ParsePort("0xfffffffd", Opts()).value(), kPortController);
  EXPECT_EQ(ParsePort("p2", Opts()).value(), 2u);
  EXPECT_FALSE(ParsePort("p9", Opts()).has_value());
  EXPECT_EQ(FormatPort(kPortNormal), "NORMAL");
  EXPECT_EQ(FormatPort(7), "7");
}

TEST(OfctlTextActions, PacketOutAndBucketsRejectInstructions) {
  Result<ActionList> a = ParseActions("output:1,mod_vlan_vid:3,p2", Opts());
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(FormatActions(*a), "output:1,push_vlan:0x8100,set_field:4099->vlan_vid,output:2");
  Result<ActionList> bad = ParseActions("goto_table:1", Opts());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "instruction goto_table not allowed here (only actions)");
  Result<ActionList> drop = ParseActions("drop", Opts());
  ASSERT_TRUE(drop.has_value());
  EXPECT_TRUE(drop->empty());
  EXPECT_EQ(FormatActions({}), "drop");
}

TEST(OfctlTextGroupsMeters, ParseFormatAndDelete) {
  Result<GroupMod> gm = ParseGroupMod(
      "group_id=3,type=fast_failover,bucket=watch_port:1,output:1,bucket=watch_group:1,group:1",
      GroupModCommand::kAdd, Opts());
  ASSERT_TRUE(gm.has_value()) << gm.error().message;
  GroupDesc gd{static_cast<uint8_t>(gm->type), gm->group_id, gm->buckets};
  EXPECT_EQ(FormatGroupDesc(gd),
            " group_id=3,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_group:1,"
            "actions=group:1");
  Result<GroupMod> empty = ParseGroupMod("group_id=5,type=all", GroupModCommand::kAdd, Opts());
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->buckets.empty());
  Result<GroupMod> del = ParseGroupMod("", GroupModCommand::kDelete, Opts());
  ASSERT_TRUE(del.has_value());
  EXPECT_EQ(del->group_id, kGroupAll);
  EXPECT_EQ(ParseGroupMod("type=all", GroupModCommand::kAdd, Opts()).error().message,
            "must specify a group_id");
  EXPECT_EQ(ParseGroupMod("group_id=1,type=bogus", GroupModCommand::kAdd, Opts()).error().message,
            "unknown group type \"bogus\"");
  EXPECT_EQ(ParseGroupId("group_id=7").value(), 7u);
  EXPECT_EQ(ParseGroupId("all").value(), kGroupAll);

  Result<MeterMod> mm =
      ParseMeterMod("meter=2,pktps,bands=type=dscp_remark,rate=100,prec_level=1,type=drop,rate=200",
                    MeterModCommand::kModify, Opts());
  ASSERT_TRUE(mm.has_value()) << mm.error().message;
  EXPECT_EQ(mm->bands.size(), 2u);
  Message m{kOfp13, 2, *mm};
  EXPECT_EQ(FormatMessage(m),
            "OFPT_METER_MOD (OF1.3) (xid=0x2): MOD meter=2 pktps bands=\n"
            "type=dscp_remark rate=100 prec_level=1\n"
            "type=drop rate=200\n");
  Result<MeterMod> mdel = ParseMeterMod("meter=all", MeterModCommand::kDelete, Opts());
  ASSERT_TRUE(mdel.has_value());
  EXPECT_EQ(mdel->meter_id, kMeterAll);
  EXPECT_EQ(
      ParseMeterMod("meter=1,kbps,bands=rate=5", MeterModCommand::kAdd, Opts()).error().message,
      "meter band must start with type=");
  EXPECT_EQ(ParseMeterId("meter=9").value(), 9u);
}

// Reply printing, compared with ovs-ofctl's output for the same replies from Open vSwitch.
TEST(OfctlTextPrint, RepliesAsOvsOfctl) {
  MultipartReply ports{
      0, PortStatsReply{{PortStats{1, 3, 4, 100, 200, 0, 0, 0, 0, 0, 0, 0, 0, 6, 936000000}}}};
  ports.body = PortStatsReply{{[] {
    PortStats p;
    p.port_no = 1;
    p.rx_packets = 1;
    p.rx_bytes = 60;
    p.tx_dropped = ~uint64_t{0};
    p.duration_sec = 6;
    p.duration_nsec = 936000000;
    return p;
  }()}};
  EXPECT_EQ(FormatMessage(Message{kOfp13, 2, ports}),
            "OFPST_PORT reply (OF1.3) (xid=0x2): 1 ports\n"
            "  port  1: rx pkts=1, bytes=60, drop=0, errs=0, frame=0, over=0, crc=0\n"
            "           tx pkts=0, bytes=0, drop=?, errs=0, coll=0\n"
            "           duration=6.936s\n");

  TableStatsReply ts;
  for (uint8_t t = 0; t < 6; ++t) ts.entries.push_back(TableStats{t, t == 0 ? 7u : 0u, 0, 0});
  ts.entries[3].active_count = 1;
  EXPECT_EQ(FormatMessage(Message{kOfp13, 2, MultipartReply{0, ts}}),
            "OFPST_TABLE reply (OF1.3) (xid=0x2):\n"
            "  table 0:\n    active=7, lookup=0, matched=0\n\n"
            "  table 1:\n    active=0, lookup=0, matched=0\n\n"
            "  table 2: ditto\n\n"
            "  table 3:\n    active=1, lookup=0, matched=0\n\n"
            "  table 4:\n    active=0, lookup=0, matched=0\n\n"
            "  table 5: ditto\n");

  MeterConfigReply mc{{MeterConfig{kMeterKbps | kMeterBurst | kMeterStats,
                                   1,
                                   {MeterBand{MeterBandType::kDrop, 1000, 100, 0, 0}}},
                       MeterConfig{kMeterKbps, 3, {MeterBand{MeterBandType::kDrop, 5, 0, 0, 0}}}}};
  EXPECT_EQ(FormatMessage(Message{kOfp13, 2, MultipartReply{0, mc}}),
            "OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):\n"
            "meter=1 kbps burst stats bands=\n"
            "type=drop rate=1000 burst_size=100\n\n"
            "meter=3 kbps bands=\n"
            "type=drop rate=5\n");

  MeterStatsReply ms{{MeterStats{1, 0, 0, 0, 0, 236000000, {BucketCounter{0, 0}}}}};
  EXPECT_EQ(FormatMessage(Message{kOfp13, 2, MultipartReply{0, ms}}),
            "OFPST_METER reply (OF1.3) (xid=0x2):\n"
            "meter:1 flow_count:0 packet_in_count:0 byte_in_count:0 duration:0.236s bands:\n"
            "0: packet_count:0 byte_count:0\n");

  GroupStatsReply gs{{GroupStats{1, 0, 0, 0, 0, 505000000, {BucketCounter{}, BucketCounter{}}}}};
  EXPECT_EQ(FormatMessage(Message{kOfp13, 6, MultipartReply{0, gs}}),
            "OFPST_GROUP reply (OF1.3) (xid=0x6):\n"
            " group_id=1,duration=0.505s,ref_count=0,packet_count=0,byte_count=0,"
            "bucket0:packet_count=0,byte_count=0,bucket1:packet_count=0,byte_count=0\n");

  EXPECT_EQ(FormatMessage(Message{kOfp13, 2, MultipartReply{0, AggregateReply{0, 0, 8}}}),
            "OFPST_AGGREGATE reply (OF1.3) (xid=0x2): packet_count=0 byte_count=0 flow_count=8\n");

  FeaturesReply fr;
  fr.datapath_id = 0x7699aa92d649;
  fr.n_tables = 254;
  fr.capabilities = 0x4f;
  EXPECT_EQ(FormatMessage(Message{kOfp13, 2, fr}),
            "OFPT_FEATURES_REPLY (OF1.3) (xid=0x2): dpid:00007699aa92d649\n"
            "n_tables:254, n_buffers:0\n"
            "capabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS\n");

  PortDesc local;
  local.port_no = kPortLocal;
  local.name = "brx";
  local.hw_addr = {0x76, 0x99, 0xaa, 0x92, 0xd6, 0x49};
  local.config = 1;
  local.state = 1;
  local.curr = (1 << 6) | (1 << 11);
  local.curr_speed = 10000000;
  PortDesc p1;
  p1.port_no = 1;
  p1.name = "p1";
  p1.hw_addr = {0xaa, 0x55, 0xaa, 0x55, 0x00, 0x01};
  p1.state = 4;
  EXPECT_EQ(FormatMessage(Message{kOfp13, 3, MultipartReply{0, PortDescReply{{local, p1}}}}),
            "OFPST_PORT_DESC reply (OF1.3) (xid=0x3):\n"
            " 1(p1): addr:aa:55:aa:55:00:01\n"
            "     config:     0\n"
            "     state:      LIVE\n"
            "     speed: 0 Mbps now, 0 Mbps max\n"
            " LOCAL(brx): addr:76:99:aa:92:d6:49\n"
            "     config:     PORT_DOWN\n"
            "     state:      LINK_DOWN\n"
            "     current:    10GB-FD COPPER\n"
            "     speed: 10000 Mbps now, 0 Mbps max\n");
  GetConfigReply gc;
  gc.miss_send_len = 0;
  EXPECT_EQ(FormatMessage(Message{kOfp13, 5, gc}),
            "OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x5): frags=normal miss_send_len=0\n");
}

// OFPT_ERROR: the error name, then the offending message decoded, or (cut to 64 bytes) its
// type, the truncation note and a hex dump, exactly as ovs-ofctl prints it.
TEST(OfctlTextPrint, Errors) {
  Result<FlowMod> fm = ParseFlowMod("table=1,vlan_tci=0,dl_type=0x1234,actions=group:1",
                                    FlowModCommand::kAdd, Opts());
  ASSERT_TRUE(fm.has_value());
  Bytes wire = EncodeMessage(Message{kOfp13, 6, *fm}).value();
  ASSERT_EQ(wire.size(), 80u);
  Message err = MakeErrorReply(OfpError{OfpErr::kBadActionBadOutGroup, ""}, wire);
  EXPECT_EQ(FormatMessage(err),
            "OFPT_ERROR (OF1.3) (xid=0x6): OFPBAC_BAD_OUT_GROUP\n"
            "OFPT_FLOW_MOD (OF1.3) (xid=0x6):\n"
            "(***truncated to 64 bytes from 80***)\n"
            "00000000  04 0e 00 50 00 00 00 06-00 00 00 00 00 00 00 00 |...P............|\n"
            "00000010  00 00 00 00 00 00 00 00-01 00 00 00 00 00 80 00 |................|\n"
            "00000020  ff ff ff ff ff ff ff ff-ff ff ff ff 00 00 00 00 |................|\n"
            "00000030  00 01 00 10 80 00 0a 02-12 34 80 00 0c 02 00 00 |.........4......|\n");
  Result<FlowMod> small = ParseFlowMod("table=3,actions=drop", FlowModCommand::kAdd, Opts());
  Bytes w2 = EncodeMessage(Message{kOfp13, 2, *small}).value();
  ASSERT_LE(w2.size(), 64u);
  EXPECT_EQ(FormatMessage(MakeErrorReply(OfpError{OfpErr::kFlowModTableFull, ""}, w2)),
            "OFPT_ERROR (OF1.3) (xid=0x2): OFPFMFC_TABLE_FULL\n"
            "OFPT_FLOW_MOD (OF1.3) (xid=0x2): ADD table:3 actions=drop\n");
  EXPECT_EQ(HexDump(Bytes{0x41, 0x00}),
            "00000000  41 00                                           |A.              |\n");
}

TEST(OfctlTextPrint, AsyncMessages) {
  FlowRemoved fr;
  fr.priority = 100;
  fr.reason = FlowRemovedReason::kDelete;
  fr.cookie = 0x12;
  fr.duration_sec = 1;
  fr.duration_nsec = 500000000;
  fr.idle_timeout = 30;
  fr.match = ParseMatch("tcp,tp_dst=80", Opts()).value();
  EXPECT_EQ(FormatMessage(Message{kOfp13, 0, fr}),
            "OFPT_FLOW_REMOVED (OF1.3) (xid=0x0): priority=100,tcp,tp_dst=80 reason=delete "
            "table_id=0 cookie:0x12 duration1.500s idle30 pkts0 bytes0\n");
  PortStatus ps;
  ps.reason = PortReason::kModify;
  ps.desc.port_no = 2;
  ps.desc.name = "p2";
  ps.desc.config = 1;
  EXPECT_EQ(FormatMessage(Message{kOfp13, 0, ps}),
            "OFPT_PORT_STATUS (OF1.3) (xid=0x0): MOD: 2(p2): addr:00:00:00:00:00:00\n"
            "     config:     PORT_DOWN\n"
            "     state:      0\n"
            "     speed: 0 Mbps now, 0 Mbps max\n");
  PacketIn pi;
  pi.reason = PacketInReason::kAction;
  pi.cookie = 0;
  pi.match.Set(OxmEntry::Exact(OxmField::kInPort, 1));
  pi.data = ParseHexBytes(
                "ffffffffffff000000000001 0806 0001 0800 0604 0001"
                " 000000000001 0a000001 000000000000 0a000002")
                .value();
  pi.total_len = static_cast<uint16_t>(pi.data.size());
  EXPECT_EQ(FormatMessage(Message{kOfp13, 0, pi}),
            "OFPT_PACKET_IN (OF1.3) (xid=0x0): cookie=0x0 total_len=42 in_port=1 (via action) "
            "data_len=42 (unbuffered)\n"
            "arp,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,"
            "arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,arp_sha=00:00:00:00:00:01,"
            "arp_tha=00:00:00:00:00:00\n");
}

// The packet line under a packet-in, as ovs-ofctl monitor printed it for the same packets
// (sent to the controller by sluice-switchd).
TEST(OfctlTextPrint, PacketInPackets) {
  struct Case {
    const char* hex;
    const char* ovs;
  };
  const Case kCases[] = {
      {"00000000000200000000000108004510002800010000400666bd0a0000010a00000204d20050000000010000000"
       "0501203e8beef0000",
       "tcp,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.1,nw_"
       "dst=10.0.0.2,nw_tos=16,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=1234,tp_dst=80,tcp_flags=syn|"
       "ack tcp_csum:beef"},
      {"00000000000200000000000108004510002000010000400166ca0a0000010a00000208001234000100016162636"
       "4",
       "icmp,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.1,nw_"
       "dst=10.0.0.2,nw_tos=16,nw_ecn=0,nw_ttl=64,nw_frag=no,icmp_type=8,icmp_code=0 "
       "icmp_csum:1234"},
      {"ffffffffffff000000000001080600010800060400010000000000010a0000010000000000000a000002",
       "arp,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp_spa=10.0.0.1,arp_"
       "tpa=10.0.0.2,arp_op=1,arp_sha=00:00:00:00:00:01,arp_tha=00:00:00:00:00:00"},
      {"00000000000200000000000186dd600123450008114000000000000000000000000000000001000000000000000"
       "00000000000000002000500060008abcd",
       "udp6,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,ipv6_src=::1,ipv6_"
       "dst=::2,ipv6_label=0x12345,nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=5,tp_dst=6 "
       "udp_csum:abcd"},
      {"0000000000020000000000018100600508004510001c00010000401166be0a0000010a000002000700080008111"
       "1",
       "udp,dl_vlan=5,dl_vlan_pcp=3,vlan_tci1=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:"
       "00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=16,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=7,tp_"
       "dst=8 udp_csum:1111"},
      {"00000000000200000000000108004510001c00012000401146be0a0000010a0000023132333435363738",
       "udp,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.1,nw_"
       "dst=10.0.0.2,nw_tos=16,nw_ecn=0,nw_ttl=64,nw_frag=first,tp_src=12594,tp_dst=13108 "
       "udp_csum:3738"},
      {"00000000000200000000000108004510001c00010005401166b90a0000010a0000023132333435363738",
       "udp,vlan_tci=0x0000,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.1,nw_"
       "dst=10.0.0.2,nw_tos=16,nw_ecn=0,nw_ttl=64,nw_frag=later udp_csum:3738"},
  };
  for (const Case& c : kCases) {
    PacketIn pi;
    pi.reason = PacketInReason::kAction;
    pi.cookie = 0;
    pi.match.Set(OxmEntry::Exact(OxmField::kInPort, 1));
    pi.data = ParseHexBytes(c.hex).value();
    pi.total_len = static_cast<uint16_t>(pi.data.size());
    std::string text = FormatMessage(Message{kOfp13, 0, pi});
    size_t nl = text.find('\n');
    ASSERT_NE(nl, std::string::npos);
    EXPECT_EQ(text.substr(nl + 1), std::string(c.ovs) + "\n");
  }
}

TEST(OfctlTextMisc, VersionsAndHex) {
  EXPECT_EQ(ParseVersionName("OpenFlow13").value(), kOfp13);
  EXPECT_EQ(ParseVersionName("OpenFlow10,OpenFlow13").value(), kOfp13);
  EXPECT_EQ(ParseVersionName("OpenFlow10").error().code, Errc::kUnsupported);
  EXPECT_EQ(ParseVersionName("OpenFlow99").error().message, "OpenFlow99: unknown OpenFlow version");
  EXPECT_EQ(VersionName(kOfp13), "OF1.3");
  EXPECT_EQ(ParseHexBytes("0x0a 0B").value(), (Bytes{0x0a, 0x0b}));
  EXPECT_FALSE(ParseHexBytes("abc").has_value());
  EXPECT_FALSE(ParseHexBytes("zz").has_value());
}

}  // namespace
}  // namespace sluice::ofp::text

namespace sluice::ofp::text {
namespace {

TEST(OfctlTextNames, PortNamesPrintedInScope) {
  PortNameMap names = MakePortNameMap({{1, "p1"}, {2, "br-int"}, {3, "dup"}, {4, "dup"}});
  EXPECT_EQ(FormatPort(1), "1");
  {
    PortNameScope scope(&names);
    EXPECT_EQ(FormatPort(1), "p1");
    EXPECT_EQ(FormatPort(2), "\"br-int\"");  // quoted: not letters and digits only
    EXPECT_EQ(FormatPort(3), "3");           // a name two ports share stays a number
    EXPECT_EQ(FormatPort(4), "4");
    EXPECT_EQ(FormatPort(kPortLocal), "LOCAL");
    EXPECT_EQ(FormatPortNumber(1), "1");
    ActionList acts = {ActOutput{1, 0}, ActOutput{kPortLocal, 0}};
    EXPECT_EQ(FormatActions(acts), "output:p1,LOCAL");
    {
      PortNameScope numbers(nullptr);
      EXPECT_EQ(FormatPort(1), "1");
    }
    EXPECT_EQ(FormatPort(1), "p1");
  }
  EXPECT_EQ(FormatPort(1), "1");
}

TEST(OfctlTextNames, QuotedNamesParsed) {
  ParseOptions o;
  o.resolve_port = [](std::string_view n) -> std::optional<uint32_t> {
    if (n == "br-int") return 2;
    return std::nullopt;
  };
  EXPECT_EQ(ParsePort("\"br-int\"", o).value_or(0), 2u);
  EXPECT_EQ(ParsePort("br-int", o).value_or(0), 2u);
  EXPECT_FALSE(ParsePort("\"br-x\"", o).has_value());
}

}  // namespace
}  // namespace sluice::ofp::text
