// The dpif contract (datapath/dpif.h) as a typed test suite, run against every implementation:
// DpifNetdev in datapath_tests, InMemoryDpif in ofproto_tests. A `Factory` has
//   static std::unique_ptr<dp::Dpif> Make();
// and makes a datapath whose ports of type "dummy" need nothing outside the process.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "datapath/dpif.h"

namespace sluice::dp::contract {

inline std::vector<uint8_t> Frame(uint8_t dst_last, uint8_t src_last) {
  std::vector<uint8_t> f(60, 0);
  f[5] = dst_last;
  f[11] = src_last;
  f[12] = 0x08;  // IPv4
  f[13] = 0x00;
  f[14] = 0x45;
  f[17] = 46;  // total length
  f[22] = 64;  // ttl
  f[23] = 17;  // udp
  return f;
}

// A megaflow on in_port and eth_dst.
inline std::pair<FlowKey, FlowMask> Megaflow(OdpPort in_port, uint32_t n) {
  FlowKey k;
  FlowMask m;
  k.Clear();
  m.Clear();
  k.in_port = in_port;
  m.bits.in_port = 0xffffffff;
  m.bits.recirc_id = 0xffffffff;
  k.eth_dst = {
      0x02, 0, static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n),
      1};
  m.bits.eth_dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return {k, m};
}

struct Handed {
  std::vector<std::pair<ActUserspace, std::vector<uint8_t>>> userspace;
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> recirc;
};

class CollectingSink final : public ExecuteSink {
 public:
  explicit CollectingSink(Handed& h) : h_(h) {}
  void Userspace(const ActUserspace& a, DpPacket p) override {
    h_.userspace.emplace_back(a, p.Bytes());
  }
  void Recirc(uint32_t id, DpPacket p) override { h_.recirc.emplace_back(id, p.Bytes()); }

 private:
  Handed& h_;
};

template <class Factory>
class DpifContractTest : public ::testing::Test {
 protected:
  void SetUp() override { dpif_ = Factory::Make(); }
  void TearDown() override { dpif_.reset(); }
  OdpPort AddPort(const std::string& name, OdpPort requested = 0) {
    PortSpec spec;
    spec.name = name;
    spec.type = "dummy";
    auto r = dpif_->PortAdd(spec, requested);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? *r : kOdpPortNone;
  }
  std::unique_ptr<Dpif> dpif_;
};

TYPED_TEST_SUITE_P(DpifContractTest);

TYPED_TEST_P(DpifContractTest, PortsAreAddedQueriedAndDeleted) {
  Dpif& d = *this->dpif_;
  OdpPort a = this->AddPort("pa");
  EXPECT_EQ(a, 1u);  // the lowest free number from 1
  OdpPort b = this->AddPort("pb", 7);
  EXPECT_EQ(b, 7u);
  PortSpec dup;
  dup.name = "pa";
  dup.type = "dummy";
  EXPECT_EQ(d.PortAdd(dup).error().code, Errc::kExists);
  dup.name = "pc";
  EXPECT_EQ(d.PortAdd(dup, 7).error().code, Errc::kExists);
  EXPECT_EQ(d.PortAdd(dup, d.Limits().max_ports).error().code, Errc::kInvalid);
  auto q = d.PortQuery(b);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->name, "pb");
  EXPECT_EQ(q->type, "dummy");
  auto byname = d.PortQueryByName("pa");
  ASSERT_TRUE(byname.has_value());
  EXPECT_EQ(byname->port_no, a);
  EXPECT_EQ(d.PortDump().size(), 2u);
  ASSERT_TRUE(d.PortDel(a).has_value());
  EXPECT_EQ(d.PortQuery(a).error().code, Errc::kNotFound);
  EXPECT_EQ(d.PortQueryByName("pa").error().code, Errc::kNotFound);
  EXPECT_EQ(d.PortDel(a).error().code, Errc::kNotFound);
  EXPECT_EQ(d.PortDump().size(), 1u);
}

TYPED_TEST_P(DpifContractTest, FlowsArePutModifiedReadAndDeleted) {
  Dpif& d = *this->dpif_;
  OdpPort p = this->AddPort("pa");
  auto [k, m] = Megaflow(p, 1);
  ActionBuilder out1, out2;
  out1.Output(p);
  out2.Output(p);
  out2.Output(p);
  EXPECT_EQ(d.FlowPut(k, m, out1.view(), kFlowModify).error().code, Errc::kNotFound);
  ASSERT_TRUE(d.FlowPut(k, m, out1.view(), kFlowCreate).has_value());
  EXPECT_EQ(d.FlowPut(k, m, out1.view(), kFlowCreate).error().code, Errc::kExists);
  EXPECT_GE(d.FlowCount(), 1u);
  auto got = d.FlowGet(k, m);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].actions.size(), out1.size());
  EXPECT_EQ(got[0].key.in_port, p);
  ASSERT_TRUE(d.FlowPut(k, m, out2.view(), kFlowModify).has_value());
  for (const auto& f : d.FlowGet(k, m)) EXPECT_EQ(f.actions.size(), out2.size());
  auto st = d.FlowStats(k, m);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->packets, 0u);
  EXPECT_EQ(st->used_ms, 0);
  // An unmasked key finds the same flow.
  FlowKey unmasked = k;
  unmasked.eth_src = {1, 2, 3, 4, 5, 6};
  EXPECT_FALSE(d.FlowGet(unmasked, m).empty());
  ASSERT_TRUE(d.FlowDel(k, m).has_value());
  EXPECT_EQ(d.FlowDel(k, m).error().code, Errc::kNotFound);
  EXPECT_TRUE(d.FlowGet(k, m).empty());
  EXPECT_EQ(d.FlowStats(k, m).error().code, Errc::kNotFound);
  EXPECT_EQ(d.FlowCount(), 0u);
}

// The dump is a cursor: batches of any size give every flow once, and flows deleted or added
// meanwhile do not make it skip or repeat the others.
TYPED_TEST_P(DpifContractTest, FlowDumpReturnsEveryFlowOnceAcrossBatches) {
  Dpif& d = *this->dpif_;
  OdpPort p = this->AddPort("pa");
  ActionBuilder out;
  out.Output(p);
  constexpr uint32_t kFlows = 2500;
  for (uint32_t i = 0; i < kFlows; ++i) {
    auto [k, m] = Megaflow(p, i);
    ASSERT_TRUE(d.FlowPut(k, m, out.view(), kFlowCreate).has_value()) << i;
  }
  const size_t per_flow = d.FlowCount() / kFlows;  // copies per datapath thread
  ASSERT_GE(per_flow, 1u);
  auto dump = d.FlowDumpStart();
  std::map<std::pair<unsigned, uint32_t>, int> seen;  // (thread, flow) -> times
  std::vector<DpifFlow> batch;
  size_t batches = 0;
  bool changed = false;
  while (true) {
    batch.clear();
    size_t n = dump->Next(batch, 97);
    if (n == 0) break;
    ASSERT_LE(n, 97u);
    ASSERT_EQ(batch.size(), n);
    ++batches;
    for (const auto& f : batch) {
      uint32_t id =
          static_cast<uint32_t>(f.key.eth_dst[2]) << 16 | f.key.eth_dst[3] << 8 | f.key.eth_dst[4];
      ++seen[{f.pmd, id}];
      EXPECT_FALSE(f.actions.size() == 0);
    }
    if (batches == 3 && !changed) {
      // Flows 0..99 go and 10000.. arrive in the middle of the dump.
      for (uint32_t i = 0; i < 100; ++i) {
        auto [k, m] = Megaflow(p, i);
        ASSERT_TRUE(d.FlowDel(k, m).has_value());
      }
      for (uint32_t i = 10000; i < 10050; ++i) {
        auto [k, m] = Megaflow(p, i);
        ASSERT_TRUE(d.FlowPut(k, m, out.view(), kFlowCreate).has_value());
      }
      changed = true;
    }
  }
  EXPECT_GT(batches, kFlows * per_flow / 97);
  for (const auto& [key, times] : seen) EXPECT_EQ(times, 1) << "flow " << key.second;
  // Every flow present for the whole dump was returned.
  std::set<uint32_t> ids;
  for (const auto& [key, times] : seen) ids.insert(key.second);
  for (uint32_t i = 100; i < kFlows; ++i) EXPECT_TRUE(ids.count(i)) << "flow " << i << " missed";
  // Without actions.
  FlowDumpOptions opts;
  opts.actions = false;
  auto bare = d.FlowDumpStart(opts);
  batch.clear();
  ASSERT_GT(bare->Next(batch, 10), 0u);
  EXPECT_EQ(batch[0].actions.size(), 0u);
}

TYPED_TEST_P(DpifContractTest, ExecuteRunsActionsAndHandsBackUserspaceAndRecirc) {
  Dpif& d = *this->dpif_;
  OdpPort p = this->AddPort("pa");
  const auto frame = Frame(2, 1);
  auto pkt = d.PacketFromBytes(frame, p);
  ASSERT_TRUE(pkt.has_value());
  EXPECT_EQ(pkt->size(), frame.size());
  EXPECT_EQ(pkt->in_port(), p);
  EXPECT_EQ(pkt->Bytes(), frame);
  EXPECT_EQ(pkt->Bytes(14), std::vector<uint8_t>(frame.begin(), frame.begin() + 14));
  ActionBuilder acts;
  acts.PushVlan(htons(0x8100), htons(0x1000 | 42));
  acts.Userspace(5, 9);
  acts.Output(p);
  acts.Recirc(77);
  Handed h;
  CollectingSink sink(h);
  const uint64_t tx0 = d.PortQuery(p)->stats.tx_packets;
  d.Execute(std::move(*pkt), acts.view(), &sink);
  ASSERT_EQ(h.userspace.size(), 1u);
  EXPECT_EQ(h.userspace[0].first.pid, 5u);
  EXPECT_EQ(h.userspace[0].first.cookie, 9u);
  ASSERT_EQ(h.userspace[0].second.size(), frame.size() + 4);
  EXPECT_EQ(h.userspace[0].second[12], 0x81);  // tagged
  EXPECT_EQ(h.userspace[0].second[15], 42);
  ASSERT_EQ(h.recirc.size(), 1u);
  EXPECT_EQ(h.recirc[0].first, 77u);
  EXPECT_EQ(h.recirc[0].second, h.userspace[0].second);
  EXPECT_EQ(d.PortQuery(p)->stats.tx_packets, tx0 + 1);

  // Trace mode: nothing leaves, userspace copies are discarded, recirc() still comes back.
  Handed t;
  CollectingSink tsink(t);
  auto pkt2 = d.PacketFromBytes(frame, p);
  ASSERT_TRUE(pkt2.has_value());
  d.Execute(std::move(*pkt2), acts.view(), &tsink, ExecuteMode::kTrace);
  EXPECT_TRUE(t.userspace.empty());
  ASSERT_EQ(t.recirc.size(), 1u);
  EXPECT_EQ(t.recirc[0].second.size(), frame.size() + 4);
  EXPECT_EQ(d.PortQuery(p)->stats.tx_packets, tx0 + 1);

  // Without a sink what would be handed back is dropped.
  auto pkt3 = d.PacketFromBytes(frame, p);
  ASSERT_TRUE(pkt3.has_value());
  d.Execute(std::move(*pkt3), acts.view(), nullptr);
  EXPECT_EQ(d.PortQuery(p)->stats.tx_packets, tx0 + 2);
}

TYPED_TEST_P(DpifContractTest, MetersAreSetReadAndDeleted) {
  Dpif& d = *this->dpif_;
  ASSERT_GT(d.Limits().max_meters, 1u);
  MeterConfig cfg;
  cfg.pktps = true;
  cfg.bands.push_back(MeterBandConfig{MeterBandKind::kDrop, 0, 10, 5});
  ASSERT_TRUE(d.MeterSet(1, cfg).has_value());
  auto st = d.MeterStats(1);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->bands.size(), 1u);
  EXPECT_EQ(st->in.packets, 0u);
  EXPECT_FALSE(d.MeterSet(d.Limits().max_meters, cfg).has_value());
  ASSERT_TRUE(d.MeterDel(1).has_value());
  EXPECT_FALSE(d.MeterStats(1).has_value());
  EXPECT_FALSE(d.MeterDel(1).has_value());
}

TYPED_TEST_P(DpifContractTest, LimitsAndSinkReplacement) {
  Dpif& d = *this->dpif_;
  DpifLimits l = d.Limits();
  EXPECT_GT(l.max_recirc_depth, 0u);
  EXPECT_GT(l.max_flows, 0u);
  EXPECT_GT(l.max_ports, 1u);
  EXPECT_FALSE(d.Info().type.empty());
  struct NullSink final : UpcallSink {
    void HandleUpcall(Upcall&) override {}
  } sink;
  d.SetUpcallSink(&sink);
  d.SetUpcallSink(nullptr);  // returns: the sink is out of use
  d.Synchronize();
}

REGISTER_TYPED_TEST_SUITE_P(DpifContractTest, PortsAreAddedQueriedAndDeleted,
                            FlowsArePutModifiedReadAndDeleted,
                            FlowDumpReturnsEveryFlowOnceAcrossBatches,
                            ExecuteRunsActionsAndHandsBackUserspaceAndRecirc,
                            MetersAreSetReadAndDeleted, LimitsAndSinkReplacement);

}  // namespace sluice::dp::contract
