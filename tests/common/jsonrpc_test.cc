#include "common/jsonrpc.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace sluice {
namespace {

// An echo server on a unix socket plus a client connection, both on one io_context.
class JsonRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = "/tmp/sluice-jsonrpc-test-" + std::to_string(getpid()) + ".sock";
    auto l = StreamListener::Listen(io_, "punix:" + path_, {}, [this](StreamPtr s) {
      auto c = JsonRpcConnection::Create(std::move(s), limits_);
      c->OnMessage([](JsonRpcConnection& conn, Json msg) {
        if (msg.value("method", "") == "echo")
          conn.SendReply(msg["id"], msg["params"]);
        else
          conn.SendError(msg["id"], "unknown method");
      });
      c->OnClose([this](JsonRpcConnection&, const std::string& why) { server_close_ = why; });
      c->Start();
      server_conns_.push_back(c);
    });
    ASSERT_TRUE(l.has_value()) << l.error().message;
    listener_ = std::move(*l);
  }

  std::shared_ptr<JsonRpcConnection> Client() {
    auto s = ConnectStream(io_, "unix:" + path_);
    EXPECT_TRUE(s.has_value());
    auto c = JsonRpcConnection::Create(std::move(*s), JsonRpcLimits{}, "client");
    c->OnMessage([this](JsonRpcConnection&, Json msg) { unsolicited_.push_back(msg); });
    c->OnClose([this](JsonRpcConnection&, const std::string& why) { client_close_ = why; });
    c->Start();
    return c;
  }

  void RunUntil(std::function<bool()> pred) {
    for (int i = 0; i < 2000 && !pred(); ++i) io_.run_for(std::chrono::milliseconds(1));
  }

  asio::io_context io_;
  std::string path_;
  JsonRpcLimits limits_;
  std::unique_ptr<JsonRpcListener> listener_;
  std::vector<std::shared_ptr<JsonRpcConnection>> server_conns_;
  std::vector<Json> unsolicited_;
  std::string server_close_, client_close_;
};

TEST_F(JsonRpcTest, RequestReplyMatchedById) {
  auto c = Client();
  std::vector<Json> replies;
  c->Request("echo", Json::array({1, "a"}), [&](Json r) { replies.push_back(r); });
  c->Request("nope", Json::array(), [&](Json r) { replies.push_back(r); });
  RunUntil([&] { return replies.size() == 2; });
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0]["result"], Json::array({1, "a"}));
  EXPECT_EQ(replies[1]["error"], "unknown method");
}

// Reads what the server sends on a raw socket until it hangs up (or 2 s pass).
std::string ReadUntilClosed(asio::io_context& io, StreamSocket& s, bool* closed) {
  std::string got;
  s.non_blocking(true);
  for (int i = 0; i < 2000; ++i) {
    io.run_for(std::chrono::milliseconds(1));
    char b[4096];
    std::error_code ec;
    size_t n = s.read_some(asio::buffer(b), ec);
    if (!ec) got.append(b, n);
    if (ec && ec != asio::error::would_block) {
      *closed = true;
      break;
    }
  }
  return got;
}

TEST_F(JsonRpcTest, MalformedJsonIsAnsweredAndClosedAsSoonAsItArrives) {
  // A valid request, then a broken one that never closes its brace: the server answers the
  // first, reports the syntax error at the offending byte and hangs up without waiting for more.
  auto s = ConnectStream(io_, "unix:" + path_);
  ASSERT_TRUE(s.has_value());
  std::string bytes = "{\"method\":\"echo\",\"params\":[7],\"id\":3} {\"method\": echo";
  asio::write(*s, asio::buffer(bytes));
  bool closed = false;
  std::string got = ReadUntilClosed(io_, *s, &closed);
  EXPECT_NE(got.find("\"result\":[7]"), std::string::npos) << got;
  EXPECT_NE(got.find("syntax error"), std::string::npos) << got;
  EXPECT_NE(got.find("byte 49: unexpected 'e' (expected a value)"), std::string::npos) << got;
  EXPECT_TRUE(closed);
  EXPECT_NE(server_close_.find("syntax error"), std::string::npos) << server_close_;
}

TEST_F(JsonRpcTest, ProbeSendsEchoThenDropsASilentPeer) {
  auto c = Client();
  RunUntil([&] { return !server_conns_.empty(); });
  ASSERT_EQ(server_conns_.size(), 1u);
  // The client answers echo requests: the connection stays.
  c->OnMessage([](JsonRpcConnection& conn, Json m) {
    if (m.value("method", "") == "echo") conn.SendReply(m["id"], m["params"]);
  });
  server_conns_[0]->SetProbeInterval(std::chrono::milliseconds(50));
  io_.run_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(server_conns_[0]->closed());
  // A raw peer that says nothing: echo after one interval, dropped after the second.
  auto s = ConnectStream(io_, "unix:" + path_);
  ASSERT_TRUE(s.has_value());
  RunUntil([&] { return server_conns_.size() == 2; });
  ASSERT_EQ(server_conns_.size(), 2u);
  server_conns_[1]->SetProbeInterval(std::chrono::milliseconds(50));
  bool closed = false;
  std::string got = ReadUntilClosed(io_, *s, &closed);
  EXPECT_NE(got.find("\"method\":\"echo\""), std::string::npos) << got;
  EXPECT_TRUE(closed);
  EXPECT_EQ(server_close_, "inactivity probe timed out");
}

TEST_F(JsonRpcTest, PeerThatDoesNotReadStopsBeingReadThenIsDropped) {
  limits_.pause_backlog = 64 << 10;
  limits_.stall_timeout = std::chrono::milliseconds(300);
  auto s = ConnectStream(io_, "unix:" + path_);
  ASSERT_TRUE(s.has_value());
  RunUntil([&] { return !server_conns_.empty(); });
  // Requests with big replies, never reading one: the server stops reading at the pause mark
  // (its backlog stays near it however much we send) and drops us once no output moves.
  std::string big(8192, 'x');
  std::string req = Json{{"method", "echo"}, {"params", Json::array({big})}, {"id", 1}}.dump();
  s->non_blocking(true);
  size_t max_backlog = 0;
  for (int i = 0; i < 2000 && server_close_.empty(); ++i) {
    std::error_code ec;
    asio::write(*s, asio::buffer(req), ec);
    io_.run_for(std::chrono::milliseconds(1));
    if (!server_conns_.empty())
      max_backlog = std::max(max_backlog, server_conns_[0]->backlog_bytes());
  }
  RunUntil([&] { return !server_close_.empty(); });
  EXPECT_EQ(server_close_, "peer not reading");
  // Kernel socket buffers hold some replies; what the server queues stays near the mark.
  EXPECT_LT(max_backlog, (64u << 10) + 4 * req.size());
}

TEST_F(JsonRpcTest, BudgetDropsTheLargestHolder) {
  limits_.budget = MemoryBudget::Create(32 << 10);
  auto small = ConnectStream(io_, "unix:" + path_);
  auto greedy = ConnectStream(io_, "unix:" + path_);
  ASSERT_TRUE(small && greedy);
  RunUntil([&] { return server_conns_.size() == 2; });
  // The greedy peer starts a message that never ends; the other one keeps being served.
  std::string partial = "{\"method\":\"echo\",\"params\":[\"" + std::string(48 << 10, 'y');
  asio::write(*greedy, asio::buffer(partial));
  std::string req = "{\"method\":\"echo\",\"params\":[1],\"id\":9}";
  asio::write(*small, asio::buffer(req));
  bool closed = false;
  std::string got = ReadUntilClosed(io_, *greedy, &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(server_close_.find("memory budget exceeded"), std::string::npos) << server_close_;
  small->non_blocking(true);
  std::string reply;
  RunUntil([&] {
    char b[256];
    std::error_code ec;
    size_t n = small->read_some(asio::buffer(b), ec);
    if (!ec) reply.append(b, n);
    return reply.find("\"id\":9") != std::string::npos;
  });
  EXPECT_NE(reply.find("\"result\":[1]"), std::string::npos) << reply;
}

TEST_F(JsonRpcTest, OversizeMessageRefusedWithoutBufferingIt) {
  limits_.max_message = 1024;
  auto c = Client();
  std::string big(4096, 'x');
  c->Send(Json{{"method", "echo"}, {"params", Json::array({big})}, {"id", 1}});
  RunUntil([&] { return !server_close_.empty(); });
  EXPECT_EQ(server_close_, "message too long");
}

TEST_F(JsonRpcTest, ListenerRejectsBadRemotes) {
  EXPECT_FALSE(StreamListener::Listen(io_, "pfoo:1", {}, nullptr).has_value());
  EXPECT_FALSE(StreamListener::Listen(io_, "ptcp:99999", {}, nullptr).has_value());
  EXPECT_FALSE(StreamListener::Listen(io_, "tcp:1.2.3.4:5", {}, nullptr).has_value());
  EXPECT_FALSE(ConnectStream(io_, "tcp:127.0.0.1:1").has_value());
}

TEST_F(JsonRpcTest, TcpRemote) {
  std::shared_ptr<JsonRpcConnection> server;
  auto l = StreamListener::Listen(io_, "ptcp:0:127.0.0.1", {}, [&](StreamPtr s) {
    server = JsonRpcConnection::Create(std::move(s));
    server->OnMessage([](JsonRpcConnection& conn, Json m) { conn.SendReply(m["id"], "pong"); });
    server->Start();
  });
  ASSERT_TRUE(l.has_value());
  auto s = ConnectStream(io_, "tcp:127.0.0.1:" + std::to_string((*l)->bound_port()));
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto c = JsonRpcConnection::Create(std::move(*s), {}, "c");
  c->Start();
  Json reply;
  c->Request("ping", Json::array(), [&](Json r) { reply = r; });
  RunUntil([&] { return !reply.is_null(); });
  EXPECT_EQ(reply["result"], "pong");
}

}  // namespace
}  // namespace sluice
