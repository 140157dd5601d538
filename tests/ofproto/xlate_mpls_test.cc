// Translation of MPLS actions, recirculation after pop_mpls (freeze and resume), fail-open,
// and the recirculation registry.
#include <random>

#include "tests/ofproto/xlate_test_util.h"

namespace sluice::ofp::test {
namespace {

// An MPLS packet as the parser leaves it: L2 and the top label stack entry only.
dp::FlowKey MplsKey(uint32_t in_port, uint32_t label, uint32_t tc, uint32_t bos, uint32_t ttl) {
  auto k = Udp(in_port, "00:00:00:00:00:01", "00:00:00:00:00:02", "0.0.0.0", "0.0.0.0", 0, 0);
  constexpr size_t kL3 = offsetof(dp::FlowKey, nw_src);
  std::memset(reinterpret_cast<uint8_t*>(&k) + kL3, 0, sizeof(k) - kL3);
  k.eth_type = htons(0x8847);
  k.mpls_lse = htonl(label << 12 | tc << 9 | bos << 8 | ttl);
  return k;
}

TEST_F(XlateTest, MplsPushCopiesIpTtlAndTcThenSetField) {
  Flow(*a_, 0, 10, {},
       Apply(
           {ActPushMpls{0x8847}, ActSetField{OxmEntry::Exact(OxmField::kMplsLabel, 100)}, Out(2)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  k.nw_tos = 0xb8;  // DSCP 46: tc 46 & 7 = 6
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "push_mpls(label=0,tc=6,ttl=64,bos=1,eth_type=0x8847),set(mpls(label=100)),12")
      << trace_;
  EXPECT_EQ(r.mask.bits.nw_ttl, 0xff);
  EXPECT_EQ(r.mask.bits.nw_tos, 0xfc);
  // A second push copies the outer entry without bottom of stack.
  Flow(*a_, 0, 20, {OxmEntry::Exact(OxmField::kEthType, 0x8847)},
       Apply({ActPushMpls{0x8848}, Out(2)}));
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 5, 1, 1, 9), 1)),
            "push_mpls(label=5,tc=1,ttl=9,bos=0,eth_type=0x8848),12");
}

TEST_F(XlateTest, MplsMatchSetTtlDecTtl) {
  Flow(*a_, 0, 10,
       {OxmEntry::Exact(OxmField::kEthType, 0x8847), OxmEntry::Exact(OxmField::kMplsLabel, 5)},
       Apply({ActSetMplsTtl{10}, ActDecMplsTtl{},
              ActSetField{OxmEntry::Exact(OxmField::kMplsTc, 3)}, Out(2)}));
  auto r = Run(*a_, MplsKey(11, 5, 0, 1, 64), 1);
  EXPECT_EQ(Acts(r), "set(mpls(tc=3,ttl=9)),12") << trace_;
  EXPECT_EQ(r.mask.bits.mpls_lse, UINT32_MAX);
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 6, 0, 1, 64), 1)), "drop");  // label 6: no match

  // dec_mpls_ttl of TTL 1 (or 0) drops the packet, like dec_ttl.
  Flow(*a_, 0, 20, {OxmEntry::Exact(OxmField::kEthType, 0x8847)}, Apply({ActDecMplsTtl{}, Out(2)}));
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 7, 0, 1, 2), 1)), "set(mpls(ttl=1)),12");
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 7, 0, 1, 1), 1)), "drop");
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 7, 0, 1, 0), 1)), "drop");
  // MPLS actions on a packet without MPLS do nothing.
  auto udp = Udp(12, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  Flow(*a_, 0, 30, {OxmEntry::Exact(OxmField::kInPort, 2)},
       Apply({ActPopMpls{0x0800}, ActDecMplsTtl{}, Out(1)}));
  EXPECT_EQ(Acts(Run(*a_, udp, 2)), "11");
}

TEST_F(XlateTest, PopMplsThenGotoTableRecirculatesAndResumes) {
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kEthType, 0x8847)},
       {InstApplyActions{{ActPopMpls{0x0800}}}, InstWriteActions{{Out(3)}},
        InstWriteMetadata{0x7, 0xff}, InstGotoTable{1}},
       0x11);
  Flow(
      *a_, 1, 10,
      {OxmEntry::Exact(OxmField::kEthType, 0x0800), OxmEntry::Exact(OxmField::kIpv4Src, 0x0a000001),
       OxmEntry::Masked(OxmField::kMetadata, 0x7, 0xff)},
      Apply({Out(2)}));
  auto r = Run(*a_, MplsKey(11, 5, 0, 1, 64), 1);
  EXPECT_EQ(Acts(r), "pop_mpls(eth_type=0x800),recirc(0x1)") << trace_;
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.rules.size(), 1u);
  ASSERT_EQ(recirc_.size(), 1u);
  EXPECT_EQ(recirc_.Find(1)->stage, FrozenState::Stage::kTable);
  EXPECT_EQ(recirc_.Find(1)->table_id, 1);
  EXPECT_EQ(recirc_.Find(1)->metadata, 0x7u);

  // The recirculated packet, parsed again: table 1 matches the inner IPv4 source and the action
  // set (output 3) written before the recirculation runs at the end.
  auto inner = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  inner.recirc_id = 1;
  auto r2 = Run(*a_, inner, 1);
  EXPECT_EQ(Acts(r2), "12,13") << trace_;
  EXPECT_EQ(r2.mask.bits.recirc_id, UINT32_MAX);
  EXPECT_EQ(r2.mask.bits.nw_src, UINT32_MAX);
  inner.nw_src = htonl(0x0a000002);
  EXPECT_EQ(Acts(Run(*a_, inner, 1)), "13");  // table 1 misses; the action set still runs

  // The same packet again interns the same state: the megaflow stays the same.
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 5, 0, 1, 64), 1)), "pop_mpls(eth_type=0x800),recirc(0x1)");
  EXPECT_EQ(recirc_.size(), 1u);
  // An unknown id drops.
  inner.recirc_id = 99;
  auto r3 = Run(*a_, inner, 1);
  EXPECT_EQ(Acts(r3), "drop");
  EXPECT_TRUE(r3.error);
}

TEST_F(XlateTest, PopMplsThenL3SetFieldFreezesMidList) {
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kEthType, 0x8847)},
       Apply({ActPopMpls{0x0800}, Out(3),
              ActSetField{OxmEntry::Exact(OxmField::kIpv4Dst, 0x0a0000ff)}, Out(2)}));
  auto r = Run(*a_, MplsKey(11, 5, 0, 1, 64), 1);
  // Output needs no L3: it happens before the recirculation.
  EXPECT_EQ(Acts(r), "pop_mpls(eth_type=0x800),13,recirc(0x1)") << trace_;
  ASSERT_NE(recirc_.Find(1), nullptr);
  EXPECT_EQ(recirc_.Find(1)->stage, FrozenState::Stage::kApply);
  EXPECT_EQ(recirc_.Find(1)->actions.size(), 2u);
  auto inner = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  inner.recirc_id = 1;
  EXPECT_EQ(Acts(Run(*a_, inner, 1)), "set(ipv4(dst=10.0.0.255)),12") << trace_;
}

TEST_F(XlateTest, PushThenPopMplsKeepsL3Known) {
  Flow(*a_, 0, 10, {},
       Apply({ActPushMpls{0x8847}, Out(3), ActPopMpls{0x0800}, ActDecNwTtl{}, Out(2)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, k, 1)),
            "push_mpls(label=0,tc=0,ttl=64,bos=1,eth_type=0x8847),13,pop_mpls(eth_type=0x800),"
            "set(ipv4(ttl=63)),12")
      << trace_;
  EXPECT_TRUE(recirc_.size() == 0u);
}

TEST_F(XlateTest, MplsPushInGroupBucketIsUndoneForTheNextBucket) {
  GroupMod gm;
  gm.type = GroupType::kAll;
  gm.group_id = 1;
  gm.buckets.push_back(Bucket{0, kPortAny, kGroupAny, {ActPushMpls{0x8847}, Out(2)}});
  gm.buckets.push_back(Bucket{0, kPortAny, kGroupAny, {Out(3)}});
  ASSERT_TRUE(a_->ofp->mutable_groups().Apply(gm));
  Flow(*a_, 0, 10, {}, Apply({ActGroup{1}}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, k, 1)),
            "push_mpls(label=0,tc=0,ttl=64,bos=1,eth_type=0x8847),12,pop_mpls(eth_type=0x800),13")
      << trace_;
}

TEST_F(XlateTest, StandaloneFailsOpenToNormalUntilAControllerConnects) {
  // The controller's flows drop everything from port 1.
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kInPort, 1)}, {});
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  std::string path = "/tmp/sluice-failopen-" + std::to_string(getpid()) + ".sock";
  ::unlink(path.c_str());
  clock::Stop();
  a_->ofp->SetFailMode(false);
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());  // no controller configured: never
  // A controller that is not there, probed every second: fail open after 3 s.
  a_->ofp->connmgr().SetControllers({"unix:" + path}, 1000, 1000);
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());
  clock::Warp(2999);
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "drop");
  clock::Warp(1);
  a_->ofp->RunFailOpen();
  EXPECT_TRUE(a_->ofp->fail_open());
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "12,13,14");  // NORMAL floods, above the controller's flow
  EXPECT_TRUE(r.rules.empty());
  EXPECT_NE(trace_.find("fail-open"), std::string::npos) << trace_;
  // The hidden behaviour is not a flow: the table still holds only the controller's.
  EXPECT_EQ(a_->ofp->pipeline().TableStatsQuery().entries[0].active_count, 1u);
  // Secure never fails open.
  a_->ofp->SetFailMode(true);
  EXPECT_FALSE(a_->ofp->fail_open());
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "drop");
  a_->ofp->SetFailMode(false);
  EXPECT_TRUE(a_->ofp->fail_open());

  // The controller comes up: as soon as it has negotiated, the bridge is back to its flows.
  asio::local::stream_protocol::acceptor acc(io_, asio::local::stream_protocol::endpoint(path));
  asio::local::stream_protocol::socket ctl(io_);
  bool accepted = false;
  acc.async_accept(ctl, [&](std::error_code ec) {
    ASSERT_FALSE(ec);
    accepted = true;
    const uint8_t hello[] = {4, 0, 0, 8, 0, 0, 0, 1};
    asio::write(ctl, asio::buffer(hello));
  });
  for (int i = 0; i < 5000 && a_->ofp->fail_open(); ++i) io_.run_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(accepted);
  EXPECT_FALSE(a_->ofp->fail_open());
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "drop");
  // It goes away: three probe intervals later the bridge fails open again.
  ctl.close();
  for (int i = 0; i < 2000 && a_->ofp->connmgr().HasController(); ++i) {
    io_.run_for(std::chrono::milliseconds(1));
  }
  ASSERT_FALSE(a_->ofp->connmgr().HasController());
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());
  clock::Warp(3000);
  a_->ofp->RunFailOpen();
  EXPECT_TRUE(a_->ofp->fail_open());
  a_->ofp->connmgr().SetControllers({});
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());  // no controllers configured any more
  ::unlink(path.c_str());
}

TEST(RecircRegistryTest, SweepDropsUnnamedStatesAfterTheGraceAndIdsAreNeverReused) {
  RecircRegistry reg;
  FrozenState a;
  a.bridge = "br0";
  a.table_id = 1;
  FrozenState b = a;
  b.table_id = 2;
  uint32_t ia = reg.Intern(a, 1000);
  uint32_t ib = reg.Intern(b, 1000);
  ASSERT_NE(ia, 0u);
  ASSERT_NE(ib, 0u);
  EXPECT_NE(ia, ib);
  EXPECT_EQ(reg.Intern(a, 1500), ia);  // deduplicated, and used again at 1500
  EXPECT_EQ(reg.size(), 2u);

  // Within the grace nothing goes; a kept id stays whatever its age.
  EXPECT_EQ(reg.Sweep({}, 1900, 1000), 0u);
  EXPECT_EQ(reg.Sweep({ib}, 2400, 1000), 0u);  // a: used at 1500, b: kept
  EXPECT_EQ(reg.Sweep({ib}, 2600, 1000), 1u);  // a: unused for 1100 ms
  EXPECT_EQ(reg.Find(ia), nullptr);
  ASSERT_NE(reg.Find(ib), nullptr);
  EXPECT_EQ(reg.Find(ib)->table_id, 2);
  EXPECT_EQ(reg.size(), 1u);

  // The same state again: a new id, never the dropped one.
  uint32_t ia2 = reg.Intern(a, 2800);
  EXPECT_NE(ia2, ia);
  EXPECT_NE(ia2, ib);
  EXPECT_EQ(reg.Find(ia2)->table_id, 1);
  EXPECT_EQ(reg.Sweep({}, 3500, 1000), 0u);  // b was kept at 2600, a used at 2800
  EXPECT_EQ(reg.Sweep({}, 3800, 1000), 2u);
  EXPECT_EQ(reg.size(), 0u);
}

}  // namespace
}  // namespace sluice::ofp::test
