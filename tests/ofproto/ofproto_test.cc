// An Ofproto bridge driven over its management socket by a client speaking OpenFlow 1.3 through
// the codec: negotiation, flow/group/meter mods with their errors, stats, roles, timeouts and
// FLOW_REMOVED.
#include "ofproto/ofproto.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "common/clock.h"

namespace sluice::ofp {
namespace {

class OfprotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = "/tmp/sluice-ofproto-test-" + std::to_string(getpid()) + ".mgmt";
    br_ = std::make_unique<Ofproto>(io_, "br0", 0xabc);
    ASSERT_TRUE(br_->connmgr().AddListener("punix:" + path_));
    std::vector<OfPort> ports(2);
    ports[0].desc.port_no = 1;
    ports[0].desc.name = "p1";
    ports[1].desc.port_no = 2;
    ports[1].desc.name = "p2";
    br_->SetPorts(ports);
    auto s = ConnectStream(io_, "unix:" + path_);
    ASSERT_TRUE(s.has_value());
    sock_ = std::make_unique<StreamSocket>(std::move(*s));
    sock_->non_blocking(true);
    Send(Hello{VersionBit(kOfp13)});
    auto hello = Recv();
    ASSERT_TRUE(hello && std::holds_alternative<Hello>(hello->body));
  }

  void Send(MessageBody body, uint32_t xid = 7) {
    auto bytes = EncodeMessage(Message{kOfp13, xid, std::move(body)});
    ASSERT_TRUE(bytes.has_value());
    sock_->non_blocking(false);
    asio::write(*sock_, asio::buffer(*bytes));
    sock_->non_blocking(true);
  }

  // The next message from the switch, running the event loop until it arrives.
  std::optional<Message> Recv(int ms = 2000) {
    for (int i = 0; i < ms; ++i) {
      auto next = splitter_.Next();
      if (next && *next) {
        auto m = DecodeMessage(**next);
        if (m) return *m;
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
  T RecvAs() {
    auto m = Recv();
    EXPECT_TRUE(m.has_value());
    if (!m || !std::holds_alternative<T>(m->body)) {
      ADD_FAILURE() << "unexpected message type " << (m ? static_cast<int>(TypeOf(m->body)) : -1);
      return T{};
    }
    return std::get<T>(m->body);
  }

  ErrorMsg ExpectError(OfpErr e) {
    auto err = RecvAs<ErrorMsg>();
    EXPECT_EQ(err.type, ErrType(e));
    EXPECT_EQ(err.code, ErrCode(e));
    return err;
  }

  FlowMod Flow(uint16_t prio, uint32_t in_port, uint32_t out, uint16_t flags = 0) {
    FlowMod fm;
    fm.priority = prio;
    fm.flags = flags;
    fm.match.Set(OxmEntry::Exact(OxmField::kInPort, in_port));
    fm.instructions.push_back(InstApplyActions{{ActOutput{out, 0}}});
    return fm;
  }

  void Barrier() {
    Send(BarrierRequest{}, 99);
    RecvAs<BarrierReply>();
  }

  std::vector<FlowStats> DumpFlows() {
    Send(MultipartRequest{0, FlowStatsRequest{}});
    auto r = RecvAs<MultipartReply>();
    auto* fs = std::get_if<FlowStatsReply>(&r.body);
    return fs ? fs->entries : std::vector<FlowStats>{};
  }

  asio::io_context io_;
  std::string path_;
  std::unique_ptr<Ofproto> br_;
  std::unique_ptr<StreamSocket> sock_;
  MessageSplitter splitter_;
};

TEST_F(OfprotoTest, FeaturesAndFlowModLifecycle) {
  Send(FeaturesRequest{});
  auto f = RecvAs<FeaturesReply>();
  EXPECT_EQ(f.datapath_id, 0xabcu);
  Send(Flow(100, 1, 2));
  Send(Flow(200, 2, 1));
  Barrier();
  ASSERT_EQ(DumpFlows().size(), 2u);
  // An invalid output port and an unknown group are refused; nothing is installed. (A port
  // number that may exist later is accepted, as Open vSwitch does.)
  Send(Flow(10, 1, 0xffffff50));
  ExpectError(OfpErr::kBadActionBadOutPort);
  FlowMod g = Flow(10, 1, 2);
  g.instructions = {InstApplyActions{{ActGroup{5}}}};
  Send(g);
  ExpectError(OfpErr::kBadActionBadOutGroup);
  EXPECT_EQ(DumpFlows().size(), 2u);
  // Delete-strict removes exactly one.
  FlowMod del = Flow(100, 1, 2);
  del.command = FlowModCommand::kDeleteStrict;
  del.instructions.clear();
  Send(del);
  Barrier();
  auto flows = DumpFlows();
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].priority, 200);
  Send(MultipartRequest{0, TableStatsRequest{}});
  auto ts = RecvAs<MultipartReply>();
  ASSERT_TRUE(std::holds_alternative<TableStatsReply>(ts.body));
  EXPECT_EQ(std::get<TableStatsReply>(ts.body).entries[0].active_count, 1u);
}

TEST_F(OfprotoTest, SetFieldOfWhatTheDatapathCannotRewriteIsRefused) {
  auto with_set = [&](OxmField match_type, uint64_t et, OxmEntry set) {
    FlowMod fm = Flow(10, 1, 2);
    fm.match.Set(OxmEntry::Exact(OxmField::kEthType, et));
    if (match_type != OxmField::kEthType) fm.match.Set(OxmEntry::Exact(match_type, 1));
    fm.instructions = {InstApplyActions{{ActSetField{set}, ActOutput{2, 0}}}};
    return fm;
  };
  // ARP, ICMP and ND rewrites are datapath sets now; the connection lives on after each error.
  Send(with_set(OxmField::kEthType, 0x0806, OxmEntry::Exact(OxmField::kArpOp, 2)));
  Send(with_set(OxmField::kIpProto, 0x0800, OxmEntry::Exact(OxmField::kIcmpv4Type, 0)));
  Barrier();
  EXPECT_EQ(DumpFlows().size(), 2u);
  // eth_type and ip_proto are not header rewrites OVS or Sluice do; no PBB.
  Send(with_set(OxmField::kEthType, 0x0800, OxmEntry::Exact(OxmField::kEthType, 0x86dd)));
  ExpectError(OfpErr::kBadActionBadSetType);
  Send(with_set(OxmField::kEthType, 0x0800, OxmEntry::Exact(OxmField::kIpProto, 17)));
  ExpectError(OfpErr::kBadActionBadSetType);
  // tunnel_id is pipeline metadata (no tunnel ports yet): accepted.
  Send(with_set(OxmField::kEthType, 0x0800, OxmEntry::Exact(OxmField::kTunnelId, 5)));
  Barrier();
  EXPECT_EQ(DumpFlows().size(), 3u);
}

TEST_F(OfprotoTest, MplsActionsAcceptedCopyTtlAndPbbRefused) {
  FlowMod m = Flow(10, 1, 2);
  m.match.Set(OxmEntry::Exact(OxmField::kEthType, 0x8847));
  m.instructions = {
      InstApplyActions{{ActPushMpls{0x8847}, ActPopMpls{0x0800}, ActSetMplsTtl{5}, ActDecMplsTtl{},
                        ActSetField{OxmEntry::Exact(OxmField::kMplsLabel, 7)},
                        ActSetField{OxmEntry::Exact(OxmField::kMplsBos, 1)}, ActOutput{2, 0}}}};
  Send(m);
  Barrier();
  EXPECT_EQ(DumpFlows().size(), 1u);
  // As in Open vSwitch: no copy-TTL and no PBB actions.
  for (Action a : {Action{ActCopyTtlOut{}}, Action{ActCopyTtlIn{}}, Action{ActPushPbb{0x88e7}},
                   Action{ActPopPbb{}}}) {
    FlowMod r = Flow(20, 1, 2);
    r.instructions = {InstApplyActions{{a, ActOutput{2, 0}}}};
    Send(r);
    ExpectError(OfpErr::kBadActionBadType);
  }
  FlowMod bad = Flow(30, 1, 2);
  bad.instructions = {InstApplyActions{{ActPushMpls{0x0800}}}};
  Send(bad);
  ExpectError(OfpErr::kBadActionBadArgument);
  EXPECT_EQ(DumpFlows().size(), 1u);
}

TEST_F(OfprotoTest, DeletingAGroupRemovesItsFlowsWithFlowRemoved) {
  GroupMod gm;
  gm.group_id = 5;
  gm.type = GroupType::kAll;
  gm.buckets.push_back(Bucket{0, kPortAny, kGroupAny, {ActOutput{2, 0}}});
  Send(gm);
  FlowMod fm = Flow(10, 1, 2, kFlowSendFlowRem);
  fm.instructions = {InstApplyActions{{ActGroup{5}}}};
  Send(fm);
  Barrier();
  ASSERT_EQ(DumpFlows().size(), 1u);
  GroupMod del;
  del.command = GroupModCommand::kDelete;
  del.group_id = 5;
  Send(del);
  auto fr = RecvAs<FlowRemoved>();
  EXPECT_EQ(fr.reason, FlowRemovedReason::kGroupDelete);
  EXPECT_EQ(DumpFlows().size(), 0u);
  // Adding the same group twice is an error.
  Send(gm);
  Send(gm);
  ExpectError(OfpErr::kGroupModGroupExists);
}

TEST_F(OfprotoTest, MetersMustExistAndTakeTheirFlowsAlong) {
  FlowMod fm = Flow(10, 1, 2);
  fm.instructions.insert(fm.instructions.begin(), InstMeter{3});
  Send(fm);
  ExpectError(OfpErr::kMeterModUnknownMeter);
  MeterMod mm;
  mm.meter_id = 3;
  mm.flags = kMeterPktps;
  mm.bands.push_back(MeterBand{MeterBandType::kDrop, 1000, 0, 0, 0});
  Send(mm);
  Send(fm);
  Barrier();
  EXPECT_EQ(DumpFlows().size(), 1u);
  Send(MultipartRequest{0, MeterConfigRequest{}});
  auto cfg = RecvAs<MultipartReply>();
  ASSERT_TRUE(std::holds_alternative<MeterConfigReply>(cfg.body));
  MeterMod del;
  del.command = MeterModCommand::kDelete;
  del.meter_id = 3;
  Send(del);
  Barrier();
  EXPECT_EQ(DumpFlows().size(), 0u);
}

TEST_F(OfprotoTest, RolesAndSlaveRestrictions) {
  RoleRequest rr;
  rr.role = ControllerRole::kSlave;
  rr.generation_id = 10;
  Send(rr);
  auto reply = RecvAs<RoleReply>();
  EXPECT_EQ(reply.role, ControllerRole::kSlave);
  Send(Flow(1, 1, 2));
  ExpectError(OfpErr::kBadRequestIsSlave);
  rr.role = ControllerRole::kMaster;
  rr.generation_id = 9;  // older than 10
  Send(rr);
  ExpectError(OfpErr::kRoleRequestStale);
  rr.generation_id = 11;
  Send(rr);
  EXPECT_EQ(RecvAs<RoleReply>().role, ControllerRole::kMaster);
  Send(Flow(1, 1, 2));
  Barrier();
  EXPECT_EQ(DumpFlows().size(), 1u);
}

TEST_F(OfprotoTest, IdleTimeoutExpiresWithFlowRemoved) {
  clock::Stop();
  FlowMod fm = Flow(10, 1, 2, kFlowSendFlowRem);
  fm.idle_timeout = 5;
  Send(fm);
  Barrier();
  clock::Warp(6000);
  auto fr = RecvAs<FlowRemoved>();
  EXPECT_EQ(fr.reason, FlowRemovedReason::kIdleTimeout);
  EXPECT_EQ(DumpFlows().size(), 0u);
}

TEST_F(OfprotoTest, MalformedMessagesGetErrorsAndTheConnectionLives) {
  // A FLOW_MOD whose match length runs past the message.
  Bytes bad = {kOfp13, 14, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  sock_->non_blocking(false);
  asio::write(*sock_, asio::buffer(bad));
  sock_->non_blocking(true);
  auto err = RecvAs<ErrorMsg>();
  EXPECT_NE(err.type, 0);
  Send(EchoRequest{{1, 2, 3}});
  EXPECT_EQ(RecvAs<EchoReply>().data, (Bytes{1, 2, 3}));
}

}  // namespace
}  // namespace sluice::ofp
