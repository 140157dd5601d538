#include "ovsdb/server/server.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "sluice/log.h"

namespace sluice::db {
namespace {

using Json = nlohmann::json;

auto Log_() {
  static auto l = log::Get("ovsdb_server");
  return l;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The _Server database, as Open vSwitch's IDL expects to find it.
constexpr const char* kServerSchema = R"({
  "name": "_Server", "version": "1.2.0",
  "tables": {"Database": {"isRoot": true, "columns": {
    "name": {"type": "string"},
    "model": {"type": {"key": {"type": "string",
                               "enum": ["set", ["standalone", "clustered", "relay"]]}}},
    "connected": {"type": "boolean"},
    "leader": {"type": "boolean"},
    "schema": {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
    "cid": {"type": {"key": {"type": "uuid"}, "min": 0, "max": 1}},
    "sid": {"type": {"key": {"type": "uuid"}, "min": 0, "max": 1}},
    "index": {"type": {"key": {"type": "integer"}, "min": 0, "max": 1}}}}}})";

Json Err(const std::string& error, const std::string& details = {}) {
  Json j = {{"error", error}};
  if (!details.empty()) j["details"] = details;
  return j;
}

}  // namespace

struct OvsdbServer::DbEntry {
  std::unique_ptr<Database> db;
  std::optional<Log> log;
  std::string path;
  Uuid last_txn;  // all-zero until the first commit after start-up
};

struct OvsdbServer::Session {
  std::shared_ptr<JsonRpcConnection> conn;
  struct Mon {
    std::string db;
    Json id;
    Monitor monitor;
    // While congested: table -> row -> the row as the client last saw it (nullopt: absent).
    std::map<std::string, std::map<Uuid, std::optional<Row>>> coalesced;
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
  Json ops;
  int64_t first_ms;
};

OvsdbServer::OvsdbServer(asio::io_context& io, ServerOptions opts)
    : io_(io),
      opts_(opts),
      server_id_(Uuid::Random()),
      pending_timer_(io),
      coalesce_timer_(io),
      remotes_(io, [this](StreamPtr s, const std::string& remote,
                          std::function<void(const std::string&)> on_closed) {
        return Accept(std::move(s), remote, std::move(on_closed));
      }) {
  remotes_.SetTls(opts_.tls ? opts_.tls : DefaultTlsConfig());
  if (!opts_.limits.budget) opts_.limits.budget = MemoryBudget::Create(opts_.memory_budget);
  auto schema = DatabaseSchema::FromJson(Json::parse(kServerSchema));
  auto e = std::make_unique<DbEntry>();
  e->db = std::make_unique<Database>(std::move(*schema));
  dbs_["_Server"] = std::move(e);
  UpdateServerDb();
}

OvsdbServer::~OvsdbServer() {
  pending_timer_.cancel();
  coalesce_timer_.cancel();
  for (auto& [c, s] : sessions_) {
    s->conn->OnClose(nullptr);
    s->conn->Close();
  }
}

Result<void> OvsdbServer::AddDatabaseFile(const std::string& path) {
  auto opened = Log::Open(path);
  if (!opened) return std::unexpected(opened.error());
  if (!opened->tail_error.empty()) {
    Log_()->warn("{}: discarded {} bytes of torn or corrupt log tail ({})", path,
                 opened->discarded_bytes, opened->tail_error);
  }
  auto schema = DatabaseSchema::FromJson(opened->schema);
  if (!schema) return std::unexpected(schema.error());
  auto db = std::make_unique<Database>(std::move(*schema));
  for (const auto& rec : opened->records) {
    if (auto r = db->ApplyRecord(rec); !r) {
      return MakeError(Errc::kInvalid, path + ": bad record: " + r.error().message);
    }
  }
  Log_()->info("{}: loaded database {} ({} records)", path, db->schema().name,
               opened->records.size());
  return Serve(std::move(db), std::move(opened->log), path);
}

Result<void> OvsdbServer::AddOrCreateDatabaseFile(const std::string& path,
                                                  const std::string& schema_path) {
  if (!std::filesystem::exists(path)) {
    std::ifstream in(schema_path);
    if (!in) return MakeError(Errc::kNotFound, "cannot read schema " + schema_path);
    Json schema = Json::parse(in, nullptr, false);
    if (schema.is_discarded()) return MakeError(Errc::kInvalid, schema_path + ": not JSON");
    if (auto s = DatabaseSchema::FromJson(schema); !s) return std::unexpected(s.error());
    auto log = Log::Create(path, schema);
    if (!log) return std::unexpected(log.error());
  }
  return AddDatabaseFile(path);
}

Result<void> OvsdbServer::AddOrCreateDatabaseFromSchemaText(const std::string& path,
                                                            const std::string& schema_text) {
  if (!std::filesystem::exists(path)) {
    Json schema = Json::parse(schema_text, nullptr, false);
    if (schema.is_discarded()) return MakeError(Errc::kInvalid, "schema is not JSON");
    if (auto s = DatabaseSchema::FromJson(schema); !s) return std::unexpected(s.error());
    auto log = Log::Create(path, schema);
    if (!log) return std::unexpected(log.error());
    Log_()->info("{}: created database {}", path, schema.value("name", ""));
  }
  return AddDatabaseFile(path);
}

Result<void> OvsdbServer::AddDatabase(std::unique_ptr<Database> db) {
  return Serve(std::move(db), std::nullopt, "");
}

Result<void> OvsdbServer::Serve(std::unique_ptr<Database> db, std::optional<Log> log,
                                std::string path) {
  std::string name = db->schema().name;
  if (dbs_.count(name)) return MakeError(Errc::kExists, "database " + name + " already served");
  auto e = std::make_unique<DbEntry>();
  e->db = std::move(db);
  e->log = std::move(log);
  e->path = std::move(path);
  dbs_[name] = std::move(e);
  UpdateServerDb();
  return {};
}

void OvsdbServer::UpdateServerDb() {
  Json ops = Json::array({Json{{"op", "delete"}, {"table", "Database"}, {"where", Json::array()}}});
  for (const auto& [name, e] : dbs_) {
    Json row = {{"name", name},
                {"model", "standalone"},
                {"connected", true},
                {"leader", true},
                {"schema", e->db->schema().ToJson().dump()}};
    ops.push_back(Json{{"op", "insert"}, {"table", "Database"}, {"row", row}});
  }
  DbEntry& sdb = *dbs_["_Server"];
  TxnOutcome out = sdb.db->Execute(ops);
  if (out.committed) Committed(sdb, out);
}

Result<void> OvsdbServer::AddRemote(const std::string& remote, const RemoteOptions& opts) {
  return remotes_.Add(remote, opts);
}

Result<void> OvsdbServer::RemoveRemote(const std::string& remote) {
  return remotes_.Remove(remote);
}

Database* OvsdbServer::FindDatabase(const std::string& name) {
  auto it = dbs_.find(name);
  return it == dbs_.end() ? nullptr : it->second->db.get();
}

std::vector<std::string> OvsdbServer::DatabaseNames() const {
  std::vector<std::string> out;
  for (const auto& [n, e] : dbs_) out.push_back(n);
  return out;
}

std::shared_ptr<JsonRpcConnection> OvsdbServer::Accept(
    StreamPtr stream, const std::string& remote,
    std::function<void(const std::string&)> on_closed) {
  auto conn = JsonRpcConnection::Create(std::move(stream), opts_.limits);
  auto s = std::make_unique<Session>();
  s->conn = conn;
  s->remote = remote;
  s->on_closed = std::move(on_closed);
  Session* sp = s.get();
  conn->OnMessage([this, sp](JsonRpcConnection&, Json msg) { HandleMessage(*sp, std::move(msg)); });
  conn->OnClose([this, sp](JsonRpcConnection&, const std::string& why) {
    Log_()->debug("{}: closed ({})", sp->conn->peer(), why);
    sp->close_reason = why;
    // Defer: we may be inside this session's own callbacks.
    asio::post(io_, [this, sp] { CloseSession(*sp); });
  });
  sessions_[conn.get()] = std::move(s);
  conn->Start();
  return conn;
}

void OvsdbServer::CloseSession(Session& s) {
  ReleaseLocks(s);
  for (auto it = pending_.begin(); it != pending_.end();) {
    if ((*it)->session == &s)
      it = pending_.erase(it);
    else
      ++it;
  }
  auto on_closed = std::move(s.on_closed);
  std::string why = s.close_reason;
  sessions_.erase(s.conn.get());
  if (on_closed) on_closed(why);
}

void OvsdbServer::HandleMessage(Session& s, Json msg) {
  if (!msg.contains("method")) return;  // a reply to nothing we asked: ignore
  if (!msg["method"].is_string()) {
    s.conn->SendError(msg.value("id", Json()), Err("syntax error", "method is not a string"));
    return;
  }
  std::string method = msg["method"];
  Json id = msg.contains("id") ? msg["id"] : Json();
  Json params = msg.contains("params") ? msg["params"] : Json::array();
  if (id.is_null() && method != "cancel") return;  // a notification: nothing to do, no reply
  if (!params.is_array()) {
    s.conn->SendError(id, Err("syntax error", "params is not an array"));
    return;
  }
  HandleRequest(s, method, params, id);
}

void OvsdbServer::HandleRequest(Session& s, const std::string& method, const Json& params,
                                const Json& id) {
  auto& c = *s.conn;
  if (method == "echo") {
    c.SendReply(id, params);
  } else if (method == "list_dbs") {
    c.SendReply(id, DatabaseNames());
  } else if (method == "get_schema") {
    if (params.size() != 1 || !params[0].is_string()) {
      c.SendError(id, Err("syntax error", "get_schema takes one database name"));
      return;
    }
    auto it = dbs_.find(params[0].get<std::string>());
    if (it == dbs_.end()) {
      c.SendError(id, Err("unknown database", params[0].get<std::string>()));
      return;
    }
    c.SendReply(id, it->second->db->schema().ToJson());
  } else if (method == "transact") {
    DoTransact(s, params, id);
  } else if (method == "cancel") {
    // Notification: answer the cancelled transact, if it is still waiting.
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if ((*it)->session == &s && params.size() == 1 && (*it)->id == params[0]) {
        c.SendError((*it)->id, Err("canceled"));
        pending_.erase(it);
        break;
      }
    }
  } else if (method == "monitor" || method == "monitor_cond" || method == "monitor_cond_since") {
    DoMonitor(s, method, params, id);
  } else if (method == "monitor_cond_change") {
    DoMonitorCondChange(s, params, id);
  } else if (method == "monitor_cancel") {
    if (params.size() != 1) {
      c.SendError(id, Err("syntax error", "monitor_cancel takes one monitor id"));
      return;
    }
    if (s.monitors.erase(params[0].dump()) == 0) {
      c.SendError(id, Err("unknown monitor"));
      return;
    }
    c.SendReply(id, Json::object());
  } else if (method == "lock" || method == "steal" || method == "unlock") {
    DoLock(s, method, params, id);
  } else if (method == "set_db_change_aware") {
    if (params.size() != 1 || !params[0].is_boolean()) {
      c.SendError(id, Err("syntax error", "set_db_change_aware takes one boolean"));
      return;
    }
    s.db_change_aware = params[0];
    c.SendReply(id, Json::object());
  } else if (method == "get_server_id") {
    c.SendReply(id, server_id_.ToString());
  } else {
    c.SendError(id, Err("unknown method", method));
  }
}

void OvsdbServer::DoTransact(Session& s, const Json& params, const Json& id) {
  if (params.empty() || !params[0].is_string()) {
    s.conn->SendError(id, Err("syntax error", "transact needs a database name"));
    return;
  }
  std::string db = params[0];
  auto it = dbs_.find(db);
  if (it == dbs_.end()) {
    s.conn->SendError(id, Err("unknown database", db));
    return;
  }
  Json ops = Json::array();
  for (size_t i = 1; i < params.size(); ++i) ops.push_back(params[i]);
  if (db == "_Server") {
    for (const auto& op : ops) {
      std::string o = op.is_object() ? op.value("op", "") : "";
      if (o != "select" && o != "wait" && o != "comment" && o != "abort" && o != "assert") {
        s.conn->SendError(id, Err("permission error", "the _Server database is read-only"));
        return;
      }
    }
  }
  for (const auto& waiting : pending_) {
    if (waiting->session == &s && waiting->id == id) {
      s.conn->SendError(id, Err("syntax error", "transact: duplicate request ID"));
      return;
    }
  }
  auto p = std::make_unique<PendingTxn>(PendingTxn{&s, id, db, std::move(ops), NowMs()});
  if (!RunTxn(*p)) {
    pending_.push_back(std::move(p));
    ArmPendingTimer();
  }
}

bool OvsdbServer::RunTxn(PendingTxn& p) {
  DbEntry& e = *dbs_[p.db];
  TxnContext ctx;
  ctx.waited_ms = NowMs() - p.first_ms;
  Session* self = p.session;
  ctx.owns_lock = [this, self](const std::string& name) {
    auto it = locks_.find(name);
    return it != locks_.end() && !it->second.empty() && it->second.front() == self;
  };
  if (e.log) {
    ctx.persist = [&e](const Json& record, bool durable) { return e.log->Append(record, durable); };
  }
  TxnOutcome out = e.db->Execute(p.ops, ctx);
  if (out.blocked) return false;
  // Update notifications go out before the reply, so that a client monitoring what it changed
  // knows the changes by the time it has the reply (as ovsdb-server does).
  if (out.committed) Committed(e, out);
  p.session->conn->SendReply(p.id, out.reply);
  return true;
}

void OvsdbServer::Committed(DbEntry& e, const TxnOutcome& out) {
  e.last_txn = Uuid::Random();
  if (e.log && opts_.compact && e.log->ShouldCompact()) {
    auto r = e.log->Compact(e.db->schema().ToJson(), e.db->Snapshot());
    if (!r)
      Log_()->warn("{}: compaction failed: {}", e.path, r.error().message);
    else
      Log_()->info("{}: compacted", e.path);
  }
  std::string name = e.db->schema().name;
  for (auto& [conn, s] : sessions_) SendUpdates(*s, e, out.changes);
  asio::post(io_, [this, name] { RetryPending(name); });
}

void OvsdbServer::Notify(Session& s, const Json& id, int version, const Uuid& txn, Json updates) {
  switch (version) {
    case 1:
      s.conn->SendNotify("update", Json::array({id, std::move(updates)}));
      break;
    case 2:
      s.conn->SendNotify("update2", Json::array({id, std::move(updates)}));
      break;
    default:
      s.conn->SendNotify("update3", Json::array({id, txn.ToString(), std::move(updates)}));
  }
}

void OvsdbServer::SendUpdates(Session& s, DbEntry& e, const ChangeSet& changes) {
  std::string name = e.db->schema().name;
  bool congested = s.conn->backlog_bytes() > opts_.congestion_bytes;
  for (auto& [key, m] : s.monitors) {
    if (m.db != name) continue;
    if (congested || !m.coalesced.empty()) {
      // Keep only the first "old" state per row: the client's view before congestion.
      for (const auto& [table, tc] : changes.tables) {
        auto& rows = m.coalesced[table];
        for (const auto& [uuid, ch] : tc.rows) rows.try_emplace(uuid, ch.old_row);
      }
      ArmCoalesceTimer();
      continue;
    }
    Json updates = m.monitor.Updates(changes);
    if (!updates.empty()) Notify(s, m.id, m.monitor.version(), e.last_txn, std::move(updates));
  }
}

void OvsdbServer::ArmCoalesceTimer() {
  if (coalesce_armed_) return;
  coalesce_armed_ = true;
  coalesce_timer_.expires_after(std::chrono::milliseconds(20));
  coalesce_timer_.async_wait([this](std::error_code ec) {
    coalesce_armed_ = false;
    if (!ec) FlushCoalesced();
  });
}

void OvsdbServer::FlushCoalesced() {
  bool more = false;
  for (auto& [conn, s] : sessions_) {
    bool drained = s->conn->backlog_bytes() <= opts_.congestion_bytes / 2;
    for (auto& [key, m] : s->monitors) {
      if (m.coalesced.empty()) continue;
      if (!drained) {
        more = true;
        continue;
      }
      // One synthetic change per row: from what the client saw to what is there now.
      DbEntry& e = *dbs_[m.db];
      ChangeSet cs;
      for (auto& [table, rows] : m.coalesced) {
        const Table* t = e.db->GetTable(table);
        if (!t) continue;
        TableChanges& tc = cs.tables[table];
        tc.table = &t->schema();
        for (auto& [uuid, old_row] : rows) {
          RowChange rc;
          rc.old_row = std::move(old_row);
          if (const Row* now = t->Find(uuid)) rc.new_row = *now;
          if (rc.old_row || rc.new_row) tc.rows[uuid] = std::move(rc);
        }
      }
      m.coalesced.clear();
      Json updates = m.monitor.Updates(cs);
      if (!updates.empty()) Notify(*s, m.id, m.monitor.version(), e.last_txn, std::move(updates));
    }
  }
  if (more) ArmCoalesceTimer();
}

void OvsdbServer::RetryPending(const std::string& db) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if ((*it)->db == db || db.empty()) {
      if (RunTxn(**it)) {
        it = pending_.erase(it);
        continue;
      }
    }
    ++it;
  }
}

void OvsdbServer::ArmPendingTimer() {
  // Waits with a timeout must fail once it passes even if nothing else commits.
  pending_timer_.expires_after(std::chrono::milliseconds(50));
  pending_timer_.async_wait([this](std::error_code ec) {
    if (ec) return;
    RetryPending("");
    if (!pending_.empty()) ArmPendingTimer();
  });
}

void OvsdbServer::DoMonitor(Session& s, const std::string& method, const Json& params,
                            const Json& id) {
  int version = method == "monitor" ? 1 : method == "monitor_cond" ? 2 : 3;
  size_t want = version == 3 ? 4 : 3;
  if (params.size() != want || !params[0].is_string()) {
    s.conn->SendError(
        id, Err("syntax error", method + " takes " + std::to_string(want) + " parameters"));
    return;
  }
  std::string db = params[0];
  auto it = dbs_.find(db);
  if (it == dbs_.end()) {
    s.conn->SendError(id, Err("unknown database", db));
    return;
  }
  std::string key = params[1].dump();
  if (s.monitors.count(key)) {
    s.conn->SendError(id, Err("duplicate monitor ID"));
    return;
  }
  auto m = Monitor::Parse(*it->second->db, params[2], version);
  if (!m) {
    s.conn->SendError(id, m.error().ToJson());
    return;
  }
  DbEntry& e = *it->second;
  if (version == 3) {
    std::string last = e.last_txn.ToString();
    bool found = params[3].is_string() && params[3] == last && last != Uuid{}.ToString();
    Json initial = found ? Json::object() : m->Initial(*e.db);
    s.conn->SendReply(id, Json::array({found, last, initial}));
  } else {
    s.conn->SendReply(id, m->Initial(*e.db));
  }
  s.monitors.emplace(key, Session::Mon{db, params[1], std::move(*m), {}});
}

void OvsdbServer::DoMonitorCondChange(Session& s, const Json& params, const Json& id) {
  if (params.size() != 3) {
    s.conn->SendError(id, Err("syntax error", "monitor_cond_change takes 3 parameters"));
    return;
  }
  auto it = s.monitors.find(params[0].dump());
  if (it == s.monitors.end()) {
    s.conn->SendError(id, Err("unknown monitor"));
    return;
  }
  Session::Mon& mon = it->second;
  if (mon.monitor.version() < 2) {
    s.conn->SendError(id, Err("syntax error", "not a conditional monitor"));
    return;
  }
  auto changes = mon.monitor.ChangeConditions(*dbs_[mon.db]->db, params[2]);
  if (!changes) {
    s.conn->SendError(id, changes.error().ToJson());
    return;
  }
  Json new_id = params[1];
  if (new_id.dump() != it->first) {
    Session::Mon moved = std::move(mon);
    moved.id = new_id;
    s.monitors.erase(it);
    it = s.monitors.emplace(new_id.dump(), std::move(moved)).first;
  }
  s.conn->SendReply(id, Json::object());
  if (!changes->empty()) {
    if (it->second.monitor.version() == 2) {
      s.conn->SendNotify("update2", Json::array({new_id, *changes}));
    } else {
      s.conn->SendNotify("update3",
                         Json::array({new_id, dbs_[it->second.db]->last_txn.ToString(), *changes}));
    }
  }
}

void OvsdbServer::DoLock(Session& s, const std::string& method, const Json& params,
                         const Json& id) {
  // RFC 7047 4.1.8: the lock name is an <id>.
  if (params.size() != 1 || !params[0].is_string() || !IsIdentifier(params[0])) {
    s.conn->SendError(id, Err("syntax error", method + " request params must be <id>"));
    return;
  }
  std::string name = params[0];
  auto& q = locks_[name];
  auto pos = std::find(q.begin(), q.end(), &s);
  if (method == "unlock") {
    if (pos == q.end()) {
      s.conn->SendError(id,
                        Err("syntax error", "unlock: \"unlock\" without \"lock\" or \"steal\""));
      return;
    }
    bool was_owner = pos == q.begin();
    q.erase(pos);
    s.conn->SendReply(id, Json::object());
    if (was_owner && !q.empty()) q.front()->conn->SendNotify("locked", Json::array({name}));
    if (q.empty()) locks_.erase(name);
    return;
  }
  if (pos != q.end()) {
    s.conn->SendError(
        id, Err("syntax error", method + ": must issue \"unlock\" before new \"" + method + "\""));
    return;
  }
  if (method == "steal") {
    Session* victim = q.empty() ? nullptr : q.front();
    q.push_front(&s);
    s.conn->SendReply(id, Json{{"locked", true}});
    if (victim) {
      // The previous owner loses the lock and must ask again.
      q.erase(std::find(q.begin() + 1, q.end(), victim));
      victim->conn->SendNotify("stolen", Json::array({name}));
    }
    return;
  }
  q.push_back(&s);
  s.conn->SendReply(id, Json{{"locked", q.front() == &s}});
}

void OvsdbServer::ReleaseLocks(Session& s) {
  for (auto it = locks_.begin(); it != locks_.end();) {
    auto& q = it->second;
    auto pos = std::find(q.begin(), q.end(), &s);
    if (pos != q.end()) {
      bool was_owner = pos == q.begin();
      q.erase(pos);
      if (was_owner && !q.empty()) q.front()->conn->SendNotify("locked", Json::array({it->first}));
    }
    if (q.empty())
      it = locks_.erase(it);
    else
      ++it;
  }
}

TxnOutcome OvsdbServer::Transact(const std::string& db, const Json& ops) {
  auto it = dbs_.find(db);
  if (it == dbs_.end()) {
    TxnOutcome out;
    out.reply = Json::array({Err("unknown database", db)});
    return out;
  }
  DbEntry& e = *it->second;
  TxnContext ctx;
  if (e.log) {
    ctx.persist = [&e](const Json& record, bool durable) { return e.log->Append(record, durable); };
  }
  TxnOutcome out = e.db->Execute(ops, ctx);
  if (out.committed) Committed(e, out);
  return out;
}

Result<void> OvsdbServer::CompactAll() {
  for (auto& [name, e] : dbs_) {
    if (!e->log) continue;
    if (auto r = e->log->Compact(e->db->schema().ToJson(), e->db->Snapshot()); !r) return r;
  }
  return {};
}

void RegisterOvsdbServerCommands(UnixctlServer& unixctl, OvsdbServer& server) {
  using Args = UnixctlServer::Args;
  unixctl.Register("ovsdb-server/compact", "[DB]", 0, 1,
                   [&server](const Args&) -> Result<std::string> {
                     if (auto r = server.CompactAll(); !r) return std::unexpected(r.error());
                     return std::string();
                   });
  unixctl.Register("ovsdb-server/list-dbs", "", 0, 0,
                   [&server](const Args&) -> Result<std::string> {
                     std::string out;
                     for (const auto& n : server.DatabaseNames()) out += n + "\n";
                     return out;
                   });
}

}  // namespace sluice::db
