// The server on a thread of its own (OvsdbServer::StartThread, as switchd embeds it): other
// threads transact, add and remove remotes, read their status and compact while a socket client
// monitors; nothing is lost, every update arrives, and the log replays to the same rows.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice::db
