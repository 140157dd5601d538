// Controllers as operators configure them: passive targets taking any number of controllers,
// packet-in rate limiting (fairness across ports, statistics), the packet-in queue limit,
// enable_async_messages, primary vs service, active targets' status, and TLS both ways.
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/stream/connect.h"
#include "common/stream/listener.h"
#include "common/tls_util.h"
#include "ofproto/connmgr/pinsched.h"
#include "ofproto/ofproto.h"

namespace sluice::ofp {
namespace {

using test::TestPki;

Message Pin(uint32_t in_port, PacketInReason reason = PacketInReason::kNoMatch) {
  PacketIn pi;
  pi.reason = reason;
  pi.match.Set(OxmEntry::Exact(OxmField::kInPort, in_port));
  pi.data = Bytes(64, 0xab);
  pi.total_len = 64;
  return Message{kOfp13, 0, pi};
}

uint32_t PortOf(const Message& m) {
  return static_cast<uint32_t>(
      std::get<PacketIn>(m.body).match.Find(OxmField::kInPort)->ValueU64());
}

TEST(PacketInSchedulerTest, RateBurstBacklogAndFairness) {
  clock::Stop();
  PacketInScheduler s(100, 25);  // 100 a second, 25 deep
  std::vector<Message> sent;
  auto send = [&](Message&& m) { sent.push_back(std::move(m)); };
  for (int i = 0; i < 25; ++i) s.Submit(1, Pin(1), send);
  EXPECT_EQ(sent.size(), 25u);  // the burst goes straight through
  EXPECT_EQ(s.stats().bypassed, 25u);
  // Port 1 floods, port 2 sends a few: the backlog holds 25, the noisy port loses packets.
  for (int i = 0; i < 40; ++i) s.Submit(1, Pin(1), send);
  for (int i = 0; i < 5; ++i) s.Submit(2, Pin(2), send);
  EXPECT_EQ(sent.size(), 25u);
  EXPECT_EQ(s.stats().queued, 45u);
  EXPECT_EQ(s.stats().dropped, 20u);
  EXPECT_EQ(s.stats().backlog, 25u);
  EXPECT_EQ(s.Run(send), 10);  // no token yet: 10 ms until the next one
  // 100 ms later: 10 packets, alternating between the ports while both have some.
  clock::Warp(100);
  sent.clear();
  EXPECT_GT(s.Run(send), 0);
  ASSERT_EQ(sent.size(), 10u);
  int from2 = 0;
  for (const auto& m : sent) from2 += PortOf(m) == 2;
  EXPECT_EQ(from2, 5);
  EXPECT_EQ(s.stats().backlog, 15u);
  clock::Warp(1000);
  sent.clear();
  EXPECT_EQ(s.Run(send), -1);
  EXPECT_EQ(sent.size(), 15u);
  EXPECT_EQ(s.stats().backlog, 0u);
  // Idle again: the bucket refills up to the burst, never beyond.
  clock::Warp(60000);
  sent.clear();
  for (int i = 0; i < 30; ++i) s.Submit(3, Pin(3), send);
  EXPECT_EQ(sent.size(), 25u);
}

// An OpenFlow client on a stream (plain or TLS), driven by the test's io_context. Its state
// outlives it until the operations in flight have finished.
class Client {
 public:
  Client(asio::io_context& io, StreamPtr s) : io_(io), st_(std::make_shared<State>()) {
    st_->s = std::move(s);
    Read(st_);
  }
  ~Client() { st_->s->Close(); }

  void Send(const Message& m) {
    auto b = EncodeMessage(m);
    ASSERT_TRUE(b);
    WriteAll(st_, std::make_shared<Bytes>(std::move(*b)), 0);
  }
  // The next message, within `ms`.
  std::optional<Message> Recv(int ms = 2000) {
    for (int i = 0; i <= ms; ++i) {
      auto next = st_->splitter.Next();
      if (next && *next) {
        auto m = DecodeMessage(**next);
        if (m) return *m;
        return std::nullopt;
      }
      if (st_->closed) return std::nullopt;
      io_.run_for(std::chrono::milliseconds(1));
    }
    return std::nullopt;
  }
  // Connects (HELLO both ways).
  bool Handshake() {
    Send(Message{kOfp13, 1, ofp::Hello{VersionBit(kOfp13)}});
    auto m = Recv();
    return m && std::holds_alternative<ofp::Hello>(m->body);
  }
  int CountPacketIns(int ms) {
    int n = 0;
    while (auto m = Recv(ms)) n += std::holds_alternative<PacketIn>(m->body);
    return n;
  }
  bool closed() const { return st_->closed; }

 private:
  struct State {
    StreamPtr s;
    std::array<uint8_t, 65536> buf;
    MessageSplitter splitter;
    bool closed = false;
  };
  static void Read(std::shared_ptr<State> st) {
    st->s->AsyncReadSome(st->buf.data(), st->buf.size(), [st](std::error_code ec, size_t n) {
      if (ec) {
        st->closed = true;
        return;
      }
      st->splitter.Feed(ByteSpan(st->buf.data(), n));
      Read(st);
    });
  }
  static void WriteAll(std::shared_ptr<State> st, std::shared_ptr<Bytes> b, size_t off) {
    st->s->AsyncWriteSome(b->data() + off, b->size() - off,
                          [st, b, off](std::error_code ec, size_t n) {
                            if (!ec && off + n < b->size()) WriteAll(st, b, off + n);
                          });
  }

  asio::io_context& io_;
  std::shared_ptr<State> st_;
};

class ConnmgrTest : public ::testing::Test {
 protected:
  void SetUp() override { br_ = std::make_unique<Ofproto>(io_, "br0", 0xabc); }
  void TearDown() override {
    clients_.clear();
    br_.reset();
    io_.run_for(std::chrono::milliseconds(5));
  }

  ControllerStatus Status(const std::string& target) {
    for (auto& s : br_->connmgr().Controllers()) {
      if (s.target == target) return s;
    }
    return {};
  }
  Client& Dial(const std::string& target, std::shared_ptr<TlsConfig> tls = nullptr) {
    ConnectOptions co;
    co.tls = std::move(tls);
    auto s = Connect(io_, target, co);
    EXPECT_TRUE(s) << s.error().message;
    clients_.push_back(std::make_unique<Client>(io_, std::move(*s)));
    return *clients_.back();
  }
  void RunFor(int ms) { io_.run_for(std::chrono::milliseconds(ms)); }

  asio::io_context io_;
  std::unique_ptr<Ofproto> br_;
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(ConnmgrTest, PassiveTargetTakesAnyNumberOfControllers) {
  ControllerOptions o;
  o.target = "ptcp:0:127.0.0.1";
  br_->connmgr().SetControllerOptions({o});
  uint16_t port = br_->connmgr().tcp_port(o.target);
  ASSERT_NE(port, 0);
  EXPECT_EQ(Status(o.target).status["state"], "LISTENING");
  EXPECT_FALSE(br_->connmgr().HasControllers());  // passive targets are service controllers
  std::string target = "tcp:127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(Dial(target).Handshake());
  ASSERT_TRUE(Dial(target).Handshake());
  ASSERT_TRUE(Dial(target).Handshake());
  RunFor(10);
  auto st = Status(o.target);
  EXPECT_TRUE(st.connected);
  EXPECT_EQ(st.status["n_connections"], "3");
  EXPECT_EQ(st.status["bound_port"], std::to_string(port));
  EXPECT_EQ(st.status["state"], "ACTIVE");
  clients_.pop_back();
  for (int i = 0; i < 1000 && Status(o.target).status["n_connections"] != "2"; ++i) RunFor(1);
  EXPECT_EQ(Status(o.target).status["n_connections"], "2");
  // type=primary makes them count for fail mode.
  o.type = ControllerOptions::Type::kPrimary;
  br_->connmgr().SetControllerOptions({o});
  EXPECT_TRUE(br_->connmgr().HasControllers());
  // Removing the target drops its controllers.
  br_->connmgr().SetControllerOptions({});
  for (int i = 0; i < 1000 && !clients_[0]->closed(); ++i) RunFor(1);
  EXPECT_TRUE(clients_[0]->closed());
}

TEST_F(ConnmgrTest, PacketInsAreRateLimitedPerController) {
  clock::Stop();
  ControllerOptions o;
  o.target = "ptcp:0:127.0.0.1";
  o.rate_limit = 100;
  o.burst_limit = 25;
  br_->connmgr().SetControllerOptions({o});
  Client& c = Dial("tcp:127.0.0.1:" + std::to_string(br_->connmgr().tcp_port(o.target)));
  ASSERT_TRUE(c.Handshake());
  RunFor(5);
  for (int i = 0; i < 100; ++i) br_->SendPacketIn(std::get<PacketIn>(Pin(1 + i % 2).body));
  EXPECT_EQ(c.CountPacketIns(50), 25);
  auto st = Status(o.target).status;
  EXPECT_EQ(st["packet-in-miss-bypassed"], "25");
  EXPECT_EQ(st["packet-in-miss-queued"], "75");
  EXPECT_EQ(st["packet-in-miss-dropped"], "50");
  EXPECT_EQ(st["packet-in-miss-backlog"], "25");
  EXPECT_EQ(st["packet-in-action-bypassed"], "0");
  // A tenth of a second later, ten more go out; action packet-ins have their own limit.
  clock::Warp(100);
  EXPECT_EQ(c.CountPacketIns(50), 10);
  br_->SendPacketIn(std::get<PacketIn>(Pin(1, PacketInReason::kAction).body));
  EXPECT_EQ(c.CountPacketIns(20), 1);
  EXPECT_EQ(Status(o.target).status["packet-in-miss-backlog"], "15");
}

TEST_F(ConnmgrTest, QueueSizeBoundsPacketInsWaitingForASlowController) {
  ControllerOptions o;
  o.target = "ptcp:0:127.0.0.1";
  o.queue_size = 10;
  br_->connmgr().SetControllerOptions({o});
  Client& c = Dial("tcp:127.0.0.1:" + std::to_string(br_->connmgr().tcp_port(o.target)));
  ASSERT_TRUE(c.Handshake());
  RunFor(5);
  auto conns = br_->connmgr().Connections();
  ASSERT_EQ(conns.size(), 1u);
  // Sent back to back without the loop running: at most ten wait in the output queue.
  for (int i = 0; i < 1000; ++i) br_->SendPacketIn(std::get<PacketIn>(Pin(1).body));
  EXPECT_EQ(conns[0]->packet_ins_dropped, 990u);
  EXPECT_EQ(c.CountPacketIns(50), 10);
}

TEST_F(ConnmgrTest, EnableAsyncMessagesFalseSendsNothingUntilAsked) {
  ControllerOptions o;
  o.target = "ptcp:0:127.0.0.1";
  o.enable_async_messages = false;
  br_->connmgr().SetControllerOptions({o});
  Client& c = Dial("tcp:127.0.0.1:" + std::to_string(br_->connmgr().tcp_port(o.target)));
  ASSERT_TRUE(c.Handshake());
  RunFor(5);
  br_->SendPacketIn(std::get<PacketIn>(Pin(1).body));
  EXPECT_EQ(c.CountPacketIns(30), 0);
  SetAsync sa;
  static_cast<AsyncConfig&>(sa) = DefaultAsyncConfig();
  c.Send(Message{kOfp13, 5, sa});
  RunFor(10);
  br_->SendPacketIn(std::get<PacketIn>(Pin(1).body));
  EXPECT_EQ(c.CountPacketIns(30), 1);
}

TEST_F(ConnmgrTest, EnableAsyncMessagesChangeReachesConnectedControllers) {
  ControllerOptions o;
  o.target = "ptcp:0:127.0.0.1";
  br_->connmgr().SetControllerOptions({o});
  Client& c = Dial("tcp:127.0.0.1:" + std::to_string(br_->connmgr().tcp_port(o.target)));
  ASSERT_TRUE(c.Handshake());
  RunFor(5);
  br_->SendPacketIn(std::get<PacketIn>(Pin(1).body));
  EXPECT_EQ(c.CountPacketIns(30), 1);
  o.enable_async_messages = false;
  br_->connmgr().SetControllerOptions({o});
  br_->SendPacketIn(std::get<PacketIn>(Pin(1).body));
  EXPECT_EQ(c.CountPacketIns(30), 0);
  o.enable_async_messages = true;
  br_->connmgr().SetControllerOptions({o});
  br_->SendPacketIn(std::get<PacketIn>(Pin(1).body));
  EXPECT_EQ(c.CountPacketIns(30), 1);
  EXPECT_EQ(br_->connmgr().Connections().size(), 1u);  // the same connection throughout
}

TEST_F(ConnmgrTest, ActiveTargetReportsWhyItIsNotConnected) {
  ControllerOptions o;
  o.target = "tcp:127.0.0.1:1";
  o.max_backoff_ms = 2000;
  br_->connmgr().SetControllerOptions({o});
  EXPECT_TRUE(br_->connmgr().HasControllers());
  for (int i = 0; i < 1000 && Status(o.target).status["state"] != "BACKOFF"; ++i) RunFor(1);
  auto st = Status(o.target);
  EXPECT_FALSE(st.connected);
  EXPECT_EQ(st.status["state"], "BACKOFF");
  EXPECT_EQ(st.last_error, "Connection refused");
  EXPECT_EQ(st.status["last_error"], "Connection refused");
}

TEST_F(ConnmgrTest, TlsControllersBothWays) {
  auto switch_tls = std::make_shared<TlsConfig>(TestPki::Get().server.Options());
  br_->connmgr().SetTls(switch_tls);
  auto controller_tls = std::make_shared<TlsConfig>(TestPki::Get().client.Options());
  // Passive: pssl: on the switch, a controller connects with its certificate...
  ControllerOptions p;
  p.target = "pssl:0:127.0.0.1";
  br_->connmgr().SetControllerOptions({p});
  std::string target = "ssl:127.0.0.1:" + std::to_string(br_->connmgr().tcp_port(p.target));
  ASSERT_TRUE(Dial(target, controller_tls).Handshake());
  // ... one from another CA is refused, with the reason in the status.
  auto other_tls = std::make_shared<TlsConfig>(TestPki::Get().other.Options());
  ConnectOptions co;
  co.tls = other_tls;
  auto bad = Connect(io_, target, co);
  if (bad) {
    Client c(io_, std::move(*bad));
    EXPECT_FALSE(c.Handshake());
  }
  for (int i = 0; i < 1000 && Status(p.target).last_error.empty(); ++i) RunFor(1);
  EXPECT_NE(Status(p.target).last_error.find("certificate verify failed"), std::string::npos)
      << Status(p.target).last_error;
  EXPECT_EQ(Status(p.target).status["n_connections"], "1");
  // Active: ssl: to a controller listening with TLS.
  std::vector<std::unique_ptr<Client>> accepted;
  ListenOptions lo;
  lo.tls = controller_tls;
  auto l = StreamListener::Listen(io_, "pssl:0:127.0.0.1", lo, [&](StreamPtr s) {
    accepted.push_back(std::make_unique<Client>(io_, std::move(s)));
  });
  ASSERT_TRUE(l) << l.error().message;
  ControllerOptions a;
  a.target = "ssl:127.0.0.1:" + std::to_string((*l)->bound_port());
  br_->connmgr().SetControllerOptions({p, a});
  for (int i = 0; i < 2000 && accepted.empty(); ++i) RunFor(1);
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_TRUE(accepted[0]->Handshake());
  for (int i = 0; i < 1000 && !Status(a.target).connected; ++i) RunFor(1);
  EXPECT_TRUE(Status(a.target).connected);
  EXPECT_EQ(Status(a.target).status["state"], "ACTIVE");
  EXPECT_TRUE(br_->connmgr().HasController());
}

}  // namespace
}  // namespace sluice::ofp
