// The stream layer: connection-method syntax, TLS with mutual authentication (and the ways a
// peer is refused), bootstrap, certificate rotation, protocol settings, reconnect back-off.
#include <unistd.h>

#include <openssl/ssl.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "common/jsonrpc.h"
#include "common/stream/address.h"
#include "common/stream/connect.h"
#include "common/stream/listener.h"
#include "common/stream/reconnect.h"
#include "common/tls_util.h"

namespace sluice {
namespace {

using test::TestPki;

TEST(StreamAddressTest, ActiveAndPassiveForms) {
  auto a = ParseStreamAddress("tcp:10.0.0.1", kOpenFlowPort);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "10.0.0.1");
  EXPECT_EQ(a->port, 6653);
  EXPECT_FALSE(a->passive);
  a = ParseStreamAddress("ssl:[fe80::1]:6640", kOpenFlowPort);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->tls());
  EXPECT_EQ(a->host, "fe80::1");
  EXPECT_EQ(a->port, 6640);
  EXPECT_EQ(a->ToString(), "ssl:[fe80::1]:6640");
  a = ParseStreamAddress("ssl:[::1]", kOvsdbPort);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 6640);
  a = ParseStreamAddress("pssl:6653:[::1]", kOpenFlowPort);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->passive);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->ToString(), "pssl:6653:[::1]");
  a = ParseStreamAddress("ptcp:", kOpenFlowPort);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 6653);
  EXPECT_EQ(a->host, "0.0.0.0");
  a = ParseStreamAddress("ptcp::127.0.0.1", kOvsdbPort);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 6640);
  EXPECT_EQ(a->host, "127.0.0.1");
  a = ParseStreamAddress("ptcp:0", kOvsdbPort);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 0);
  a = ParseStreamAddress("punix:/run/x.sock", kOvsdbPort);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->path, "/run/x.sock");
  a = ParseStreamAddress("tcp:fe80::1", kOpenFlowPort);  // unbracketed IPv6, no port
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "fe80::1");
  EXPECT_EQ(a->port, 6653);

  for (const char* bad : {"tcp:", "tcp:1.2.3.4:0", "tcp:1.2.3.4:65536", "ssl:[::1", "ssl:[::1]x",
                          "ptcp:abc", "punix:", "udp:1.2.3.4:5", "tcp:1.2.3.4:x"}) {
    EXPECT_FALSE(ParseStreamAddress(bad, kOpenFlowPort)) << bad;
  }
  EXPECT_TRUE(IsPassiveTarget("pssl:"));
  EXPECT_FALSE(IsPassiveTarget("ssl:1.2.3.4"));
}

TEST(TlsConfigTest, Protocols) {
  auto p = ParseTlsProtocols("");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (std::set<int>{TLS1_2_VERSION, TLS1_3_VERSION}));
  p = ParseTlsProtocols("TLSv1,TLSv1.1 TLSv1.2");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 3u);
  p = ParseTlsProtocols("TLSv1.1+");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (std::set<int>{TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION}));
  EXPECT_FALSE(ParseTlsProtocols("SSLv3"));
  EXPECT_FALSE(ParseTlsProtocols(","));
}

TEST(TlsConfigTest, CommandLineOptions) {
  std::vector<std::string> args = {"-pkey.pem",
                                   "--certificate",
                                   "c.pem",
                                   "--ca-cert=ca.pem",
                                   "--ssl-protocols=TLSv1.3",
                                   "--peer-ca-cert",
                                   "peer.pem",
                                   "--bootstrap-ca-cert=boot.pem",
                                   "-x"};
  TlsOptions o;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    auto r = ParseTlsArg(args, &i, &o);
    ASSERT_TRUE(r);
    if (!*r) break;
  }
  EXPECT_EQ(args[i], "-x");
  EXPECT_EQ(o.private_key, "key.pem");
  EXPECT_EQ(o.certificate, "c.pem");
  EXPECT_EQ(o.ca_cert, "boot.pem");
  EXPECT_TRUE(o.bootstrap_ca_cert);
  EXPECT_EQ(o.peer_ca_cert, "peer.pem");
  EXPECT_EQ(o.protocols, "TLSv1.3");
  std::vector<std::string> missing = {"-C"};
  i = 0;
  EXPECT_FALSE(ParseTlsArg(missing, &i, &o));
}

TEST(TlsConfigTest, IncompleteConfigurationExplained) {
  TlsConfig c;
  auto r = c.Context();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "Private key must be configured to use SSL");
  TlsOptions o = TestPki::Get().server.Options();
  o.ca_cert.clear();
  c.Set(o);
  EXPECT_EQ(c.Context().error().message, "CA certificate must be configured to use SSL");
  o = TestPki::Get().server.Options();
  o.certificate = TestPki::Get().client.cert;  // not the key's certificate
  c.Set(o);
  std::string mismatch = c.Context().error().message;
  EXPECT_TRUE(mismatch.find("does not match") != std::string::npos ||
              mismatch.find("key values mismatch") != std::string::npos)
      << mismatch;
  o.certificate = "/nonexistent/cert.pem";
  c.Set(o);
  EXPECT_NE(c.Context().error().message.find("could not load certificate"), std::string::npos);
}

// A pssl: listener and ssl: clients on one io_context, echoing JSON-RPC.
class TlsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_tls_ = std::make_shared<TlsConfig>(TestPki::Get().server.Options());
  }

  void Listen(ListenOptions lo = {}) {
    lo.tls = server_tls_;
    auto l = StreamListener::Listen(io_, "pssl:0:127.0.0.1", lo, [this](StreamPtr s) {
      accepted_subjects_.push_back(s->peer_subject());
      auto c = JsonRpcConnection::Create(std::move(s));
      c->OnMessage([](JsonRpcConnection& conn, Json m) { conn.SendReply(m["id"], m["params"]); });
      c->Start();
      server_conns_.push_back(c);
    });
    ASSERT_TRUE(l) << l.error().message;
    listener_ = std::move(*l);
    target_ = "ssl:127.0.0.1:" + std::to_string(listener_->bound_port());
  }

  Result<StreamPtr> Dial(const TlsOptions& o) {
    ConnectOptions co;
    co.tls = std::make_shared<TlsConfig>(o);
    co.timeout = std::chrono::milliseconds(3000);
    return Connect(io_, target_, co);
  }

  // A round trip over an established stream.
  bool Echo(StreamPtr s) {
    auto c = JsonRpcConnection::Create(std::move(s));
    c->Start();
    Json reply;
    c->Request("echo", Json::array({"hi"}), [&](Json r) { reply = r; });
    // (With TLS 1.3 a client learns that the server refused its certificate only here.)
    for (int i = 0; i < 3000 && reply.is_null() && !c->closed(); ++i) {
      io_.run_for(std::chrono::milliseconds(1));
    }
    c->Close();
    return reply.is_object() && reply["result"] == Json::array({"hi"});
  }

  void RunFor(int ms) { io_.run_for(std::chrono::milliseconds(ms)); }

  asio::io_context io_;
  std::shared_ptr<TlsConfig> server_tls_;
  std::unique_ptr<StreamListener> listener_;
  std::string target_;
  std::vector<std::shared_ptr<JsonRpcConnection>> server_conns_;
  std::vector<std::string> accepted_subjects_;
};

TEST_F(TlsStreamTest, MutualAuthenticationAndData) {
  Listen();
  auto s = Dial(TestPki::Get().client.Options());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE((*s)->tls());
  EXPECT_NE((*s)->peer_subject().find("CN=server"), std::string::npos) << (*s)->peer_subject();
  EXPECT_TRUE(Echo(*s));
  ASSERT_EQ(accepted_subjects_.size(), 1u);
  EXPECT_NE(accepted_subjects_[0].find("CN=client"), std::string::npos);
}

TEST_F(TlsStreamTest, PeersThatFailAreRefusedAndTheListenerKeepsServing) {
  Listen();
  // A certificate from another CA: the server refuses it.
  auto s = Dial(TestPki::Get().other.Options());
  EXPECT_FALSE(s.has_value() && Echo(*s));
  RunFor(50);
  EXPECT_NE(listener_->last_error().find("certificate verify failed"), std::string::npos)
      << listener_->last_error();
  // An expired certificate.
  s = Dial(TestPki::Get().expired.Options());
  EXPECT_FALSE(s.has_value() && Echo(*s));
  RunFor(50);
  EXPECT_NE(listener_->last_error().find("certificate has expired"), std::string::npos)
      << listener_->last_error();
  // Plain TCP (a JSON-RPC client) to the TLS port.
  {
    auto raw = ConnectStream(io_, "tcp:127.0.0.1:" + std::to_string(listener_->bound_port()));
    ASSERT_TRUE(raw);
    std::string plain = "{\"method\":\"echo\",\"params\":[],\"id\":1}";
    asio::write(*raw, asio::buffer(plain));
    char buf[64];
    std::error_code ec;
    raw->non_blocking(true);
    for (int i = 0; i < 2000; ++i) {
      RunFor(1);
      raw->read_some(asio::buffer(buf), ec);
      if (ec && ec != asio::error::would_block) break;
    }
    EXPECT_TRUE(ec && ec != asio::error::would_block) << "plain TCP peer not dropped";
  }
  RunFor(50);
  EXPECT_NE(listener_->last_error().find("not using TLS"), std::string::npos)
      << listener_->last_error();
  // The client side sees why as well: the server's certificate is not from its CA.
  TlsOptions wrong_ca = TestPki::Get().client.Options();
  wrong_ca.ca_cert = TestPki::Get().ca_b;
  s = Dial(wrong_ca);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("certificate verify failed"), std::string::npos)
      << s.error().message;
  RunFor(50);
  EXPECT_EQ(listener_->n_refused(), 4u);
  // A good client is still served.
  s = Dial(TestPki::Get().client.Options());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(Echo(*s));
}

// An owner holding its stream, with a read waiting that keeps the owner alive (as connections
// hold themselves through their pending reads): destroying the io_context destroys the waiting
// handler and so releases the owner, rather than the stream keeping its owner in a cycle.
TEST(TlsStreamLifetimeTest, DestroyingTheIoContextReleasesAWaitingReadersOwner) {
  struct Owner {
    StreamPtr stream;
    char buf[16];
  };
  std::weak_ptr<Owner> weak;
  {
    asio::io_context io;
    StreamPtr accepted;
    ListenOptions lo;
    lo.tls = std::make_shared<TlsConfig>(TestPki::Get().server.Options());
    auto l = StreamListener::Listen(io, "pssl:0:127.0.0.1", lo,
                                    [&](StreamPtr s) { accepted = std::move(s); });
    ASSERT_TRUE(l) << l.error().message;
    ConnectOptions co;
    co.tls = std::make_shared<TlsConfig>(TestPki::Get().client.Options());
    co.timeout = std::chrono::milliseconds(3000);
    auto s = Connect(io, "ssl:127.0.0.1:" + std::to_string((*l)->bound_port()), co);
    ASSERT_TRUE(s) << s.error().message;
    for (int i = 0; i < 3000 && !accepted; ++i) io.run_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(accepted);
    auto owner = std::make_shared<Owner>();
    owner->stream = std::move(*s);
    owner->stream->AsyncReadSome(owner->buf, sizeof owner->buf,
                                 [owner](std::error_code, size_t) {});
    io.run_for(std::chrono::milliseconds(20));  // nothing to read: the read waits
    weak = owner;
    owner.reset();
    EXPECT_FALSE(weak.expired());  // its waiting read keeps it
  }
  EXPECT_TRUE(weak.expired());
}

TEST_F(TlsStreamTest, SilentPeerTimesOutInTheHandshake) {
  ListenOptions lo;
  lo.handshake_timeout = std::chrono::milliseconds(200);
  Listen(lo);
  auto raw = ConnectStream(io_, "tcp:127.0.0.1:" + std::to_string(listener_->bound_port()));
  ASSERT_TRUE(raw);
  for (int i = 0; i < 1000 && listener_->n_refused() == 0; ++i) RunFor(1);
  EXPECT_EQ(listener_->n_refused(), 1u);
  EXPECT_NE(listener_->last_error().find("timed out"), std::string::npos)
      << listener_->last_error();
}

TEST_F(TlsStreamTest, ProtocolsMustOverlap) {
  TlsOptions o = TestPki::Get().server.Options();
  o.protocols = "TLSv1.3";
  server_tls_->Set(o);
  Listen();
  TlsOptions c = TestPki::Get().client.Options();
  c.protocols = "TLSv1.2";
  EXPECT_FALSE(Dial(c));
  c.protocols = "TLSv1.2,TLSv1.3";
  auto s = Dial(c);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(Echo(*s));
}

TEST_F(TlsStreamTest, RotatedCertificateIsUsedByNewConnections) {
  // The server's files are copies that get replaced on disk.
  std::string key = TestPki::Get().dir + "/rot-key.pem",
              cert = TestPki::Get().dir + "/rot-cert.pem";
  std::filesystem::copy_file(TestPki::Get().server.key, key,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(TestPki::Get().server.cert, cert,
                             std::filesystem::copy_options::overwrite_existing);
  TlsOptions o = TestPki::Get().server.Options();
  o.private_key = key;
  o.certificate = cert;
  server_tls_->Set(o);
  Listen();
  auto s = Dial(TestPki::Get().client.Options());
  ASSERT_TRUE(s);
  EXPECT_NE((*s)->peer_subject().find("CN=server"), std::string::npos);
  // Rotated: the key first (a moment where key and certificate do not match: the previous pair
  // stays in use), then the certificate.
  std::filesystem::copy_file(TestPki::Get().server2.key, key,
                             std::filesystem::copy_options::overwrite_existing);
  auto mid = Dial(TestPki::Get().client.Options());
  ASSERT_TRUE(mid) << mid.error().message;
  EXPECT_TRUE((*mid)->peer_subject().ends_with("CN=server")) << (*mid)->peer_subject();
  std::filesystem::copy_file(TestPki::Get().server2.cert, cert,
                             std::filesystem::copy_options::overwrite_existing);
  auto after = Dial(TestPki::Get().client.Options());
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_NE((*after)->peer_subject().find("CN=server2"), std::string::npos)
      << (*after)->peer_subject();
  EXPECT_TRUE(Echo(*s));  // the first connection is unaffected
}

TEST_F(TlsStreamTest, BootstrapSavesThePeersCaThenVerifies) {
  TlsOptions o = TestPki::Get().server.Options();
  o.peer_ca_cert = TestPki::Get().ca_a;  // sent along, so the client can bootstrap
  server_tls_->Set(o);
  Listen();
  std::string ca_file = TestPki::Get().dir + "/bootstrapped-ca.pem";
  std::filesystem::remove(ca_file);
  TlsOptions c = TestPki::Get().client.Options();
  c.ca_cert = ca_file;
  c.bootstrap_ca_cert = true;
  auto cfg = std::make_shared<TlsConfig>(c);
  ConnectOptions co;
  co.tls = cfg;
  auto first = Connect(io_, target_, co);
  ASSERT_FALSE(first);
  EXPECT_NE(first.error().message.find("successfully bootstrapped CA certificate"),
            std::string::npos)
      << first.error().message;
  ASSERT_TRUE(std::filesystem::exists(ca_file));
  auto second = Connect(io_, target_, co);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(Echo(*second));
  // Without --peer-ca-cert on the server there is nothing to bootstrap from.
  server_tls_->Set(TestPki::Get().server.Options());
  std::filesystem::remove(ca_file);
  auto none = Connect(io_, target_, co);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("did not send a self-signed CA"), std::string::npos)
      << none.error().message;
  EXPECT_FALSE(std::filesystem::exists(ca_file));
}

TEST_F(TlsStreamTest, CaNoneSkipsVerification) {
  Listen();
  TlsOptions c = TestPki::Get().other.Options();
  c.ca_cert = "none";
  // The client does not check the server, but the server still refuses B's certificate.
  EXPECT_FALSE(Dial(c).has_value() && Echo(*Dial(c)));
  TlsOptions s = TestPki::Get().server.Options();
  s.ca_cert = "none";
  server_tls_->Set(s);
  auto ok = Dial(c);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(Echo(*ok));
}

TEST(ReconnectTest, BackoffDoublesToTheMaximumAndResetsAfterAGoodConnection) {
  asio::io_context io;
  int dials = 0;
  Reconnect r(io, [&] { ++dials; });
  r.SetBackoff(10, 40);
  r.Start();
  EXPECT_EQ(dials, 1);
  EXPECT_STREQ(r.StateName(), "CONNECTING");
  std::vector<int> waits;
  for (int i = 0; i < 4; ++i) {
    r.Failed("Connection refused");
    waits.push_back(r.backoff_ms());
    EXPECT_STREQ(r.StateName(), "BACKOFF");
    io.restart();
    io.run_one();  // the back-off timer dials again
  }
  EXPECT_EQ(waits, (std::vector<int>{10, 20, 40, 40}));
  EXPECT_EQ(dials, 5);
  r.Connected();
  EXPECT_TRUE(r.connected());
  auto st = r.Status();
  EXPECT_EQ(st["state"], "ACTIVE");
  EXPECT_EQ(st["last_error"], "Connection refused");
  EXPECT_EQ(st["sec_since_connect"], "0");
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // up longer than the back-off
  r.Failed("connection closed by peer");
  EXPECT_EQ(r.backoff_ms(), 10);
  EXPECT_TRUE(r.Status().count("sec_since_disconnect"));
  r.Stop();
  EXPECT_STREQ(r.StateName(), "VOID");
}

}  // namespace
}  // namespace sluice
