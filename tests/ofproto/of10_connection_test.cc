// An Ofproto bridge over its management socket, with clients that negotiate OpenFlow 1.0 or 1.3:
// version negotiation (plain and bitmap HELLOs), the 1.0 features reply with the ports inline,
// 1.0 flow-mods and stats through the same switch logic (a 1.0 MODIFY that matches nothing
// adds, 1.0 flow stats leave out flows 1.0 cannot describe), off-version messages, and the
// TABLE_FEATURES, QUEUE_GET_CONFIG and queue statistics answers.
#include <unistd.h>

#include <gtest/gtest.h>

#include "ofproto/ofproto.h"

namespace sluice::ofp {
namespace {

class VersionedClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = "/tmp/sluice-of10-test-" + std::to_string(getpid()) + ".mgmt";
    br_ = std::make_unique<Ofproto>(io_, "br0", 0xabc);
    ASSERT_TRUE(br_->connmgr().AddListener("punix:" + path_));
    std::vector<OfPort> ports(2);
    ports[0].desc.port_no = 1;
    ports[0].desc.name = "p1";
    ports[1].desc.port_no = 2;
    ports[1].desc.name = "p2";
    br_->SetPorts(ports);
  }

  // Connects and sends `hello`; returns the switch's HELLO.
  std::optional<Message> Connect(const Bytes& hello) {
    auto s = ConnectStream(io_, "unix:" + path_);
    EXPECT_TRUE(s.has_value());
    if (!s) return std::nullopt;
    sock_ = std::make_unique<StreamSocket>(std::move(*s));
    sock_->non_blocking(true);
    SendRaw(hello);
    return Recv();
  }

  void SendRaw(const Bytes& bytes) {
    sock_->non_blocking(false);
    asio::write(*sock_, asio::buffer(bytes));
    sock_->non_blocking(true);
  }

  void Send(uint8_t version, MessageBody body, uint32_t xid = 7) {
    auto bytes = EncodeMessage(Message{version, xid, std::move(body)});
    ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
    SendRaw(*bytes);
  }

  std::optional<Message> Recv(int ms = 2000) {
    for (int i = 0; i < ms; ++i) {
      auto next = splitter_.Next();
      if (next && *next) {
        last_raw_.assign((*next)->begin(), (*next)->end());
        auto m = DecodeMessage(**next);
        if (m) return *m;
        ADD_FAILURE() << "undecodable message: " << m.error().detail;
        return std::nullopt;
      }
      io_.run_for(std::chrono::milliseconds(1));
      uint8_t buf[65536];
      std::error_code ec;
      size_t n = sock_->read_some(asio::buffer(buf), ec);
      if (!ec && n) splitter_.Feed(ByteSpan(buf, n));
    }
    return std::nullopt;
  }

  template <class T>
  T RecvAs(uint8_t version) {
    auto m = Recv();
    EXPECT_TRUE(m.has_value());
    if (!m || !std::holds_alternative<T>(m->body)) {
      ADD_FAILURE() << "unexpected message type " << (m ? static_cast<int>(TypeOf(m->body)) : -1);
      return T{};
    }
    EXPECT_EQ(m->version, version);
    return std::get<T>(m->body);
  }

  void ExpectError(uint8_t version, uint16_t type, uint16_t code) {
    auto err = RecvAs<ErrorMsg>(version);
    EXPECT_EQ(err.type, type);
    EXPECT_EQ(err.code, code);
  }

  asio::io_context io_;
  std::string path_;
  std::unique_ptr<Ofproto> br_;
  std::unique_ptr<StreamSocket> sock_;
  MessageSplitter splitter_;
  Bytes last_raw_;
};

const Bytes kHello10 = {1, 0, 0, 8, 0, 0, 0, 1};

TEST_F(VersionedClientTest, OneZeroPeerGetsFeaturesWithPortsAndFlows) {
  auto hello = Connect(kHello10);
  ASSERT_TRUE(hello.has_value());
  // The switch offers 1.0 and 1.3 in its bitmap, with 1.3 in the header.
  EXPECT_EQ(hello->version, kOfp13);
  EXPECT_EQ(std::get<Hello>(hello->body).versions, VersionBit(kOfp10) | VersionBit(kOfp13));

  Send(kOfp10, FeaturesRequest{}, 3);
  auto f = RecvAs<FeaturesReply>(kOfp10);
  EXPECT_EQ(f.datapath_id, 0xabcu);
  EXPECT_EQ(f.n_tables, 254);
  ASSERT_EQ(f.ports.size(), 3u);
  EXPECT_EQ(f.ports[0].name, "p1");
  EXPECT_EQ(f.ports[2].port_no, kPortLocal);
  EXPECT_EQ(last_raw_[1], 6);  // OFPT_FEATURES_REPLY in 1.0
  EXPECT_EQ(last_raw_.size(), 8u + 24 + 3 * 48);

  FlowMod fm;
  fm.priority = 100;
  fm.match.Set(OxmEntry::Exact(OxmField::kInPort, 1));
  fm.instructions = {InstApplyActions{{ActOutput{2, 0}}}};
  Send(kOfp10, fm);
  Send(kOfp10, BarrierRequest{}, 9);
  RecvAs<BarrierReply>(kOfp10);
  Send(kOfp10, MultipartRequest{0, FlowStatsRequest{}});
  auto r = RecvAs<MultipartReply>(kOfp10);
  auto& flows = std::get<FlowStatsReply>(r.body).entries;
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].match, fm.match);
  EXPECT_EQ(flows[0].instructions, fm.instructions);
  EXPECT_EQ(br_->pipeline().TableStatsQuery().entries[0].active_count, 1u);

  // Errors travel in 1.0 codes: the switch buffers nothing (OFPBRC_BUFFER_UNKNOWN, 1/8).
  fm.buffer_id = 5;
  Send(kOfp10, fm);
  ExpectError(kOfp10, 1, 8);
  // Queue configuration: no queues on an existing port, BAD_PORT (5/0) otherwise.
  Send(kOfp10, QueueGetConfigRequest{1});
  auto q = RecvAs<QueueGetConfigReply>(kOfp10);
  EXPECT_EQ(q.port, 1u);
  EXPECT_TRUE(q.queues.empty());
  Send(kOfp10, QueueGetConfigRequest{42});
  ExpectError(kOfp10, 5, 0);
  // Queue statistics: every port has only its default queue 0, with unavailable (all-ones)
  // counters, listed for OFPQ_ALL or queue 0 of all ports (OFPP_ALL in 1.0) or one existing port;
  // a missing port or another queue is an OFPET_QUEUE_OP_FAILED.
  Send(kOfp10, MultipartRequest{0, QueueStatsRequest{kPortAny, kQueueAll}});
  auto qall = std::get<QueueStatsReply>(RecvAs<MultipartReply>(kOfp10).body).entries;
  ASSERT_EQ(qall.size(), 3u);
  EXPECT_EQ(qall[0].port_no, 1u);
  EXPECT_EQ(qall[2].port_no, kPortLocal);
  EXPECT_EQ(qall[1].queue_id, 0u);
  EXPECT_EQ(qall[1].tx_packets, ~uint64_t{0});
  EXPECT_EQ(last_raw_.size(), 12u + 3 * 32);
  EXPECT_EQ(last_raw_[9], 5);  // OFPST_QUEUE
  Send(kOfp10, MultipartRequest{0, QueueStatsRequest{2, 0}});
  auto q2 = std::get<QueueStatsReply>(RecvAs<MultipartReply>(kOfp10).body).entries;
  ASSERT_EQ(q2.size(), 1u);
  EXPECT_EQ(q2[0].port_no, 2u);
  Send(kOfp10, MultipartRequest{0, QueueStatsRequest{42, kQueueAll}});
  ExpectError(kOfp10, 5, 0);  // OFPQOFC_BAD_PORT
  Send(kOfp10, MultipartRequest{0, QueueStatsRequest{1, 5}});
  ExpectError(kOfp10, 5, 1);  // OFPQOFC_BAD_QUEUE
  // A multipart type 1.0 does not have: OFPBRC_BAD_STAT.
  SendRaw(Bytes{1, 16, 0, 12, 0, 0, 0, 1, 0, 13, 0, 0});
  ExpectError(kOfp10, 1, 2);
  // A 1.3 message on a 1.0 connection: OFPBRC_BAD_VERSION, in 1.0.
  Send(kOfp13, BarrierRequest{}, 11);
  ExpectError(kOfp10, 1, 0);
}

TEST_F(VersionedClientTest, BitmapNegotiation) {
  // 1.0 and 1.5 offered: 1.0 is the highest in common.
  auto hello = Connect(Bytes{6, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x42});
  ASSERT_TRUE(hello.has_value());
  Send(kOfp10, EchoRequest{{1}}, 2);
  EXPECT_EQ(RecvAs<EchoReply>(kOfp10).data, Bytes{1});
}

TEST_F(VersionedClientTest, NoCommonVersion) {
  auto hello = Connect(Bytes{6, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x60});
  ASSERT_TRUE(hello.has_value());
  ExpectError(kOfp13, 0, 0);  // OFPHFC_INCOMPATIBLE
}

TEST_F(VersionedClientTest, TableFeaturesAndQueueConfigOverOneThree) {
  ASSERT_TRUE(Connect(Bytes{4, 0, 0, 8, 0, 0, 0, 1}).has_value());
  Send(kOfp13, MultipartRequest{0, TableFeaturesRequest{}}, 5);
  std::vector<TableFeatures> tables;
  int parts = 0;
  while (true) {
    auto r = RecvAs<MultipartReply>(kOfp13);
    ++parts;
    auto* tf = std::get_if<TableFeaturesReply>(&r.body);
    ASSERT_NE(tf, nullptr);
    tables.insert(tables.end(), tf->entries.begin(), tf->entries.end());
    if (!(r.flags & kMultipartMore)) break;
  }
  EXPECT_GT(parts, 1);
  ASSERT_EQ(tables.size(), 254u);
  for (size_t i = 0; i < tables.size(); ++i) EXPECT_EQ(tables[i].table_id, i);

  // Reconfiguring the tables is refused.
  TableFeatures one;
  Send(kOfp13, MultipartRequest{0, TableFeaturesRequest{{one}}}, 6);
  ExpectError(kOfp13, 13, 5);  // OFPTFFC_EPERM

  Send(kOfp13, QueueGetConfigRequest{kPortAny});
  EXPECT_TRUE(RecvAs<QueueGetConfigReply>(kOfp13).queues.empty());
  Send(kOfp13, QueueGetConfigRequest{3});
  ExpectError(kOfp13, 9, 0);  // OFPQOFC_BAD_PORT

  // Queue statistics (OFPMP_QUEUE), answered as Open vSwitch does for ports without QoS.
  Send(kOfp13, MultipartRequest{0, QueueStatsRequest{kPortAny, kQueueAll}}, 12);
  auto all = std::get<QueueStatsReply>(RecvAs<MultipartReply>(kOfp13).body).entries;
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].duration_sec, ~uint32_t{0});
  EXPECT_EQ(last_raw_.size(), 16u + 3 * 40);
  Send(kOfp13, MultipartRequest{0, QueueStatsRequest{kPortLocal, kQueueAll}});
  auto local = std::get<QueueStatsReply>(RecvAs<MultipartReply>(kOfp13).body).entries;
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].port_no, kPortLocal);
  Send(kOfp13, MultipartRequest{0, QueueStatsRequest{3, kQueueAll}});
  ExpectError(kOfp13, 9, 0);  // OFPQOFC_BAD_PORT
  Send(kOfp13, MultipartRequest{0, QueueStatsRequest{kPortAll, kQueueAll}});
  ExpectError(kOfp13, 9, 0);
  Send(kOfp13, MultipartRequest{0, QueueStatsRequest{1, 7}});
  ExpectError(kOfp13, 9, 1);  // OFPQOFC_BAD_QUEUE
  Send(kOfp13, MultipartRequest{0, QueueStatsRequest{kPortAny, 7}});
  ExpectError(kOfp13, 9, 1);
}

TEST_F(VersionedClientTest, OneZeroModifyAddsAndFlowStatsLeaveOutWhatOneZeroCannotSay) {
  ASSERT_TRUE(Connect(kHello10).has_value());
  // MODIFY and MODIFY_STRICT matching no flow add it in OpenFlow 1.0.
  FlowMod fm;
  fm.command = FlowModCommand::kModify;
  fm.priority = 50;
  fm.cookie = 0x11;
  fm.match.Set(OxmEntry::Exact(OxmField::kInPort, 1));
  fm.instructions = {InstApplyActions{{ActOutput{2, 0}}}};
  Send(kOfp10, fm);
  FlowMod strict = fm;
  strict.command = FlowModCommand::kModifyStrict;
  strict.priority = 60;
  strict.match = Match{};
  strict.match.Set(OxmEntry::Exact(OxmField::kInPort, 2));
  Send(kOfp10, strict);
  Send(kOfp10, BarrierRequest{}, 9);
  RecvAs<BarrierReply>(kOfp10);
  Send(kOfp10, MultipartRequest{0, FlowStatsRequest{}});
  auto flows = std::get<FlowStatsReply>(RecvAs<MultipartReply>(kOfp10).body).entries;
  auto find = [&flows](uint16_t prio) -> const FlowStats* {
    for (const auto& f : flows) {
      if (f.priority == prio) return &f;
    }
    return nullptr;
  };
  ASSERT_EQ(flows.size(), 2u);
  ASSERT_NE(find(60), nullptr);
  ASSERT_NE(find(50), nullptr);
  EXPECT_EQ(find(50)->cookie, 0x11u);
  EXPECT_EQ(find(50)->match, fm.match);
  // Now it matches: the actions change, no second flow.
  fm.instructions = {InstApplyActions{{ActOutput{kPortLocal, 0}}}};
  Send(kOfp10, fm);
  Send(kOfp10, MultipartRequest{0, FlowStatsRequest{}});
  flows = std::get<FlowStatsReply>(RecvAs<MultipartReply>(kOfp10).body).entries;
  ASSERT_EQ(flows.size(), 2u);
  ASSERT_NE(find(50), nullptr);
  EXPECT_EQ(find(50)->instructions, fm.instructions);

  // Flows only 1.3 can describe (goto-table, an IPv6 match) are left out of 1.0 flow stats.
  FlowMod goto13;
  goto13.priority = 70;
  goto13.instructions = {InstGotoTable{1}};
  ASSERT_TRUE(br_->mutable_pipeline().ApplyFlowMod(goto13, 0).has_value());
  FlowMod v6;
  v6.priority = 80;
  v6.match.Set(OxmEntry::Exact(OxmField::kEthType, 0x86dd));
  v6.match.Set(OxmEntry::Exact(OxmField::kIpProto, 6));
  uint8_t addr[16] = {0x20, 0x01, 0x0d, 0xb8};
  v6.match.Set(OxmEntry::FromBytes(OxmField::kIpv6Src, ByteSpan(addr, 16)));
  v6.instructions = {InstApplyActions{{ActOutput{1, 0}}}};
  ASSERT_TRUE(br_->mutable_pipeline().ApplyFlowMod(v6, 0).has_value());
  FlowStats v6_stats;
  v6_stats.match = v6.match;
  EXPECT_FALSE(Of10CanDescribe(v6_stats).has_value());
  Send(kOfp10, MultipartRequest{0, FlowStatsRequest{}});
  flows = std::get<FlowStatsReply>(RecvAs<MultipartReply>(kOfp10).body).entries;
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_NE(find(60), nullptr);
  EXPECT_NE(find(50), nullptr);
  // The 1.3 view has all four.
  splitter_ = MessageSplitter{};
  ASSERT_TRUE(Connect(Bytes{4, 0, 0, 8, 0, 0, 0, 1}).has_value());
  Send(kOfp13, MultipartRequest{0, FlowStatsRequest{}});
  EXPECT_EQ(std::get<FlowStatsReply>(RecvAs<MultipartReply>(kOfp13).body).entries.size(), 4u);
  // A 1.3 MODIFY matching nothing changes nothing.
  FlowMod m13;
  m13.command = FlowModCommand::kModifyStrict;
  m13.priority = 99;
  m13.instructions = {InstApplyActions{{ActOutput{1, 0}}}};
  Send(kOfp13, m13);
  Send(kOfp13, BarrierRequest{}, 9);
  RecvAs<BarrierReply>(kOfp13);
  EXPECT_EQ(br_->pipeline().TableStatsQuery().entries[0].active_count, 4u);
}

}  // namespace
}  // namespace sluice::ofp
