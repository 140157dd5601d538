// OvsdbServer's private state, shared by server.cc (databases, sessions, transactions, locks),
// server_monitors.cc (monitors and their notifications) and server_compaction.cc (log
// compaction in the background). Not for use outside ovsdb/server.
#pragma once

#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ovsdb/json_doc.h"
#include "ovsdb/server/server.h"
#include "ovsdb/snapshot.h"

namespace sluice::db {

// Monitors of one database with the same parameters (Monitor::key()) share one of these: the
// update text of a commit is built once for all of them.
struct OvsdbServer::MonitorGroup {
  explicit MonitorGroup(Monitor m) : monitor(std::move(m)) {}
  Monitor monitor;
  size_t users = 0;
  uint64_t built_for = 0;  // commit sequence number `text` belongs to (0: none)
  bool has_update = false;
  std::string text;  // table-updates JSON text of that commit
};

// A log compaction in progress (server_compaction.cc).
struct OvsdbServer::Compaction {
  std::unique_ptr<CompactionJob> job;
  std::unique_ptr<DbSnapshot> snapshot;  // released by the worker once serialized
  std::string schema_text;
  std::thread thread;
  Result<void> written;  // the worker's outcome
  int64_t started_ms = 0;
  std::vector<std::function<void(Result<void>)>> done;  // on the server's thread
};

struct OvsdbServer::DbEntry {
  std::unique_ptr<Database> db;
  std::optional<Log> log;
  std::string path;
  Uuid last_txn;            // all-zero until the first commit after start-up
  uint64_t commit_seq = 0;  // commits since start-up
  std::unordered_map<std::string, std::unique_ptr<MonitorGroup>> groups;  // by Monitor::key()
  std::unique_ptr<Compaction> compaction;                                 // in progress
};

struct OvsdbServer::Session {
  std::shared_ptr<JsonRpcConnection> conn;
  struct Mon {
    std::string db;
    Json id;
    std::string id_text;  // id as JSON text, for the notifications
    MonitorGroup* group = nullptr;
    // While behind: table -> row -> the row as the client last saw it (null: absent).
    std::map<std::string, std::map<Uuid, RowRef>> coalesced;
    int64_t coalesced_since_ms = 0;
  };
  std::map<std::string, Mon> monitors;  // by id.dump()
  bool db_change_aware = false;
  std::string remote;  // the remote it came from (listener or active remote)
  std::string close_reason;
  std::function<void(const std::string& why)> on_closed;  // active remotes: reconnect
};

struct OvsdbServer::PendingTxn {
  Session* session;
  Json id;
  std::string db;
  // The transact request's params (the database name, then the operations): as parsed by
  // nlohmann, or as `doc_params` in `doc`.
  Json params;
  std::unique_ptr<JsonDoc> doc;
  const JsonNode* doc_params;
  int64_t first_ms;
};

// A notification built during a commit, sent after the transaction's reply.
struct OvsdbServer::Outgoing {
  std::shared_ptr<JsonRpcConnection> conn;
  std::string text;
};

template <class Fn>
auto OvsdbServer::OnThread(Fn&& fn) const -> decltype(fn()) {
  if (!thread_.joinable() || thread_.get_id() == std::this_thread::get_id()) return fn();
  std::packaged_task<decltype(fn())()> task(std::forward<Fn>(fn));
  auto result = task.get_future();
  asio::post(io_, [&task] { task(); });
  return result.get();
}

}  // namespace sluice::db
