// The OVSDB server: databases (each with its durable log), JSON-RPC sessions over the remotes,
// and the RFC 7047 methods plus Open vSwitch's extensions (monitor_cond, monitor_cond_since,
// monitor_cond_change, set_db_change_aware, get_server_id, the _Server database). Runs on one
// asio io_context (the control thread); embedded in sluice-switchd or standalone.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio.hpp>

#include "common/jsonrpc.h"
#include "common/unixctl.h"
#include "ovsdb/database.h"
#include "ovsdb/server/monitor.h"
#include "ovsdb/server/remotes.h"
#include "ovsdb/storage/log.h"
#include "sluice/result.h"

namespace sluice::db {

struct ServerOptions {
  JsonRpcLimits limits;
  // A session with more unsent output than this gets no further update notifications; the rows
  // that change meanwhile are remembered and sent as one coalesced update once it drains.
  size_t congestion_bytes = 4 << 20;
  bool compact = true;  // online compaction when the log policy says so
  // What all sessions together may hold (unsent output, partial input); past it the largest
  // holder is dropped.
  size_t memory_budget = 256 << 20;
  std::shared_ptr<TlsConfig> tls;  // ssl:/pssl: remotes (null: DefaultTlsConfig())
};

class OvsdbServer {
 public:
  explicit OvsdbServer(asio::io_context& io, ServerOptions opts = {});
  ~OvsdbServer();

  // Serves the database stored in `path` (created by `sluice-ovsdb-tool create`).
  Result<void> AddDatabaseFile(const std::string& path);
  // Creates `path` from `schema_path` if it does not exist, then serves it.
  Result<void> AddOrCreateDatabaseFile(const std::string& path, const std::string& schema_path);
  // Creates `path` from the schema text if it does not exist, then serves it.
  Result<void> AddOrCreateDatabaseFromSchemaText(const std::string& path,
                                                 const std::string& schema_text);
  // Serves an in-memory database (no log), e.g. for tests.
  Result<void> AddDatabase(std::unique_ptr<Database> db);

  // Passive remotes (punix:PATH, ptcp:[PORT][:IP], pssl:[PORT][:IP]) listen; active ones
  // (tcp:IP[:PORT], ssl:IP[:PORT], unix:PATH) connect out and serve the OVSDB protocol on that
  // connection, reconnecting with back-off (1 s doubling to max_backoff) whenever it fails or
  // closes, as ovsdb-server does (see remotes.h). An existing remote gets the new options.
  Result<void> AddRemote(const std::string& remote, const RemoteOptions& opts = {});
  // Stops listening on a passive remote (its sessions stay open), or disconnects an active one
  // and stops reconnecting.
  Result<void> RemoveRemote(const std::string& remote);
  std::vector<RemoteStatus> RemoteStatuses() const { return remotes_.Statuses(); }
  uint16_t tcp_port(const std::string& remote) const { return remotes_.tcp_port(remote); }
  std::vector<std::string> Remotes() const { return remotes_.List(); }
  // The TLS configuration of ssl:/pssl: remotes (--private-key ..., the SSL table).
  const std::shared_ptr<TlsConfig>& tls() const { return remotes_.tls(); }

  Database* FindDatabase(const std::string& name);
  std::vector<std::string> DatabaseNames() const;
  const Uuid& server_id() const { return server_id_; }
  size_t n_sessions() const { return sessions_.size(); }

  // Runs a transaction from inside the process (as a client would), notifying monitors.
  TxnOutcome Transact(const std::string& db, const nlohmann::json& ops);

  // Compacts every database log now (unixctl ovsdb-server/compact).
  Result<void> CompactAll();

 private:
  struct DbEntry;
  struct Session;
  struct PendingTxn;

  Result<void> Serve(std::unique_ptr<Database> db, std::optional<Log> log, std::string path);
  std::shared_ptr<JsonRpcConnection> Accept(StreamPtr stream, const std::string& remote,
                                            std::function<void(const std::string&)> on_closed);
  void HandleMessage(Session& s, nlohmann::json msg);
  void HandleRequest(Session& s, const std::string& method, const nlohmann::json& params,
                     const nlohmann::json& id);
  void CloseSession(Session& s);

  void DoTransact(Session& s, const nlohmann::json& params, const nlohmann::json& id);
  bool RunTxn(PendingTxn& p);  // false while still blocked
  void RetryPending(const std::string& db);
  void ArmPendingTimer();
  void Committed(DbEntry& e, const TxnOutcome& out);
  void DoMonitor(Session& s, const std::string& method, const nlohmann::json& params,
                 const nlohmann::json& id);
  void DoMonitorCondChange(Session& s, const nlohmann::json& params, const nlohmann::json& id);
  void SendUpdates(Session& s, DbEntry& e, const ChangeSet& changes);
  void Notify(Session& s, const nlohmann::json& id, int version, const Uuid& txn,
              nlohmann::json updates);
  void ArmCoalesceTimer();
  void FlushCoalesced();
  void DoLock(Session& s, const std::string& method, const nlohmann::json& params,
              const nlohmann::json& id);
  void ReleaseLocks(Session& s);
  void UpdateServerDb();

  asio::io_context& io_;
  ServerOptions opts_;
  Uuid server_id_;
  std::map<std::string, std::unique_ptr<DbEntry>> dbs_;
  std::map<JsonRpcConnection*, std::unique_ptr<Session>> sessions_;
  std::map<std::string, std::deque<Session*>> locks_;  // front = owner
  std::deque<std::unique_ptr<PendingTxn>> pending_;
  asio::steady_timer pending_timer_;
  asio::steady_timer coalesce_timer_;
  bool coalesce_armed_ = false;
  RemoteSet remotes_;  // last: destroyed first
};

// unixctl ovsdb-server/compact and ovsdb-server/list-dbs, for every process that serves `server`.
void RegisterOvsdbServerCommands(UnixctlServer& unixctl, OvsdbServer& server);

}  // namespace sluice::db
