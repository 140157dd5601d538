// ofproto-dpif on the DPDK datapath with a PMD thread and dummy ports: what needs the real
// datapath threads. Upcalls become megaflows and later packets stay in the PMD; the PMD's
// L2-only parsing keeps upcall keys whole; meters are enforced by the datapath; recirculation
// runs through the PMD without further upcalls; and the barrier guarantee holds with traffic
// flowing: once the barrier reply that follows a flow mod has arrived, no packet takes a
// megaflow derived from the replaced rules (also measuring the barrier latency this costs).
// Everything else about ofproto-dpif is tested on the in-memory datapath (tests/ofproto/).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "common/eal_env.h"
#include "datapath/dpif_netdev/dpif_netdev.h"
#include "datapath/flow/odp_text.h"
#include "datapath/port/dummy_port.h"
#include "tests/common/ofproto_dpif_harness.h"

namespace sluice::ofp::test {
namespace {

class OfprotoDpifNetdevTest : public OfprotoDpifHarness {
 protected:
  void SetUp() override {
    dp::DpifNetdevConfig cfg;
    cfg.pmd_cores = {1};
    auto d = dp::DpifNetdev::Create(cfg, sluice::test::Eal());
    ASSERT_TRUE(d.has_value()) << d.error().message;
    netdev_ = std::move(*d);
    AddDummyPorts();
    StartBridge();
  }
  void TearDown() override {
    StopBridge();
    netdev_.reset();
  }
  dp::Dpif& dpif() override { return *netdev_; }
  void Inject(const char* port, const std::vector<uint8_t>& f) override {
    (void)Port(port)->Inject(f.data(), f.size());
  }
  bool InjectOk(const char* port, const std::vector<uint8_t>& f) {
    return Port(port)->Inject(f.data(), f.size()).has_value();
  }
  std::vector<std::vector<uint8_t>> TakeTx(const char* port) override {
    return Port(port)->TakeTx();
  }
  dp::DummyPort* Port(const char* n) { return *netdev_->Dummy(n); }

  std::unique_ptr<dp::DpifNetdev> netdev_;
};

TEST_F(OfprotoDpifNetdevTest, MissInstallsMegaflowAndLaterPacketsStayInTheDatapath) {
  MissInstallsMegaflowAndLaterPacketsStayInTheDatapath();
}

// While every megaflow of the PMD masks only metadata and L2 words, the PMD parses L2 only; a
// packet that misses then must still reach the upcall with its L3/L4 fields, and a megaflow on
// L3 fields (a new subtable) must take effect for the following packets.
TEST_F(OfprotoDpifNetdevTest, L2OnlyParsingKeepsUpcallKeysAndLaterL3MegaflowsWhole) {
  FlowMod to_p2 = Flow(1, 2);
  to_p2.match.Set(OxmEntry::Exact(OxmField::kEthDst, uint64_t{0x000000000002}));
  Send(to_p2);
  FlowMod to_p3 = Flow(1, 3, FlowModCommand::kAdd, 50);
  to_p3.match.Set(OxmEntry::Exact(OxmField::kEthType, 0x0800));
  to_p3.match.Set(OxmEntry::Exact(OxmField::kIpv4Dst, 0x0a000003));
  Send(to_p3);
  Barrier();
  auto l2 = UdpFrame(1, 2, 1000);
  ASSERT_TRUE(InjectOk("p1", l2));
  EXPECT_EQ(Egress(1), std::make_pair(size_t{1}, size_t{0}));
  auto flows = DumpFlows();
  ASSERT_EQ(flows.size(), 1u);
  for (size_t w = dp::kFlowL3Word; w < dp::FlowKey::kWords; ++w) {
    ASSERT_EQ(flows[0].mask.bits.words()[w], 0u) << "the first megaflow is not L2-only";
  }
  // dl_dst 00:..:03 misses the L2 megaflow; only its nw_dst (10.0.0.3) selects p3.
  for (int i = 0; i < 5; ++i) {
    auto l3 = UdpFrame(1, 3, static_cast<uint16_t>(2000 + i));
    ASSERT_TRUE(InjectOk("p1", l3));
    EXPECT_EQ(ProbeEgress(static_cast<uint16_t>(2000 + i)), std::make_pair(size_t{0}, size_t{1}))
        << "packet " << i;
  }
  EXPECT_EQ(netdev_->FlowCount(), 2u);
  // Both kinds keep hitting their megaflows.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(InjectOk("p1", l2));
    auto l3 = UdpFrame(1, 3, 2000);
    ASSERT_TRUE(InjectOk("p1", l3));
  }
  EXPECT_EQ(Egress(20), std::make_pair(size_t{10}, size_t{10}));
  EXPECT_EQ(ofproto_->counters().upcalls, 2u);
  EXPECT_TRUE(ofproto_->VerifyMegaflows().empty());
}

// Meters are enforced by the datapath: a metered flow's megaflow runs meter(N), the band drops
// what exceeds the rate, and meter stats show the datapath's counts.
TEST_F(OfprotoDpifNetdevTest, MetersAreEnforcedInTheDatapathAndCounted) {
  MeterMod mm;
  mm.command = MeterModCommand::kAdd;
  mm.flags = kMeterPktps | kMeterBurst;  // no OFPMF_STATS: counted all the same
  mm.meter_id = 1;
  mm.bands = {MeterBand{MeterBandType::kDrop, 1, 5, 0, 0}};  // 1 packet/s, burst 5
  Send(mm);
  FlowMod fm = Flow(1, 2);
  fm.instructions.push_back(InstMeter{1});
  Send(fm);
  Barrier();
  auto f = UdpFrame(1, 2, 1000);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(InjectOk("p1", f));
  auto [passed, other] = Egress(20, 500);
  EXPECT_EQ(other, 0u);
  EXPECT_GE(passed, 5u);  // the burst, and at most a packet refilled meanwhile
  EXPECT_LE(passed, 6u);
  auto flows = DumpFlows();
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_NE(dp::FormatOdpActions(flows[0].actions.view()).find("meter("), std::string::npos);

  auto stats = [&](uint32_t id) {
    Send(MultipartRequest{0, MeterStatsRequest{id}});
    auto m = Recv();
    EXPECT_TRUE(m && std::holds_alternative<MultipartReply>(m->body));
    return std::get<MeterStatsReply>(std::get<MultipartReply>(m->body).body);
  };
  MeterStatsReply r = stats(1);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].flow_count, 1u);
  EXPECT_EQ(r.entries[0].packet_in_count, 20u);
  EXPECT_EQ(r.entries[0].byte_in_count, 20u * 60);
  ASSERT_EQ(r.entries[0].bands.size(), 1u);
  EXPECT_EQ(r.entries[0].bands[0].packet_count, 20u - passed);

  // A modify keeps the in-counts; its bands count afresh and a burst of 100 lets all through.
  mm.command = MeterModCommand::kModify;
  mm.bands = {MeterBand{MeterBandType::kDrop, 1000, 100, 0, 0}};
  Send(mm);
  Barrier();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(InjectOk("p1", f));
  EXPECT_EQ(Egress(10).first, 10u);
  r = stats(1);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].packet_in_count, 30u);
  EXPECT_EQ(r.entries[0].bands.at(0).packet_count, 0u);

  // A flow naming a meter that does not exist is refused.
  FlowMod bad = Flow(2, 1);
  bad.instructions.push_back(InstMeter{7});
  Send(bad, 55);
  auto err = Recv();
  ASSERT_TRUE(err && std::holds_alternative<ErrorMsg>(err->body));
  EXPECT_EQ(MakeOfpErr(std::get<ErrorMsg>(err->body).type, std::get<ErrorMsg>(err->body).code),
            OfpErr::kMeterModUnknownMeter);

  // Deleting the meter deletes its flow, and the megaflow goes at revalidation.
  mm.command = MeterModCommand::kDelete;
  mm.bands.clear();
  Send(mm);
  Barrier();
  EXPECT_TRUE(stats(kMeterAll).entries.empty());
  EXPECT_TRUE(ofproto_->VerifyMegaflows().empty());
  ASSERT_TRUE(InjectOk("p1", f));
  EXPECT_EQ(Egress(1, 300).first, 0u);
}

// The guarantee, checked 300 times with traffic flowing: after each barrier reply, a packet
// injected on p1 leaves by the port the newest rule names, never the previous one.
TEST_F(OfprotoDpifNetdevTest, NoPacketTakesAStaleMegaflowAfterTheBarrierReply) {
  Send(Flow(1, 2));
  Barrier();
  std::atomic<bool> stop{false};
  // Background traffic from many sources keeps megaflows busy in the PMD while rules change.
  std::thread traffic([&] {
    uint16_t sport = 0;
    while (!stop.load()) {
      auto f = UdpFrame(1, 2, static_cast<uint16_t>(sport++ % 64));
      (void)InjectOk("p1", f);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  std::vector<double> lat_us;
  uint32_t out = 2;
  for (int i = 0; i < 300; ++i) {
    out = out == 2 ? 3 : 2;
    auto t0 = std::chrono::steady_clock::now();
    Send(Flow(1, out, FlowModCommand::kModifyStrict));
    Barrier(1000 + i);
    lat_us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    // Pause the background traffic and drain it until the ports stay quiet.
    stop.store(true);
    traffic.join();
    for (int quiet = 0; quiet < 5;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      bool any = !TakeTx("p2").empty();
      any |= !TakeTx("p3").empty();
      quiet = any ? 0 : quiet + 1;
    }
    // The probe carries a source port the background traffic never uses.
    uint16_t probe_port = static_cast<uint16_t>(60000 + i);
    auto probe = UdpFrame(1, 2, probe_port);
    ASSERT_TRUE(InjectOk("p1", probe));
    auto [a, b] = ProbeEgress(probe_port);
    ASSERT_EQ(a + b, 1u) << "probe seen " << a << "+" << b << " times, iteration " << i;
    ASSERT_EQ(out == 2 ? a : b, 1u) << "stale megaflow used after barrier, iteration " << i;
    stop.store(false);
    traffic = std::thread([&] {
      uint16_t sport = 0;
      while (!stop.load()) {
        auto f = UdpFrame(1, 2, static_cast<uint16_t>(sport++ % 64));
        (void)InjectOk("p1", f);
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
  }
  stop.store(true);
  traffic.join();
  EXPECT_TRUE(ofproto_->VerifyMegaflows().empty());
  std::sort(lat_us.begin(), lat_us.end());
  std::printf(
      "flow-mod + barrier latency over %zu round trips with %zu megaflows: median %.0f us, "
      "p99 %.0f us\n",
      lat_us.size(), ofproto_->TrackedCount(), lat_us[lat_us.size() / 2],
      lat_us[lat_us.size() * 99 / 100]);
}

// pop_mpls then goto_table: the first pass pops and recirculates, the second (the packet parsed
// again, recirc_id set) matches the inner IPv4 header. Both passes become megaflows, and later
// packets recirculate inside the PMD without any upcall.
TEST_F(OfprotoDpifNetdevTest, PopMplsGotoTableRecirculatesRealPackets) {
  AddPopMplsRules();
  FlowMod push;  // the other way: push a label and set it
  push.priority = 10;
  push.match.Set(OxmEntry::Exact(OxmField::kInPort, 3));
  push.instructions = {
      InstApplyActions{{ActPushMpls{0x8847}, ActSetField{OxmEntry::Exact(OxmField::kMplsLabel, 77)},
                        ActOutput{2, 0}}}};
  Send(push);
  Barrier();

  auto ip = UdpFrame(1, 2, 1000);
  std::vector<uint8_t> mpls = MplsFrame(ip);

  ASSERT_TRUE(InjectOk("p1", mpls));
  std::vector<std::vector<uint8_t>> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (out.empty() && std::chrono::steady_clock::now() < deadline) {
    out = TakeTx("p2");
    if (out.empty()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], ip);  // the label popped: the original IPv4 frame
  EXPECT_EQ(ofproto_->TrackedCount(), 2u);

  for (int i = 0; i < 10; ++i) ASSERT_TRUE(InjectOk("p1", mpls));
  EXPECT_EQ(Egress(10), std::make_pair(size_t{10}, size_t{0}));
  EXPECT_EQ(ofproto_->counters().upcalls, 1u);  // the PMD recirculated the rest by itself
  EXPECT_TRUE(ofproto_->VerifyMegaflows().empty());

  // Another inner source: table 1 misses, nothing leaves.
  auto other = mpls;
  other[18 + 12 + 3] = 9;  // IPv4 source 10.0.0.9
  ASSERT_TRUE(InjectOk("p1", other));
  EXPECT_EQ(Egress(1, 300), std::make_pair(size_t{0}, size_t{0}));

  // push_mpls + set_field mpls_label on the way out of p3.
  auto from3 = UdpFrame(3, 2, 1001);
  ASSERT_TRUE(InjectOk("p3", from3));
  out.clear();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (out.empty() && std::chrono::steady_clock::now() < deadline) {
    out = TakeTx("p2");
    if (out.empty()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].size(), from3.size() + 4);
  EXPECT_EQ(out[0][12], 0x88);
  EXPECT_EQ(out[0][13], 0x47);
  uint32_t got =
      static_cast<uint32_t>(out[0][14]) << 24 | out[0][15] << 16 | out[0][16] << 8 | out[0][17];
  EXPECT_EQ(got, 77u << 12 | 1u << 8 | 64u);  // label 77, bos, the IPv4 TTL
  EXPECT_TRUE(std::equal(from3.begin() + 14, from3.end(), out[0].begin() + 18));
}

}  // namespace
}  // namespace sluice::ofp::test
