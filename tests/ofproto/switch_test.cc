// The Switch on a real datapath (one PMD thread, dummy ports): upcalls become megaflows,
// revalidation keeps them equal to the tables, and the barrier guarantee holds: once the
// barrier reply that follows a flow mod has arrived, no packet takes a megaflow derived from the
// replaced rules. Also measures the barrier latency this costs under a stream of flow mods.
#include "ofproto/switch.h"

#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/eal_env.h"
#include "common/jsonrpc.h"
#include "datapath/flow/odp_text.h"
#include "datapath/packet/parse.h"
#include "datapath/port/dummy_port.h"
#include "ofproto/codec/messages.h"

namespace sluice::ofp {
namespace {

std::vector<uint8_t> UdpFrame(uint8_t src_host, uint8_t dst_host, uint16_t sport) {
  std::vector<uint8_t> f = {0,
                            0,
                            0,
                            0,
                            0,
                            dst_host,
                            0,
                            0,
                            0,
                            0,
                            0,
                            src_host,
                            0x08,
                            0x00,
                            0x45,
                            0,
                            0,
                            28,
                            0,
                            1,
                            0,
                            0,
                            64,
                            17,
                            0,
                            0,
                            10,
                            0,
                            0,
                            src_host,
                            10,
                            0,
                            0,
                            dst_host,
                            static_cast<uint8_t>(sport >> 8),
                            static_cast<uint8_t>(sport),
                            0,
                            80,
                            0,
                            8,
                            0,
                            0};
  f.resize(60, 0);
  return f;
}

class SwitchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rundir_ = "/tmp/sluice-switch-test-" + std::to_string(getpid());
    ::mkdir(rundir_.c_str(), 0755);
    dp::DatapathConfig cfg;
    cfg.pmd_cores = {1};
    auto d = dp::Datapath::Create(cfg, test::Eal());
    ASSERT_TRUE(d.has_value()) << d.error().message;
    dp_ = std::move(*d);
    for (const char* n : {"p1", "p2", "p3"}) {
      dp::PortSpec spec;
      spec.name = n;
      spec.type = "dummy";
      auto no = dp_->PortAdd(spec);
      ASSERT_TRUE(no.has_value()) << no.error().message;
    }
    sw_ = std::make_unique<Switch>(io_, *dp_, rundir_, opts_);
    ASSERT_TRUE(sw_->AddBridge("br0", 0x1, /*secure=*/true).has_value());
    for (uint32_t i = 1; i <= 3; ++i) {
      BridgePortSpec p;
      p.name = "p" + std::to_string(i);
      p.ofport = i;
      p.dp_port = i;
      ASSERT_TRUE(sw_->AddPort("br0", p).has_value());
    }
    auto s = ConnectStream(io_, "unix:" + rundir_ + "/br0.mgmt");
    ASSERT_TRUE(s.has_value());
    sock_ = std::make_unique<StreamSocket>(std::move(*s));
    sock_->non_blocking(true);
    Send(Hello{VersionBit(kOfp13)});
    auto hello = Recv();
    ASSERT_TRUE(hello && std::holds_alternative<Hello>(hello->body));
  }
  void TearDown() override {
    sock_.reset();
    sw_.reset();
    dp_.reset();
    std::string cmd = "rm -rf " + rundir_;
    (void)std::system(cmd.c_str());
  }

  void Send(MessageBody body, uint32_t xid = 7) {
    auto bytes = EncodeMessage(Message{kOfp13, xid, std::move(body)});
    ASSERT_TRUE(bytes.has_value());
    sock_->non_blocking(false);
    asio::write(*sock_, asio::buffer(*bytes));
    sock_->non_blocking(true);
  }
  std::optional<Message> Recv(int ms = 5000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      auto next = splitter_.Next();
      if (next && *next) {
        auto m = DecodeMessage(**next);
        if (m) return *m;
        return std::nullopt;
      }
      io_.poll();
      uint8_t buf[65536];
      std::error_code ec;
      size_t n = sock_->read_some(asio::buffer(buf), ec);
      if (!ec && n) {
        splitter_.Feed(ByteSpan(buf, n));
      } else {
        io_.run_for(std::chrono::microseconds(200));
      }
    }
    return std::nullopt;
  }
  // Messages until the barrier reply (errors are test failures).
  void Barrier(uint32_t xid = 99) {
    Send(BarrierRequest{}, xid);
    for (;;) {
      auto m = Recv();
      ASSERT_TRUE(m.has_value()) << "no barrier reply";
      if (std::holds_alternative<BarrierReply>(m->body)) return;
      ASSERT_FALSE(std::holds_alternative<ErrorMsg>(m->body)) << "error from the switch";
    }
  }
  FlowMod Flow(uint32_t in_port, uint32_t out, FlowModCommand cmd = FlowModCommand::kAdd,
               uint16_t prio = 100) {
    FlowMod fm;
    fm.command = cmd;
    fm.priority = prio;
    fm.match.Set(OxmEntry::Exact(OxmField::kInPort, in_port));
    fm.instructions.push_back(InstApplyActions{{ActOutput{out, 0}}});
    return fm;
  }
  dp::DummyPort* Port(const char* n) { return *dp_->Dummy(n); }
  // Waits for the frame whose UDP source port is `sport` on p2 or p3; returns (on p2, on p3),
  // ignoring other frames.
  std::pair<size_t, size_t> ProbeEgress(uint16_t sport, int ms = 5000) {
    size_t a = 0, b = 0;
    auto is_probe = [&](const std::vector<uint8_t>& f) {
      return f.size() >= 36 && f[34] == (sport >> 8) && f[35] == (sport & 0xff);
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (a + b == 0 && std::chrono::steady_clock::now() < deadline) {
      for (const auto& f : Port("p2")->TakeTx()) a += is_probe(f);
      for (const auto& f : Port("p3")->TakeTx()) b += is_probe(f);
      if (a + b == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    // Anything else belonging to the probe that is still on its way.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    for (const auto& f : Port("p2")->TakeTx()) a += is_probe(f);
    for (const auto& f : Port("p3")->TakeTx()) b += is_probe(f);
    return {a, b};
  }
  // Waits for frames on p2/p3; returns how many arrived on each.
  std::pair<size_t, size_t> Egress(size_t want, int ms = 2000) {
    size_t a = 0, b = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (a + b < want && std::chrono::steady_clock::now() < deadline) {
      a += Port("p2")->TakeTx().size();
      b += Port("p3")->TakeTx().size();
      if (a + b < want) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return {a, b};
  }

  // pop_mpls + goto_table:1 in table 0 for MPLS, IPv4 from 10.0.0.1 to p2 in table 1.
  void AddPopMplsRules() {
    FlowMod pop;
    pop.priority = 10;
    pop.match.Set(OxmEntry::Exact(OxmField::kEthType, 0x8847));
    pop.instructions = {InstApplyActions{{ActPopMpls{0x0800}}}, InstGotoTable{1}};
    Send(pop);
    FlowMod inner;
    inner.table_id = 1;
    inner.priority = 10;
    inner.match.Set(OxmEntry::Exact(OxmField::kEthType, 0x0800));
    inner.match.Set(OxmEntry::Exact(OxmField::kIpv4Src, 0x0a000001));
    inner.instructions = {InstApplyActions{{ActOutput{2, 0}}}};
    Send(inner);
    Barrier();
  }
  // The IPv4 frame with one MPLS label (100, bottom of stack, TTL 64) after the addresses.
  static std::vector<uint8_t> MplsFrame(const std::vector<uint8_t>& ip) {
    const uint32_t lse = 100u << 12 | 1u << 8 | 64u;
    const uint8_t tag[6] = {0x88,
                            0x47,
                            static_cast<uint8_t>(lse >> 24),
                            static_cast<uint8_t>(lse >> 16),
                            static_cast<uint8_t>(lse >> 8),
                            static_cast<uint8_t>(lse)};
    std::vector<uint8_t> mpls(ip.size() + 4);  // addresses, ethertype + LSE, the rest of ip
    std::copy(ip.begin(), ip.begin() + 12, mpls.begin());
    std::copy(std::begin(tag), std::end(tag), mpls.begin() + 12);
    std::copy(ip.begin() + 14, ip.end(), mpls.begin() + 18);
    return mpls;
  }
  // The recirc_ids of the datapath's megaflows (second passes).
  std::vector<uint32_t> DpRecircIds() {
    std::vector<uint32_t> ids;
    for (const auto& e : dp_->DumpFlows()) {
      if (e.key.recirc_id) ids.push_back(e.key.recirc_id);
    }
    return ids;
  }

  SwitchOptions opts_;
  asio::io_context io_;
  std::string rundir_;
  std::unique_ptr<dp::Datapath> dp_;
  std::unique_ptr<Switch> sw_;
  std::unique_ptr<StreamSocket> sock_;
  MessageSplitter splitter_;
};

TEST_F(SwitchTest, MissInstallsMegaflowAndLaterPacketsStayInTheDatapath) {
  Send(Flow(1, 2));
  Barrier();
  auto f = UdpFrame(1, 2, 1000);
  ASSERT_TRUE(Port("p1")->Inject(f.data(), f.size()));
  EXPECT_EQ(Egress(1), std::make_pair(size_t{1}, size_t{0}));
  EXPECT_EQ(sw_->TrackedCount(), 1u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Port("p1")->Inject(f.data(), f.size()));
  EXPECT_EQ(Egress(10), std::make_pair(size_t{10}, size_t{0}));
  EXPECT_EQ(sw_->counters().upcalls, 1u);  // one miss, the rest hit the megaflow
  // The counters reach the rule.
  Send(MultipartRequest{0, FlowStatsRequest{}});
  auto m = Recv();
  ASSERT_TRUE(m && std::holds_alternative<MultipartReply>(m->body));
  auto& fs = std::get<FlowStatsReply>(std::get<MultipartReply>(m->body).body);
  ASSERT_EQ(fs.entries.size(), 1u);
  EXPECT_EQ(fs.entries[0].packet_count, 11u);
  EXPECT_TRUE(sw_->VerifyMegaflows().empty());
}

// While every megaflow of the PMD masks only metadata and L2 words, the PMD parses L2 only; a
// packet that misses then must still reach the upcall with its L3/L4 fields, and a megaflow on
// L3 fields (a new subtable) must take effect for the following packets.
TEST_F(SwitchTest, L2OnlyParsingKeepsUpcallKeysAndLaterL3MegaflowsWhole) {
  FlowMod to_p2 = Flow(1, 2);
  to_p2.match.Set(OxmEntry::Exact(OxmField::kEthDst, uint64_t{0x000000000002}));
  Send(to_p2);
  FlowMod to_p3 = Flow(1, 3, FlowModCommand::kAdd, 50);
  to_p3.match.Set(OxmEntry::Exact(OxmField::kEthType, 0x0800));
  to_p3.match.Set(OxmEntry::Exact(OxmField::kIpv4Dst, 0x0a000003));
  Send(to_p3);
  Barrier();
  auto l2 = UdpFrame(1, 2, 1000);
  ASSERT_TRUE(Port("p1")->Inject(l2.data(), l2.size()));
  EXPECT_EQ(Egress(1), std::make_pair(size_t{1}, size_t{0}));
  auto flows = dp_->DumpFlows();
  ASSERT_EQ(flows.size(), 1u);
  for (size_t w = dp::kFlowL3Word; w < dp::FlowKey::kWords; ++w) {
    ASSERT_EQ(flows[0].mask.bits.words()[w], 0u) << "the first megaflow is not L2-only";
  }
  // dl_dst 00:..:03 misses the L2 megaflow; only its nw_dst (10.0.0.3) selects p3.
  for (int i = 0; i < 5; ++i) {
    auto l3 = UdpFrame(1, 3, static_cast<uint16_t>(2000 + i));
    ASSERT_TRUE(Port("p1")->Inject(l3.data(), l3.size()));
    EXPECT_EQ(ProbeEgress(static_cast<uint16_t>(2000 + i)), std::make_pair(size_t{0}, size_t{1}))
        << "packet " << i;
  }
  EXPECT_EQ(dp_->FlowCount(), 2u);
  // Both kinds keep hitting their megaflows.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Port("p1")->Inject(l2.data(), l2.size()));
    auto l3 = UdpFrame(1, 3, 2000);
    ASSERT_TRUE(Port("p1")->Inject(l3.data(), l3.size()));
  }
  EXPECT_EQ(Egress(20), std::make_pair(size_t{10}, size_t{10}));
  EXPECT_EQ(sw_->counters().upcalls, 2u);
  EXPECT_TRUE(sw_->VerifyMegaflows().empty());
}

// Meters are enforced by the datapath: a metered flow's megaflow runs meter(N), the band drops
// what exceeds the rate, and meter stats show the datapath's counts.
TEST_F(SwitchTest, MetersAreEnforcedInTheDatapathAndCounted) {
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
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Port("p1")->Inject(f.data(), f.size()));
  auto [passed, other] = Egress(20, 500);
  EXPECT_EQ(other, 0u);
  EXPECT_GE(passed, 5u);  // the burst, and at most a packet refilled meanwhile
  EXPECT_LE(passed, 6u);
  auto flows = dp_->DumpFlows();
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
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Port("p1")->Inject(f.data(), f.size()));
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
  EXPECT_TRUE(sw_->VerifyMegaflows().empty());
  ASSERT_TRUE(Port("p1")->Inject(f.data(), f.size()));
  EXPECT_EQ(Egress(1, 300).first, 0u);
}

// The guarantee, checked 300 times with traffic flowing: after each barrier reply, a packet
// injected on p1 leaves by the port the newest rule names, never the previous one.
TEST_F(SwitchTest, NoPacketTakesAStaleMegaflowAfterTheBarrierReply) {
  Send(Flow(1, 2));
  Barrier();
  std::atomic<bool> stop{false};
  // Background traffic from many sources keeps megaflows busy in the PMD while rules change.
  std::thread traffic([&] {
    uint16_t sport = 0;
    while (!stop.load()) {
      auto f = UdpFrame(1, 2, static_cast<uint16_t>(sport++ % 64));
      (void)Port("p1")->Inject(f.data(), f.size());
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
      bool any = !Port("p2")->TakeTx().empty();
      any |= !Port("p3")->TakeTx().empty();
      quiet = any ? 0 : quiet + 1;
    }
    // The probe carries a source port the background traffic never uses.
    uint16_t probe_port = static_cast<uint16_t>(60000 + i);
    auto probe = UdpFrame(1, 2, probe_port);
    ASSERT_TRUE(Port("p1")->Inject(probe.data(), probe.size()));
    auto [a, b] = ProbeEgress(probe_port);
    ASSERT_EQ(a + b, 1u) << "probe seen " << a << "+" << b << " times, iteration " << i;
    ASSERT_EQ(out == 2 ? a : b, 1u) << "stale megaflow used after barrier, iteration " << i;
    stop.store(false);
    traffic = std::thread([&] {
      uint16_t sport = 0;
      while (!stop.load()) {
        auto f = UdpFrame(1, 2, static_cast<uint16_t>(sport++ % 64));
        (void)Port("p1")->Inject(f.data(), f.size());
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
  }
  stop.store(true);
  traffic.join();
  EXPECT_TRUE(sw_->VerifyMegaflows().empty());
  std::sort(lat_us.begin(), lat_us.end());
  std::printf(
      "flow-mod + barrier latency over %zu round trips with %zu megaflows: median %.0f us, "
      "p99 %.0f us\n",
      lat_us.size(), sw_->TrackedCount(), lat_us[lat_us.size() / 2],
      lat_us[lat_us.size() * 99 / 100]);
}

// Random rule changes: after every barrier each remembered megaflow equals a fresh translation
// and the datapath holds exactly its actions.
TEST_F(SwitchTest, RevalidationKeepsMegaflowsEqualToTablesUnderRandomChanges) {
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
      ASSERT_TRUE(Port("p1")->Inject(f.data(), f.size()));
    }
    Egress(8, 200);
    Barrier();
    auto problems = sw_->VerifyMegaflows();
    ASSERT_TRUE(problems.empty()) << "round " << round << ": " << problems[0];
  }
}

}  // namespace
}  // namespace sluice::ofp

namespace sluice::ofp {
namespace {

// pop_mpls then goto_table: the first pass pops and recirculates, the second (the packet parsed
// again, recirc_id set) matches the inner IPv4 header. Both passes become megaflows, and later
// packets recirculate inside the PMD without any upcall.
TEST_F(SwitchTest, PopMplsGotoTableRecirculatesRealPackets) {
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

  ASSERT_TRUE(Port("p1")->Inject(mpls.data(), mpls.size()));
  std::vector<std::vector<uint8_t>> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (out.empty() && std::chrono::steady_clock::now() < deadline) {
    out = Port("p2")->TakeTx();
    if (out.empty()) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], ip);  // the label popped: the original IPv4 frame
  EXPECT_EQ(sw_->TrackedCount(), 2u);

  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Port("p1")->Inject(mpls.data(), mpls.size()));
  EXPECT_EQ(Egress(10), std::make_pair(size_t{10}, size_t{0}));
  EXPECT_EQ(sw_->counters().upcalls, 1u);  // the PMD recirculated the rest by itself
  EXPECT_TRUE(sw_->VerifyMegaflows().empty());

  // Another inner source: table 1 misses, nothing leaves.
  auto other = mpls;
  other[18 + 12 + 3] = 9;  // IPv4 source 10.0.0.9
  ASSERT_TRUE(Port("p1")->Inject(other.data(), other.size()));
  EXPECT_EQ(Egress(1, 300), std::make_pair(size_t{0}, size_t{0}));

  // push_mpls + set_field mpls_label on the way out of p3.
  auto from3 = UdpFrame(3, 2, 1001);
  ASSERT_TRUE(Port("p3")->Inject(from3.data(), from3.size()));
  out.clear();
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (out.empty() && std::chrono::steady_clock::now() < deadline) {
    out = Port("p2")->TakeTx();
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

TEST_F(SwitchTest, TraceFollowsRecirculationAfterPopMpls) {
  AddPopMplsRules();
  auto ip = UdpFrame(1, 2, 1000);
  std::string hex;
  for (uint8_t b : MplsFrame(ip)) hex += fmt::format("{:02x}", b);

  // A packet: the first pass pops the label and recirculates; the trace executes that on a copy
  // of the packet, parses it again and shows the second pass from table 1.
  auto t = sw_->Trace("br0", "in_port=p1," + hex);
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
  t = sw_->Trace("br0", "in_port=p1,mpls,mpls_label=100");
  ASSERT_TRUE(t.has_value()) << t.error().message;
  SCOPED_TRACE(*t);
  banner = t->find("the packet is parsed again");
  ASSERT_NE(banner, std::string::npos);
  EXPECT_NE(t->find("eth_type(0x0800)", banner), std::string::npos);
  EXPECT_NE(t->find("br0: table 1: no match", banner), std::string::npos);
  EXPECT_TRUE(t->ends_with("Datapath actions: drop\n"));
}

class SwitchRecircGcTest : public SwitchTest {
 protected:
  void SetUp() override {
    opts_.recirc_grace_ms = 0;
    SwitchTest::SetUp();
  }
};

TEST_F(SwitchRecircGcTest, StatesGoWithTheirMegaflowsAndAreNotReused) {
  AddPopMplsRules();
  auto ip = UdpFrame(1, 2, 1000);
  auto mpls = MplsFrame(ip);
  ASSERT_TRUE(Port("p1")->Inject(mpls.data(), mpls.size()));
  EXPECT_EQ(Egress(1), std::make_pair(size_t{1}, size_t{0}));
  ASSERT_EQ(sw_->TrackedCount(), 2u);
  EXPECT_EQ(sw_->RecircStateCount(), 1u);
  auto ids = DpRecircIds();
  ASSERT_EQ(ids.size(), 1u);
  uint32_t old_id = ids[0];

  // A stats pass keeps what installed megaflows name.
  ASSERT_TRUE(sw_->DumpFlowsText("br0").has_value());
  EXPECT_EQ(sw_->RecircStateCount(), 1u);

  // The megaflows go (as on idle expiry): the next stats pass forgets them and the state.
  dp_->FlowFlush();
  ASSERT_TRUE(sw_->DumpFlowsText("br0").has_value());
  EXPECT_EQ(sw_->TrackedCount(), 0u);
  EXPECT_EQ(sw_->RecircStateCount(), 0u);
  EXPECT_EQ(sw_->counters().recirc_states_dropped, 1u);

  // A packet that was between its passes meanwhile: its state is gone, it is dropped and
  // counted.
  dp::Upcall u;
  u.packet = rte_pktmbuf_alloc(dp_->pool());
  ASSERT_NE(u.packet, nullptr);
  char* p = rte_pktmbuf_append(u.packet, static_cast<uint16_t>(ip.size()));
  ASSERT_NE(p, nullptr);
  std::memcpy(p, ip.data(), ip.size());
  u.packet->port = 1;
  u.key.Clear();
  u.key.in_port = 1;
  u.key.recirc_id = old_id;
  dp::ParsePacket(ip.data(), static_cast<uint32_t>(ip.size()), &u.key);
  uint64_t xlates = sw_->counters().xlates;
  sw_->HandleUpcall(u);
  EXPECT_EQ(sw_->counters().upcall_recirc_missing, 1u);
  EXPECT_EQ(sw_->counters().xlates, xlates);
  EXPECT_EQ(sw_->TrackedCount(), 0u);
  EXPECT_EQ(Egress(1, 100), std::make_pair(size_t{0}, size_t{0}));
  EXPECT_NE(sw_->CoverageText().find("upcall_recirc_missing        1"), std::string::npos);

  // The same translation again gets a new id.
  ASSERT_TRUE(Port("p1")->Inject(mpls.data(), mpls.size()));
  EXPECT_EQ(Egress(1), std::make_pair(size_t{1}, size_t{0}));
  ids = DpRecircIds();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_NE(ids[0], old_id);
  EXPECT_EQ(sw_->RecircStateCount(), 1u);
  EXPECT_TRUE(sw_->VerifyMegaflows().empty());
}

}  // namespace
}  // namespace sluice::ofp
