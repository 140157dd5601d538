// ofproto-dpif on the in-memory datapath (tests/common/in_memory_dpif.h): upcalls become
// megaflows, revalidation keeps them equal to the tables, ofproto/trace follows recirculation,
// recirculation states go with their megaflows. No DPDK: packets are processed on the test
// thread as they are injected. What needs the real PMD threads is in tests/ofproto_dpif_netdev/.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

#include "datapath/flow/odp_text.h"
#include "tests/common/in_memory_dpif.h"
#include "tests/common/ofproto_dpif_harness.h"

namespace sluice::ofp::test {
namespace {

class OfprotoDpifTest : public OfprotoDpifHarness {
 protected:
  void SetUp() override {
    AddDummyPorts();
    StartBridge();
  }
  void TearDown() override { StopBridge(); }
  dp::Dpif& dpif() override { return dpif_; }
  void Inject(const char* port, const std::vector<uint8_t>& f) override {
    ASSERT_TRUE(dpif_.Inject(port, f).has_value());
  }
  std::vector<std::vector<uint8_t>> TakeTx(const char* port) override { return dpif_.TakeTx(port); }

  sluice::test::InMemoryDpif dpif_;
};

TEST_F(OfprotoDpifTest, MissInstallsMegaflowAndLaterPacketsStayInTheDatapath) {
  MissInstallsMegaflowAndLaterPacketsStayInTheDatapath();
}

// Random rule changes: after every barrier each remembered megaflow equals a fresh translation
// and the datapath holds exactly its actions.
TEST_F(OfprotoDpifTest, RevalidationKeepsMegaflowsEqualToTablesUnderRandomChanges) {
  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    for (int k = 0; k < 5; ++k) {
      FlowMod fm;
      fm.priority = static_cast<uint16_t>(rng() % 4 * 10);
      fm.command = rng() % 4 == 0 ? FlowModCommand::kDelete : FlowModCommand::kAdd;
      if (rng() % 2) fm.match.Set(OxmEntry::Exact(OxmField::kInPort, 1));
      if (rng() % 2) {
        fm.match.Set(OxmEntry::Exact(OxmField::kEthType, 0x0800));
        fm.match.Set(OxmEntry::Exact(OxmField::kIpProto, 17));
        fm.match.Set(OxmEntry::Exact(OxmField::kUdpSrc, rng() % 8));
      }
      fm.instructions.push_back(
          InstApplyActions{{ActOutput{static_cast<uint32_t>(2 + rng() % 2), 0}}});
      if (fm.command == FlowModCommand::kDelete) {
        fm.table_id = kTableAll;
        fm.instructions.clear();
      }
      Send(fm, 500 + k);
    }
    Barrier();
    for (uint16_t sp = 0; sp < 8; ++sp) {
      auto f = UdpFrame(1, 2, sp);
      Inject("p1", f);
    }
    Egress(8, 200);
    Barrier();
    auto problems = ofproto_->VerifyMegaflows();
    ASSERT_TRUE(problems.empty()) << "round " << round << ": " << problems[0];
  }
}

// The PMD's part, done by the in-memory datapath: the first pass pops the label and
// recirculates, the second (parsed again, recirc_id set) matches the inner header; both become
// megaflows and later packets recirculate in the datapath without an upcall.
TEST_F(OfprotoDpifTest, PopMplsGotoTableRecirculatesInTheDatapath) {
  AddPopMplsRules();
  auto ip = UdpFrame(1, 2, 1000);
  auto mpls = MplsFrame(ip);
  Inject("p1", mpls);
  auto out = TakeTx("p2");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], ip);
  EXPECT_EQ(ofproto_->TrackedCount(), 2u);
  for (int i = 0; i < 10; ++i) Inject("p1", mpls);
  EXPECT_EQ(TakeTx("p2").size(), 10u);
  EXPECT_EQ(ofproto_->counters().upcalls, 1u);
  EXPECT_EQ(dpif_.counters().misses, 1u);
  EXPECT_TRUE(ofproto_->VerifyMegaflows().empty());
}

// Packet-in: a controller action becomes a userspace() action in the megaflow; each packet
// that takes it reaches the management connection as a PACKET_IN with the whole frame.
TEST_F(OfprotoDpifTest, ControllerActionSendsPacketIns) {
  FlowMod fm = Flow(1, kPortController);
  fm.instructions = {InstApplyActions{{ActOutput{kPortController, 0xffff}}}};  // whole packets
  Send(fm);
  Barrier();
  auto f = UdpFrame(1, 2, 7);
  Inject("p1", f);
  Inject("p1", f);
  int pins = 0;
  for (int i = 0; i < 2; ++i) {
    auto m = Recv();
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE(std::holds_alternative<PacketIn>(m->body));
    const auto& pi = std::get<PacketIn>(m->body);
    EXPECT_EQ(pi.data, f);
    EXPECT_EQ(pi.reason, PacketInReason::kAction);
    ++pins;
  }
  EXPECT_EQ(pins, 2);
  EXPECT_EQ(ofproto_->counters().upcalls, 1u);         // the miss
  EXPECT_EQ(ofproto_->counters().action_upcalls, 1u);  // the second packet's userspace()
  EXPECT_EQ(ofproto_->counters().packet_ins, 2u);
}

// Idle expiry in the datapath: the next statistics pass forgets the megaflow, and the next
// packet misses again.
TEST_F(OfprotoDpifTest, ExpiredMegaflowsAreForgottenAndMissAgain) {
  Send(Flow(1, 2));
  Barrier();
  auto f = UdpFrame(1, 2, 1000);
  Inject("p1", f);
  ASSERT_EQ(ofproto_->TrackedCount(), 1u);
  dpif_.SetMaxIdle(1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(dpif_.ExpireIdle(), 1u);
  // Statistics passes (the first spares megaflows installed since the one before it).
  ASSERT_TRUE(ofproto_->DumpFlowsText("br0").has_value());
  ASSERT_TRUE(ofproto_->DumpFlowsText("br0").has_value());
  EXPECT_EQ(ofproto_->TrackedCount(), 0u);
  Inject("p1", f);
  EXPECT_EQ(ofproto_->counters().upcalls, 2u);
  EXPECT_EQ(TakeTx("p2").size(), 2u);
}

TEST_F(OfprotoDpifTest, TraceFollowsRecirculationAfterPopMpls) {
  AddPopMplsRules();
  auto ip = UdpFrame(1, 2, 1000);
  std::string hex;
  for (uint8_t b : MplsFrame(ip)) hex += fmt::format("{:02x}", b);

  // A packet: the first pass pops the label and recirculates; the trace executes that on a copy
  // of the packet, parses it again and shows the second pass from table 1.
  auto t = ofproto_->Trace("br0", "in_port=p1," + hex);
  ASSERT_TRUE(t.has_value()) << t.error().message;
  const std::string& out = *t;
  SCOPED_TRACE(out);
  size_t first = out.find("Datapath actions: pop_mpls(eth_type=0x800),recirc(0x");
  ASSERT_NE(first, std::string::npos);
  size_t banner = out.find("the packet is parsed again and the translation resumes", first);
  ASSERT_NE(banner, std::string::npos);
  size_t thaw = out.find("thaw\n        Resuming from table 1\n", banner);
  ASSERT_NE(thaw, std::string::npos);
  size_t rule = out.find("br0: table 1: ip,nw_src=10.0.0.1, priority 10", thaw);
  EXPECT_NE(rule, std::string::npos);
  // The second pass's flow is the IPv4 packet under the label, with the recirc_id.
  size_t flow2 = out.find("\nFlow: ", banner);
  ASSERT_NE(flow2, std::string::npos);
  std::string line2 = out.substr(flow2 + 1, out.find('\n', flow2 + 1) - flow2 - 1);
  EXPECT_NE(line2.find("recirc_id(0x"), std::string::npos) << line2;
  EXPECT_NE(line2.find("eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17"),
            std::string::npos)
      << line2;
  size_t mf2 = out.find("Megaflow: recirc_id(0x", thaw);
  EXPECT_NE(mf2, std::string::npos);
  EXPECT_TRUE(out.ends_with("Datapath actions: 2\n"));
  EXPECT_EQ(out.find("recirc(0x", banner + 1), std::string::npos);  // one recirculation
  // Nothing left the switch.
  EXPECT_EQ(Egress(1, 100), std::make_pair(size_t{0}, size_t{0}));

  // A flow: pop_mpls changes eth_type, the IPv4 header is unknown (zero): table 1 misses.
  t = ofproto_->Trace("br0", "in_port=p1,mpls,mpls_label=100");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  SCOPED_TRACE(*t);
  banner = t->find("the packet is parsed again");
  ASSERT_NE(banner, std::string::npos);
  EXPECT_NE(t->find("eth_type(0x0800)", banner), std::string::npos);
  EXPECT_NE(t->find("br0: table 1: no match", banner), std::string::npos);
  EXPECT_TRUE(t->ends_with("Datapath actions: drop\n"));
}

class OfprotoDpifRecircGcTest : public OfprotoDpifTest {
 protected:
  void SetUp() override {
    opts_.recirc_grace_ms = 0;
    OfprotoDpifTest::SetUp();
  }
};

TEST_F(OfprotoDpifRecircGcTest, StatesGoWithTheirMegaflowsAndAreNotReused) {
  AddPopMplsRules();
  auto ip = UdpFrame(1, 2, 1000);
  auto mpls = MplsFrame(ip);
  Inject("p1", mpls);
  EXPECT_EQ(Egress(1), std::make_pair(size_t{1}, size_t{0}));
  ASSERT_EQ(ofproto_->TrackedCount(), 2u);
  EXPECT_EQ(ofproto_->RecircStateCount(), 1u);
  auto ids = DpRecircIds();
  ASSERT_EQ(ids.size(), 1u);
  uint32_t old_id = ids[0];

  // A stats pass keeps what installed megaflows name.
  ASSERT_TRUE(ofproto_->DumpFlowsText("br0").has_value());
  EXPECT_EQ(ofproto_->RecircStateCount(), 1u);

  // The megaflows go (as on idle expiry): the next stats pass forgets them and the state.
  dpif_.FlowFlush();
  ASSERT_TRUE(ofproto_->DumpFlowsText("br0").has_value());
  EXPECT_EQ(ofproto_->TrackedCount(), 0u);
  EXPECT_EQ(ofproto_->RecircStateCount(), 0u);
  EXPECT_EQ(ofproto_->counters().recirc_states_dropped, 1u);

  // A packet that was between its passes meanwhile: its state is gone, it is dropped and
  // counted.
  uint64_t xlates = ofproto_->counters().xlates;
  ASSERT_TRUE(dpif_.Inject("p1", ip, old_id));
  EXPECT_EQ(ofproto_->counters().upcall_recirc_missing, 1u);
  EXPECT_EQ(ofproto_->counters().xlates, xlates);
  EXPECT_EQ(ofproto_->TrackedCount(), 0u);
  EXPECT_EQ(Egress(1, 100), std::make_pair(size_t{0}, size_t{0}));
  EXPECT_NE(ofproto_->CoverageText().find("upcall_recirc_missing        1"), std::string::npos);

  // The same translation again gets a new id.
  Inject("p1", mpls);
  EXPECT_EQ(Egress(1), std::make_pair(size_t{1}, size_t{0}));
  ids = DpRecircIds();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_NE(ids[0], old_id);
  EXPECT_EQ(ofproto_->RecircStateCount(), 1u);
  EXPECT_TRUE(ofproto_->VerifyMegaflows().empty());
}

}  // namespace
}  // namespace sluice::ofp::test
