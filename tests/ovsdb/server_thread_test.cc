// The server on a thread of its own (OvsdbServer::StartThread, as switchd embeds it): other
// threads transact, add and remove remotes, read their status and compact while a socket client
// monitors; nothing is lost, every update arrives, and the log replays to the same rows. Its
// TLS remotes (pssl: and ssl:, as the bridge adds managers from the control thread) work while
// another thread changes the TLS configuration.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "common/stream/connect.h"
#include "common/stream/listener.h"
#include "common/tls_util.h"
#include "ovsdb/server/server.h"

namespace sluice::db {
namespace {

using Json = nlohmann::json;

constexpr const char* kSchema = R"({"name": "Thr", "version": "1.0.0", "tables": {
  "T": {"isRoot": true, "columns": {"n": {"type": "integer"}, "s": {"type": "string"}}}}})";

size_t CountRows(OvsdbServer& server) {
  auto r = server.Transact("Thr", Json::parse(R"([{"op":"select","table":"T","where":[],
      "columns":["n"]}])"));
  return r.reply[0]["rows"].size();
}

TEST(ServerThread, ConcurrentCallersAndMonitor) {
  std::string dir = "/tmp/sluice-ovsdb-thread-" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/thr.db", sock = dir + "/db.sock";
  constexpr int kWriters = 2, kPerWriter = 300;
  {
    asio::io_context server_io;
    OvsdbServer server(server_io);
    ASSERT_TRUE(server.AddOrCreateDatabaseFromSchemaText(db, kSchema));
    ASSERT_TRUE(server.AddRemote("punix:" + sock));
    server.StartThread();

    // The monitoring client, on an io_context of the test's thread.
    asio::io_context client_io;
    auto s = ConnectStream(client_io, "unix:" + sock);
    ASSERT_TRUE(s.has_value());
    auto c = JsonRpcConnection::Create(std::move(*s), {}, "mon");
    size_t inserted = 0;
    c->OnMessage([&](JsonRpcConnection&, Json m) {
      if (m.value("method", "") != "update2") return;
      for (auto& [uuid, row] : m["params"][1]["T"].items()) inserted += row.contains("insert");
    });
    c->Start();
    bool monitoring = false;
    c->Request("monitor_cond", Json::parse(R"(["Thr","m",{"T":[{"columns":["n"]}]}])"),
               [&](Json) { monitoring = true; });
    for (int i = 0; i < 3000 && !monitoring; ++i) client_io.run_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(monitoring);

    std::atomic<int> failed{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; i < kPerWriter; ++i) {
          auto r = server.Transact(
              "Thr",
              Json::array({{{"op", "insert"},
                            {"table", "T"},
                            {"row", {{"n", w * kPerWriter + i}, {"s", std::string(200, 'x')}}}}}));
          if (!r.committed) ++failed;
        }
      });
    }
    // Meanwhile this thread changes remotes, reads their status and compacts.
    for (int i = 0; i < 20; ++i) {
      std::string extra = "punix:" + dir + "/extra.sock";
      EXPECT_TRUE(server.AddRemote(extra));
      EXPECT_GE(server.RemoteStatuses().size(), 2u);
      EXPECT_TRUE(server.RemoveRemote(extra));
      if (i % 5 == 0) {
        EXPECT_TRUE(server.CompactAll());
      }
      client_io.run_for(std::chrono::milliseconds(2));
    }
    for (auto& t : writers) t.join();
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(CountRows(server), size_t{kWriters * kPerWriter});
    for (int i = 0; i < 5000 && inserted < kWriters * kPerWriter; ++i) {
      client_io.run_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(inserted, size_t{kWriters * kPerWriter});
    c->Close();
  }
  // The log (compacted while written) replays to every row.
  asio::io_context io;
  OvsdbServer reopened(io);
  ASSERT_TRUE(reopened.AddDatabaseFile(db));
  EXPECT_EQ(CountRows(reopened), size_t{kWriters * kPerWriter});
  std::filesystem::remove_all(dir);
}

// Runs `io` until `pred` holds (at most `ms`).
bool RunUntil(asio::io_context& io, const std::function<bool()>& pred, int ms = 5000) {
  for (int i = 0; i < ms && !pred(); ++i) {
    if (io.stopped()) io.restart();  // it ran out of work last time
    io.run_for(std::chrono::milliseconds(1));
  }
  return pred();
}

RemoteStatus StatusOf(const OvsdbServer& server, const std::string& remote) {
  for (const auto& st : server.RemoteStatuses()) {
    if (st.remote == remote) return st;
  }
  return RemoteStatus{};
}

TEST(ServerThread, TlsRemotesAddedFromAnotherThread) {
  using test::TestPki;
  const auto& pki = TestPki::Get();
  ServerOptions so;
  so.tls = std::make_shared<TlsConfig>(pki.server.Options());
  asio::io_context server_io;
  OvsdbServer server(server_io, so);
  auto schema = DatabaseSchema::FromJson(Json::parse(kSchema));
  ASSERT_TRUE(schema);
  ASSERT_TRUE(server.AddDatabase(std::make_unique<Database>(std::move(*schema))));
  server.StartThread();
  EXPECT_EQ(server.tls(), so.tls);

  // Another thread keeps switching the server between two certificates of the same CA (as the
  // bridge applies a changed SSL row) while connections are made.
  std::atomic<bool> stop{false};
  std::thread rotator([&] {
    for (int i = 0; !stop; ++i) {
      so.tls->Set(i % 2 ? pki.server2.Options() : pki.server.Options());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop = true;
      t.join();
    }
  } join{stop, rotator};

  // Passive: pssl: added from this thread; a client with a certificate of the CA is served...
  RemoteOptions ro;
  ro.inactivity_probe_ms = 0;
  ASSERT_TRUE(server.AddRemote("pssl:0:127.0.0.1", ro));
  uint16_t port = server.tcp_port("pssl:0:127.0.0.1");
  ASSERT_NE(port, 0);
  asio::io_context io;
  ConnectOptions co;
  co.tls = std::make_shared<TlsConfig>(pki.client.Options());
  const std::string target = "ssl:127.0.0.1:" + std::to_string(port);
  for (int round = 0; round < 3; ++round) {
    auto st = Connect(io, target, co);
    ASSERT_TRUE(st) << st.error().message;
    auto c = JsonRpcConnection::Create(std::move(*st));
    std::vector<Json> notes;
    c->OnMessage([&](JsonRpcConnection&, Json m) { notes.push_back(std::move(m)); });
    c->Start();
    bool monitoring = false, replied = false;
    size_t notes_at_reply = 0;
    c->Request("monitor_cond", Json::parse(R"(["Thr","m",{"T":[{"columns":["n"]}]}])"),
               [&](Json) { monitoring = true; });
    ASSERT_TRUE(RunUntil(io, [&] { return monitoring; }));
    c->Request("transact", Json::parse(R"(["Thr",{"op":"insert","table":"T","row":{"n":1}}])"),
               [&](Json r) {
                 EXPECT_TRUE(r["error"].is_null()) << r.dump();
                 notes_at_reply = notes.size();
                 replied = true;
               });
    ASSERT_TRUE(RunUntil(io, [&] { return replied; }));
    EXPECT_EQ(notes_at_reply, 1u);  // the update before the reply, over TLS too
    c->Close();
  }
  // ... one from another CA is refused, the reason in the remote's status, and the server
  // keeps serving.
  ConnectOptions bad;
  bad.tls = std::make_shared<TlsConfig>(pki.other.Options());
  if (auto st = Connect(io, target, bad)) {
    auto c = JsonRpcConnection::Create(std::move(*st));
    bool closed = false;
    c->OnClose([&](JsonRpcConnection&, const std::string&) { closed = true; });
    c->Start();
    c->Request("list_dbs", Json::array(), [](Json) {});
    RunUntil(io, [&] { return closed; });
  }
  EXPECT_TRUE(RunUntil(io, [&] {
    return StatusOf(server, "pssl:0:127.0.0.1").last_error.find("certificate verify failed") !=
           std::string::npos;
  })) << StatusOf(server, "pssl:0:127.0.0.1").last_error;

  // Active: ssl: to a manager listening with TLS on this thread; the server dials from its own
  // thread, serves OVSDB on the connection, and its status names the manager's certificate.
  std::vector<std::shared_ptr<JsonRpcConnection>> managers;
  ListenOptions lo;
  lo.tls = std::make_shared<TlsConfig>(pki.client.Options());
  auto listener = StreamListener::Listen(io, "pssl:0:127.0.0.1", lo, [&](StreamPtr s) {
    auto c = JsonRpcConnection::Create(std::move(s));
    c->Start();
    managers.push_back(c);
  });
  ASSERT_TRUE(listener) << listener.error().message;
  const std::string active = "ssl:127.0.0.1:" + std::to_string((*listener)->bound_port());
  RemoteOptions ao;
  ao.max_backoff_ms = 1000;
  ASSERT_TRUE(server.AddRemote(active, ao));
  ASSERT_TRUE(RunUntil(io, [&] { return !managers.empty(); }));
  Json dbs;
  managers[0]->Request("list_dbs", Json::array(), [&](Json r) { dbs = r["result"]; });
  ASSERT_TRUE(RunUntil(io, [&] { return !dbs.is_null(); }));
  EXPECT_NE(std::find(dbs.begin(), dbs.end(), Json("Thr")), dbs.end()) << dbs.dump();
  RemoteStatus st = StatusOf(server, active);
  EXPECT_TRUE(st.active);
  EXPECT_TRUE(st.connected);
  EXPECT_NE(st.peer_subject.find("client"), std::string::npos) << st.peer_subject;
  // New options for the same remote keep its connection.
  ao.inactivity_probe_ms = 0;
  ASSERT_TRUE(server.AddRemote(active, ao));
  EXPECT_TRUE(StatusOf(server, active).connected);
  EXPECT_EQ(server.Remotes().size(), 2u);
  ASSERT_TRUE(server.RemoveRemote(active));
  EXPECT_TRUE(RunUntil(io, [&] { return managers[0]->closed(); }));
  for (auto& m : managers) m->Close();
  server.Stop();
}

}  // namespace
}  // namespace sluice::db
