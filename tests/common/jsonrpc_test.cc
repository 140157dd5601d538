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
    auto l = JsonRpcListener::Listen(io_, "punix:" + path_, [this](StreamSocket s, std::string p) {
      auto c = JsonRpcConnection::Create(std::move(s), limits_, p);
      c->OnMessage([](JsonRpcConnection& conn, Json msg) {
        if (msg.value("method", "") == "echo") conn.SendReply(msg["id"], msg["params"]);
        else conn.SendError(msg["id"], "unknown method");
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

TEST_F(JsonRpcTest, MalformedJsonGetsErrorAndConnectionLives) {
  auto c = Client();
  // Raw bytes: a framed but invalid object, then a valid request.
  auto s = ConnectStream(io_, "unix:" + path_);
  ASSERT_TRUE(s.has_value());
  std::string bad = "{\"method\": echo}{\"method\":\"echo\",\"params\":[7],\"id\":3}";
  asio::write(*s, asio::buffer(bad));
  std::string got;
  RunUntil([&] {
    char b[4096];
    std::error_code ec;
    s->non_blocking(true);
    size_t n = s->read_some(asio::buffer(b), ec);
    if (!ec) got.append(b, n);
    return got.find("\"id\":3") != std::string::npos;
  });
  EXPECT_NE(got.find("syntax error"), std::string::npos) << got;
  EXPECT_NE(got.find("\"result\":[7]"), std::string::npos) << got;
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
  EXPECT_FALSE(JsonRpcListener::Listen(io_, "pfoo:1", nullptr).has_value());
  EXPECT_FALSE(JsonRpcListener::Listen(io_, "ptcp:99999", nullptr).has_value());
  EXPECT_FALSE(ConnectStream(io_, "tcp:127.0.0.1").has_value());
}

TEST_F(JsonRpcTest, TcpRemote) {
  std::shared_ptr<JsonRpcConnection> server;
  auto l = JsonRpcListener::Listen(io_, "ptcp:0:127.0.0.1", [&](StreamSocket s, std::string p) {
    server = JsonRpcConnection::Create(std::move(s), {}, p);
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
