// The common part of the ofproto-dpif test fixtures: a bridge br0 (fail mode secure) with
// ports p1, p2, p3 (OpenFlow and datapath ports 1, 2, 3) on some Dpif, and an OpenFlow 1.3
// management connection to it. The in-memory datapath (ofproto_tests) and the DPDK one with its
// PMD threads (ofproto_dpif_netdev_tests) derive from it and say how packets get in and out.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/jsonrpc.h"
#include "datapath/dpif.h"
#include "ofproto/codec/messages.h"
#include "ofproto/dpif/ofproto_dpif.h"

namespace sluice::ofp::test {

inline std::vector<uint8_t> UdpFrame(uint8_t src_host, uint8_t dst_host, uint16_t sport) {
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

class OfprotoDpifHarness : public ::testing::Test {
 protected:
  // The datapath under test, with dummy-like ports named p1..p3 numbered 1..3.
  virtual dp::Dpif& dpif() = 0;
  // A packet arrives on port `port`.
  virtual void Inject(const char* port, const std::vector<uint8_t>& frame) = 0;
  // What left port `port` since the last call.
  virtual std::vector<std::vector<uint8_t>> TakeTx(const char* port) = 0;

  // Datapath ports p1..p3 (numbers 1..3) of type "dummy".
  void AddDummyPorts() {
    for (const char* n : {"p1", "p2", "p3"}) {
      dp::PortSpec spec;
      spec.name = n;
      spec.type = "dummy";
      auto no = dpif().PortAdd(spec);
      ASSERT_TRUE(no.has_value()) << no.error().message;
    }
  }
  // Creates ofproto-dpif on dpif(), bridge br0 with p1..p3, and the management connection.
  void StartBridge() {
    rundir_ = "/tmp/sluice-ofproto-dpif-test-" + std::to_string(getpid());
    ::mkdir(rundir_.c_str(), 0755);
    ofproto_ = std::make_unique<OfprotoDpif>(io_, dpif(), rundir_, opts_);
    ASSERT_TRUE(ofproto_->AddBridge("br0", 0x1, /*secure=*/true).has_value());
    for (uint32_t i = 1; i <= 3; ++i) {
      BridgePortSpec p;
      p.name = "p" + std::to_string(i);
      p.ofport = i;
      p.dp_port = i;
      ASSERT_TRUE(ofproto_->AddPort("br0", p).has_value());
    }
    auto s = ConnectStream(io_, "unix:" + rundir_ + "/br0.mgmt");
    ASSERT_TRUE(s.has_value());
    sock_ = std::make_unique<StreamSocket>(std::move(*s));
    sock_->non_blocking(true);
    Send(Hello{VersionBit(kOfp13)});
    auto hello = Recv();
    ASSERT_TRUE(hello && std::holds_alternative<Hello>(hello->body));
  }
  void StopBridge() {
    sock_.reset();
    ofproto_.reset();
    std::string cmd = "rm -rf " + rundir_;
    (void)std::system(cmd.c_str());
  }
  // Every megaflow of the datapath.
  std::vector<dp::DpifFlow> DumpFlows() {
    std::vector<dp::DpifFlow> out;
    auto dump = dpif().FlowDumpStart();
    while (dump->Next(out, 64) != 0) {
    }
    return out;
  }

  void Send(MessageBody body, uint32_t xid = 7) {
    auto bytes = EncodeMessage(Message{kOfp13, xid, std::move(body)});
    ASSERT_TRUE(bytes.has_value());
    sock_->non_blocking(false);
    asio::write(*sock_, asio::buffer(*bytes));
    sock_->non_blocking(true);
  }
  // The waits below return as soon as what they wait for is there; their bounds are generous so
  // that a loaded machine (the ASan build, CI with other jobs) does not fail them: a barrier
  // waits for every PMD to pass a quiescent point, and a starved PMD can take seconds.
  std::optional<Message> Recv(int ms = 30000) {
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
  // Waits for the frame whose UDP source port is `sport` on p2 or p3; returns (on p2, on p3),
  // ignoring other frames.
  std::pair<size_t, size_t> ProbeEgress(uint16_t sport, int ms = 15000) {
    size_t a = 0, b = 0;
    auto is_probe = [&](const std::vector<uint8_t>& f) {
      return f.size() >= 36 && f[34] == (sport >> 8) && f[35] == (sport & 0xff);
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (a + b == 0 && std::chrono::steady_clock::now() < deadline) {
      for (const auto& f : TakeTx("p2")) a += is_probe(f);
      for (const auto& f : TakeTx("p3")) b += is_probe(f);
      if (a + b == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    // Anything else belonging to the probe that is still on its way.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    for (const auto& f : TakeTx("p2")) a += is_probe(f);
    for (const auto& f : TakeTx("p3")) b += is_probe(f);
    return {a, b};
  }
  // Waits for frames on p2/p3; returns how many arrived on each.
  std::pair<size_t, size_t> Egress(size_t want, int ms = 10000) {
    size_t a = 0, b = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (a + b < want && std::chrono::steady_clock::now() < deadline) {
      a += TakeTx("p2").size();
      b += TakeTx("p3").size();
      if (a + b < want) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return {a, b};
  }

  // The case both datapaths must pass: a miss installs one megaflow, the following packets hit
  // it without an upcall, and its counters reach the rule.
  void MissInstallsMegaflowAndLaterPacketsStayInTheDatapath() {
    Send(Flow(1, 2));
    Barrier();
    auto f = UdpFrame(1, 2, 1000);
    Inject("p1", f);
    EXPECT_EQ(Egress(1), std::make_pair(size_t{1}, size_t{0}));
    EXPECT_EQ(ofproto_->TrackedCount(), 1u);
    for (int i = 0; i < 10; ++i) Inject("p1", f);
    EXPECT_EQ(Egress(10), std::make_pair(size_t{10}, size_t{0}));
    EXPECT_EQ(ofproto_->counters().upcalls, 1u);  // one miss, the rest hit the megaflow
    // The counters reach the rule.
    Send(MultipartRequest{0, FlowStatsRequest{}});
    auto m = Recv();
    ASSERT_TRUE(m && std::holds_alternative<MultipartReply>(m->body));
    auto& fs = std::get<FlowStatsReply>(std::get<MultipartReply>(m->body).body);
    ASSERT_EQ(fs.entries.size(), 1u);
    EXPECT_EQ(fs.entries[0].packet_count, 11u);
    EXPECT_TRUE(ofproto_->VerifyMegaflows().empty());
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
    for (const auto& e : DumpFlows()) {
      if (e.key.recirc_id) ids.push_back(e.key.recirc_id);
    }
    return ids;
  }

  OfprotoDpifOptions opts_;
  asio::io_context io_;
  std::string rundir_;
  std::unique_ptr<OfprotoDpif> ofproto_;
  std::unique_ptr<StreamSocket> sock_;
  MessageSplitter splitter_;
};

}  // namespace sluice::ofp::test
