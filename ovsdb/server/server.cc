#include "ovsdb/server/server.h"

#include "ovsdb/json_doc.h"
#include "ovsdb/server/server_internal.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>

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

OvsdbServer::OvsdbServer(asio::io_context& io, ServerOptions opts)
    : io_(io),
      opts_(opts),
      server_id_(Uuid::Random()),
      pending_timer_(io),
      coalesce_timer_(io),
      tls_(opts_.tls ? opts_.tls : DefaultTlsConfig()),
      remotes_(io, [this](StreamPtr s, const std::string& remote,
                          std::function<void(const std::string&)> on_closed) {
        return Accept(std::move(s), remote, std::move(on_closed));
      }) {
  remotes_.SetTls(tls_);
  if (!opts_.limits.budget) opts_.limits.budget = MemoryBudget::Create(opts_.memory_budget);
  auto schema = DatabaseSchema::FromJson(Json::parse(kServerSchema));
  auto e = std::make_unique<DbEntry>();
  e->db = std::make_unique<Database>(std::move(*schema));
  dbs_["_Server"] = std::move(e);
  UpdateServerDb();
}

OvsdbServer::~OvsdbServer() {
  Stop();
  AbandonCompactions();
  pending_timer_.cancel();
  coalesce_timer_.cancel();
  for (auto& [c, s] : sessions_) {
    s->conn->OnClose(nullptr);
    s->conn->Close();
  }
}

void OvsdbServer::StartThread() {
  thread_ = std::thread([this] {
    auto work = asio::make_work_guard(io_);
    io_.run();
  });
}

void OvsdbServer::Stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

Result<void> OvsdbServer::AddDatabaseFile(const std::string& path) {
  // Records are replayed as they are read, so a large log is never in memory as JSON at once.
  std::unique_ptr<Database> db;
  auto on_schema = [&db](Json&& schema_json) -> Result<void> {
    auto schema = DatabaseSchema::FromJson(schema_json);
    if (!schema) return std::unexpected(schema.error());
    db = std::make_unique<Database>(std::move(*schema));
    return {};
  };
  auto on_record = [&db, &path](Json&& rec) -> Result<void> {
    if (auto r = db->ApplyRecord(rec); !r) {
      return MakeError(Errc::kInvalid, path + ": bad record: " + r.error().message);
    }
    return {};
  };
  auto opened = Log::Open(path, LogMode::kReadWrite, on_record, on_schema);
  if (!opened) return std::unexpected(opened.error());
  if (!opened->tail_error.empty()) {
    Log_()->warn("{}: discarded {} bytes of torn or corrupt log tail ({})", path,
                 opened->discarded_bytes, opened->tail_error);
  }
  Log_()->info("{}: loaded database {} ({} records)", path, db->schema().name,
               opened->log.Stats().records);
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
  TxnContext ctx;
  TxnOutcome out = Execute(sdb, ops, 0, ctx);
  if (out.committed) Committed(sdb);
}

Result<void> OvsdbServer::AddRemote(const std::string& remote, const RemoteOptions& opts) {
  return OnThread([&] { return remotes_.Add(remote, opts); });
}

Result<void> OvsdbServer::RemoveRemote(const std::string& remote) {
  return OnThread([&] { return remotes_.Remove(remote); });
}

std::vector<RemoteStatus> OvsdbServer::RemoteStatuses() const {
  return OnThread([&] { return remotes_.Statuses(); });
}

uint16_t OvsdbServer::tcp_port(const std::string& remote) const {
  return OnThread([&] { return remotes_.tcp_port(remote); });
}

std::vector<std::string> OvsdbServer::Remotes() const {
  return OnThread([&] { return remotes_.List(); });
}

Database* OvsdbServer::FindDatabase(const std::string& name) {
  auto it = dbs_.find(name);
  return it == dbs_.end() ? nullptr : it->second->db.get();
}

std::vector<std::string> OvsdbServer::DatabaseNames() const {
  return OnThread([this] {
    std::vector<std::string> out;
    for (const auto& [n, e] : dbs_) out.push_back(n);
    return out;
  });
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
  conn->OnRawMessage(
      [this, sp](JsonRpcConnection&, std::string text) { HandleText(*sp, std::move(text)); });
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
  for (auto& [key, m] : s.monitors) LeaveGroup(*dbs_[m.db], m.group);
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

void OvsdbServer::HandleText(Session& s, std::string text) {
  // Transactions, the bulk of the traffic, run on a JsonDoc; the rest (and anything the fast
  // parser declines) on nlohmann::json, which also words the errors for malformed input.
  auto doc = std::make_unique<JsonDoc>();
  if (doc->Parse(text) && doc->root().is_object()) {
    const JsonNode& msg = doc->root();
    auto method = msg.find("method");
    auto params = msg.find("params");
    if (method != msg.end() && *method == "transact" && params != msg.end() && params->is_array()) {
      auto id = msg.find("id");
      Json id_json = id != msg.end() ? id->ToJson() : Json();
      if (id_json.is_null()) return;  // a notification: neither run nor answered
      const JsonNode& p = *params;
      DoTransact(s, std::move(doc), p, id_json);
      return;
    }
  }
  Json msg = Json::parse(text, nullptr, false);
  if (msg.is_discarded()) {
    // The framing was intact, so the stream stays usable: report and go on.
    s.conn->SendError(nullptr, Err("syntax error", "malformed JSON"));
    return;
  }
  if (!msg.is_object()) {
    s.conn->SendError(nullptr, Err("syntax error", "JSON-RPC message is not an object"));
    return;
  }
  HandleMessage(s, std::move(msg));
}

void OvsdbServer::HandleMessage(Session& s, Json msg) {
  if (!msg.contains("method")) return;  // a reply to nothing we asked: ignore
  if (!msg["method"].is_string()) {
    s.conn->SendError(msg.value("id", Json()), Err("syntax error", "method is not a string"));
    return;
  }
  std::string method = msg["method"];
  auto id_it = msg.find("id");
  Json id = id_it != msg.end() ? std::move(*id_it) : Json();
  if (id.is_null() && method != "cancel") return;  // a notification: nothing to do, no reply
  auto params_it = msg.find("params");
  Json params = params_it != msg.end() ? std::move(*params_it) : Json::array();
  if (!params.is_array()) {
    s.conn->SendError(id, Err("syntax error", "params is not an array"));
    return;
  }
  HandleRequest(s, method, params, id);
}

void OvsdbServer::HandleRequest(Session& s, const std::string& method, Json& params,
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
    DoTransact(s, std::move(params), id);
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
    if (!CancelMonitor(s, params[0])) {
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

template <class J>
bool OvsdbServer::CheckTransact(Session& s, const J& params, const Json& id, std::string& db) {
  if (params.empty() || !params[0].is_string()) {
    s.conn->SendError(id, Err("syntax error", "transact needs a database name"));
    return false;
  }
  db = StrOf(params[0]);
  if (!dbs_.count(db)) {
    s.conn->SendError(id, Err("unknown database", db));
    return false;
  }
  if (db == "_Server") {
    for (size_t i = 1; i < params.size(); ++i) {
      const J& op = params[i];
      auto o = op.is_object() ? op.find("op") : op.end();
      std::string_view name = o != op.end() && o->is_string() ? StrOf(*o) : "";
      if (name != "select" && name != "wait" && name != "comment" && name != "abort" &&
          name != "assert") {
        s.conn->SendError(id, Err("permission error", "the _Server database is read-only"));
        return false;
      }
    }
  }
  return true;
}

void OvsdbServer::DoTransact(Session& s, Json params, const Json& id) {
  std::string db;
  if (!CheckTransact(s, params, id, db)) return;
  auto p = std::make_unique<PendingTxn>();
  *p = PendingTxn{&s, id, db, std::move(params), nullptr, nullptr, NowMs()};
  Submit(std::move(p));
}

void OvsdbServer::DoTransact(Session& s, std::unique_ptr<JsonDoc> doc, const JsonNode& params,
                             const Json& id) {
  std::string db;
  if (!CheckTransact(s, params, id, db)) return;
  auto p = std::make_unique<PendingTxn>();
  *p = PendingTxn{&s, id, db, Json(), std::move(doc), &params, NowMs()};
  Submit(std::move(p));
}

void OvsdbServer::Submit(std::unique_ptr<PendingTxn> p) {
  for (const auto& waiting : pending_) {
    if (waiting->session == p->session && waiting->id == p->id) {
      p->session->conn->SendError(p->id, Err("syntax error", "transact: duplicate request ID"));
      return;
    }
  }
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
  TxnOutcome out = p.doc ? Execute(e, *p.doc_params, 1, ctx) : Execute(e, p.params, 1, ctx);
  if (out.blocked) return false;
  // The client's own update notifications go out before its reply, so that a client monitoring
  // what it changed knows the changes by the time it has the reply (as ovsdb-server does);
  // the other sessions' (other connections, so no order to keep) right after it, so that the
  // reply does not wait for them.
  if (out.committed) FlushOutgoing(p.session->conn.get());
  p.session->conn->SendReply(p.id, std::move(out.reply));
  if (out.committed) Committed(e);
  return true;
}

template <class J>
TxnOutcome OvsdbServer::Execute(DbEntry& e, const J& params, size_t first, TxnContext& ctx) {
  if (e.log) {
    ctx.persist = [&e](std::string_view record, bool durable) {
      return e.log->AppendText(record, durable);
    };
  }
  ctx.on_commit = [this, &e](const ChangeSet& changes) { CollectUpdates(e, changes); };
  return e.db->Execute(params, ctx, first);
}

void OvsdbServer::Committed(DbEntry& e) {
  FlushOutgoing();
  if (e.log && opts_.compact && !e.compaction && e.log->ShouldCompact()) StartCompaction(e, {});
  if (!pending_.empty()) {
    asio::post(io_, [this, name = e.db->schema().name] { RetryPending(name); });
  }
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
  return OnThread([&]() {
    auto it = dbs_.find(db);
    if (it == dbs_.end()) {
      TxnOutcome out;
      out.reply = Json::array({Err("unknown database", db)});
      return out;
    }
    DbEntry& e = *it->second;
    TxnContext ctx;
    TxnOutcome out = Execute(e, ops, 0, ctx);
    if (out.committed) Committed(e);
    return out;
  });
}

}  // namespace sluice::db
