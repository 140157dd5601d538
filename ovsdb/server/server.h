// The OVSDB server: databases (each with its durable log), JSON-RPC sessions over the remotes,
// and the RFC 7047 methods plus Open vSwitch's extensions (monitor_cond, monitor_cond_since,
// monitor_cond_change, set_db_change_aware, get_server_id, the _Server database). Runs on one
// asio io_context; embedded in sluice-switchd (on a thread of its own, so that commits never
// wait for the bridge layer) or standalone.
//
// Threads: every method runs on the io_context's thread. The ones marked "any thread" may be
// called from another thread too: they run there and wait for the result.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
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

class JsonDoc;
class JsonNode;

struct ServerOptions {
  JsonRpcLimits limits;
  // A session with more unsent output than this gets no further update notifications; the rows
  // that change meanwhile are remembered and sent as one coalesced update once it drains.
  size_t congestion_bytes = 4 << 20;
  // A session whose peer has not yet read this many bytes of what was sent (it is behind the
  // commits) gets the next updates merged into one, sent as soon as it has read up (checked
  // every coalesce_poll_ms) or after coalesce_max_ms at the latest. A client that keeps up
  // gets every update at once; one that does not gets fewer, bigger ones (as ovsdb-server does
  // when its own output backs up), which costs it less to process. 0 turns this off.
  size_t coalesce_unread_bytes = 1;
  int coalesce_poll_ms = 1;
  int coalesce_max_ms = 100;
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

  // Runs the io_context on a thread of its own until the server is destroyed (or Stop()).
  void StartThread();
  void Stop();

  // Passive remotes (punix:PATH, ptcp:[PORT][:IP], pssl:[PORT][:IP]) listen; active ones
  // (tcp:IP[:PORT], ssl:IP[:PORT], unix:PATH) connect out and serve the OVSDB protocol on that
  // connection, reconnecting with back-off (1 s doubling to max_backoff) whenever it fails or
  // closes, as ovsdb-server does (see remotes.h). An existing remote gets the new options.
  // Any thread (the remotes themselves live on the server's thread).
  Result<void> AddRemote(const std::string& remote, const RemoteOptions& opts = {});
  // Stops listening on a passive remote (its sessions stay open), or disconnects an active one
  // and stops reconnecting. Any thread.
  Result<void> RemoveRemote(const std::string& remote);
  std::vector<RemoteStatus> RemoteStatuses() const;    // any thread
  uint16_t tcp_port(const std::string& remote) const;  // bound port of a ptcp remote; any thread
  std::vector<std::string> Remotes() const;            // any thread
  // The TLS configuration of ssl:/pssl: remotes (--private-key ..., the SSL table); fixed at
  // construction, and a TlsConfig may be used from any thread.
  const std::shared_ptr<TlsConfig>& tls() const { return tls_; }

  Database* FindDatabase(const std::string& name);
  std::vector<std::string> DatabaseNames() const;
  const Uuid& server_id() const { return server_id_; }
  size_t n_sessions() const { return sessions_.size(); }

  // Runs a transaction from inside the process (as a client would), notifying monitors.
  // Any thread.
  TxnOutcome Transact(const std::string& db, const nlohmann::json& ops);

  // Compacts every database log now and returns once the compacted files are in place. From
  // another thread the compaction runs in the background and transactions go on meanwhile; on
  // the server's own thread it runs in place. Any thread.
  Result<void> CompactAll();
  // The same without waiting: `done` runs on the server's thread when all are in place (or
  // one failed). Any thread; transactions go on meanwhile.
  void CompactAllAsync(std::function<void(Result<void>)> done);

 private:
  struct DbEntry;
  struct Session;
  struct PendingTxn;
  struct MonitorGroup;
  struct Outgoing;
  struct Compaction;

  // Runs `fn` on the server's thread and returns its result.
  template <class Fn>
  auto OnThread(Fn&& fn) const -> decltype(fn());

  Result<void> Serve(std::unique_ptr<Database> db, std::optional<Log> log, std::string path);
  // Serves an established stream from `remote` (RemoteSet's ServeFn).
  std::shared_ptr<JsonRpcConnection> Accept(StreamPtr stream, const std::string& remote,
                                            std::function<void(const std::string&)> on_closed);
  void HandleText(Session& s, std::string text);
  void HandleMessage(Session& s, nlohmann::json msg);
  void HandleRequest(Session& s, const std::string& method, nlohmann::json& params,
                     const nlohmann::json& id);
  void CloseSession(Session& s);

  void DoTransact(Session& s, nlohmann::json params, const nlohmann::json& id);
  void DoTransact(Session& s, std::unique_ptr<JsonDoc> doc, const JsonNode& params,
                  const nlohmann::json& id);
  template <class J>
  bool CheckTransact(Session& s, const J& params, const nlohmann::json& id, std::string& db);
  void Submit(std::unique_ptr<PendingTxn> p);
  bool RunTxn(PendingTxn& p);  // false while still blocked
  template <class J>
  TxnOutcome Execute(DbEntry& e, const J& params, size_t first, TxnContext& ctx);
  void RetryPending(const std::string& db);
  void ArmPendingTimer();
  void Committed(DbEntry& e);

  // Log compaction in the background (server_compaction.cc).
  void StartCompaction(DbEntry& e, std::function<void(Result<void>)> done);
  void FinishCompaction(DbEntry& e);
  void AbandonCompactions();

  // Monitors (server_monitors.cc).
  void DoMonitor(Session& s, const std::string& method, const nlohmann::json& params,
                 const nlohmann::json& id);
  void DoMonitorCondChange(Session& s, const nlohmann::json& params, const nlohmann::json& id);
  bool CancelMonitor(Session& s, const nlohmann::json& monitor_id);
  MonitorGroup* JoinGroup(DbEntry& e, Monitor monitor);
  void LeaveGroup(DbEntry& e, MonitorGroup* g);
  // During a commit: builds the notifications of `changes` (sent by FlushOutgoing).
  void CollectUpdates(DbEntry& e, const ChangeSet& changes);
  // Sends them; with `to`, only that connection's (the rest stay for the next call).
  void FlushOutgoing(const JsonRpcConnection* to = nullptr);
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
  std::vector<Outgoing> outgoing_;
  asio::steady_timer pending_timer_;
  asio::steady_timer coalesce_timer_;
  bool coalesce_armed_ = false;
  std::shared_ptr<TlsConfig> tls_;
  std::thread thread_;  // StartThread()
  RemoteSet remotes_;   // last: destroyed first
};

// unixctl ovsdb-server/compact and ovsdb-server/list-dbs, for every process that serves `server`.
// `unixctl_io` is the io_context `unixctl` runs on (the server's, or another thread's).
void RegisterOvsdbServerCommands(UnixctlServer& unixctl, asio::io_context& unixctl_io,
                                 OvsdbServer& server);

}  // namespace sluice::db
