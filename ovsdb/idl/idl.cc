#include "ovsdb/idl/idl.h"

#include <algorithm>

#include "sluice/log.h"

namespace sluice::db {
namespace {

using Json = nlohmann::json;

auto Log_() {
  static auto l = log::Get("ovsdb_idl");
  return l;
}

Json UuidJson(const Uuid& u) { return Json::array({"uuid", u.ToString()}); }

}  // namespace

const Datum* IdlRow::Get(const std::string& column) const {
  auto it = columns.find(column);
  return it == columns.end() ? nullptr : &it->second;
}

std::string IdlRow::GetString(const std::string& column, const std::string& dflt) const {
  const Datum* d = Get(column);
  if (!d || d->keys.empty()) return dflt;
  if (auto* s = std::get_if<std::string>(&d->keys[0])) return *s;
  return dflt;
}

int64_t IdlRow::GetInt(const std::string& column, int64_t dflt) const {
  const Datum* d = Get(column);
  if (!d || d->keys.empty()) return dflt;
  if (auto* v = std::get_if<int64_t>(&d->keys[0])) return *v;
  return dflt;
}

bool IdlRow::GetBool(const std::string& column, bool dflt) const {
  const Datum* d = Get(column);
  if (!d || d->keys.empty()) return dflt;
  if (auto* v = std::get_if<bool>(&d->keys[0])) return *v;
  return dflt;
}

std::vector<Uuid> IdlRow::GetUuids(const std::string& column) const {
  std::vector<Uuid> out;
  if (const Datum* d = Get(column)) {
    for (const auto& a : d->keys) {
      if (auto* u = std::get_if<Uuid>(&a)) out.push_back(*u);
    }
  }
  return out;
}

std::map<std::string, std::string> IdlRow::GetStringMap(const std::string& column) const {
  std::map<std::string, std::string> out;
  if (const Datum* d = Get(column); d && d->is_map) {
    for (size_t i = 0; i < d->keys.size(); ++i) {
      auto* k = std::get_if<std::string>(&d->keys[i]);
      auto* v = std::get_if<std::string>(&d->values[i]);
      if (k && v) out[*k] = *v;
    }
  }
  return out;
}

Idl::Idl(asio::io_context& io, std::string remote, std::string db,
         std::map<std::string, std::vector<std::string>> tables)
    : io_(io),
      remote_(std::move(remote)),
      db_(std::move(db)),
      want_(std::move(tables)),
      timer_(io) {}

Idl::~Idl() {
  stopped_ = true;
  timer_.cancel();
  pending_.reset();
  if (conn_) {
    conn_->OnClose(nullptr);
    conn_->Close();
  }
}

void Idl::Start() { Connect(); }

void Idl::Connect() {
  if (stopped_) return;
  ConnectOptions co;
  co.default_port = kOvsdbPort;
  co.tls = tls_;
  pending_ = AsyncConnect(io_, remote_, co, [this](Result<StreamPtr> s) {
    if (!s) {
      last_error_ = remote_ + ": " + s.error().message;
      last_error_code_ = s.error().code;
      ScheduleReconnect();
      return;
    }
    Connected(std::move(*s));
  });
}

void Idl::SetProbeInterval(int ms) {
  probe_ms_ = ms;
  if (conn_) conn_->SetProbeInterval(std::chrono::milliseconds(ProbeMs()));
}

int Idl::ProbeMs() const {
  if (probe_ms_ >= 0) return probe_ms_;
  return remote_.starts_with("unix:") ? 0 : 5000;  // as Open vSwitch's IDL
}

void Idl::Connected(StreamPtr stream) {
  last_error_code_ = Errc::kOk;
  last_error_.clear();
  conn_ = JsonRpcConnection::Create(std::move(stream));
  conn_->SetProbeInterval(std::chrono::milliseconds(ProbeMs()));
  conn_->OnMessage([this](JsonRpcConnection& c, Json msg) {
    std::string method = msg.value("method", "");
    if (method == "update2" && msg["params"].is_array() && msg["params"].size() == 2) {
      if (msg["params"][0] == Json(monitor_seq_)) ApplyUpdates(msg["params"][1], false);
    } else if (method == "update3" && msg["params"].is_array() && msg["params"].size() == 3) {
      if (msg["params"][0] == Json(monitor_seq_)) ApplyUpdates(msg["params"][2], false);
    } else if (method == "echo" && msg.contains("id")) {
      c.SendReply(msg["id"], msg["params"]);
    }
  });
  conn_->OnClose([this](JsonRpcConnection&, const std::string& why) {
    last_error_ = why;
    synced_ = false;
    asio::post(io_, [this] { ScheduleReconnect(); });
  });
  conn_->Start();
  Send("get_schema", Json::array({db_}), [this](Json reply) {
    if (!reply["error"].is_null()) {
      last_error_ = "get_schema: " + reply["error"].dump();
      Log_()->warn("{}: {}", remote_, last_error_);
      conn_->Close(last_error_);
      return;
    }
    auto schema = DatabaseSchema::FromJson(reply["result"]);
    if (!schema) {
      last_error_ = schema.error().message;
      conn_->Close(last_error_);
      return;
    }
    schema_ = std::move(*schema);
    Monitor();
  });
}

void Idl::ScheduleReconnect() {
  if (stopped_) return;
  backoff_ms_ = backoff_ms_ == 0 ? 100 : std::min(backoff_ms_ * 2, max_backoff_ms_);
  timer_.expires_after(std::chrono::milliseconds(backoff_ms_));
  timer_.async_wait([this](std::error_code ec) {
    if (!ec) Connect();
  });
}

void Idl::Monitor() {
  Json requests = Json::object();
  for (const auto& [table, cols] : want_) {
    const TableSchema* ts = schema_->FindTable(table);
    if (!ts) {
      Log_()->warn("{}: table {} is not in the schema; not replicated", remote_, table);
      continue;
    }
    Json columns = Json::array();
    for (const auto& c : cols) {
      if (ts->FindColumn(c))
        columns.push_back(c);
      else
        Log_()->warn("{}: column {}.{} is not in the schema; not replicated", remote_, table, c);
    }
    Json req = Json::object();
    if (!cols.empty()) req["columns"] = columns;
    requests[table] = req;
  }
  ++monitor_seq_;
  uint64_t seq = monitor_seq_;
  Send("monitor_cond", Json::array({db_, seq, requests}), [this, seq](Json reply) {
    if (seq != monitor_seq_) return;
    if (!reply["error"].is_null()) {
      last_error_ = "monitor_cond: " + reply["error"].dump();
      conn_->Close(last_error_);
      return;
    }
    // Full resync: what we had is gone, what we get is all there is.
    for (auto& [table, rows] : rows_) {
      for (auto& [uuid, row] : rows) changes_.push_back({IdlChange::kDelete, table, uuid, {}});
    }
    rows_.clear();
    ApplyUpdates(reply["result"], true);
    synced_ = true;
    backoff_ms_ = 0;
    if (!ever_synced_) {
      ever_synced_ = true;
      if (on_synced_) on_synced_();
    }
  });
}

void Idl::ApplyUpdates(const Json& updates, bool initial) {
  if (!updates.is_object()) return;
  for (auto& [table, rows] : updates.items()) {
    const TableSchema* ts = schema_->FindTable(table);
    if (!ts || !rows.is_object()) continue;
    auto& replica = rows_[table];
    for (auto& [uuid_s, upd] : rows.items()) {
      auto uuid = Uuid::Parse(uuid_s);
      if (!uuid || !upd.is_object()) continue;
      auto parse_row = [&](const Json& cols, IdlRow* row) {
        for (auto& [col, val] : cols.items()) {
          const ColumnSchema* cs = ts->FindColumn(col);
          if (!cs) continue;
          auto d = DatumFromJson(val, cs->type, nullptr);
          if (d) row->columns[col] = std::move(*d);
        }
      };
      if (upd.contains("initial") || upd.contains("insert")) {
        IdlRow row;
        row.uuid = *uuid;
        // Columns left out of an update2 row hold their defaults.
        const auto& cols = want_[table];
        for (const auto& c : ts->columns) {
          if (c.implicit) continue;
          if (!cols.empty() && std::find(cols.begin(), cols.end(), c.name) == cols.end()) continue;
          row.columns[c.name] = Datum::Default(c.type);
        }
        parse_row(upd.contains("initial") ? upd["initial"] : upd["insert"], &row);
        bool existed = replica.count(*uuid);
        replica[*uuid] = std::move(row);
        changes_.push_back({existed ? IdlChange::kModify : IdlChange::kInsert, table, *uuid, {}});
      } else if (upd.contains("delete")) {
        if (replica.erase(*uuid)) changes_.push_back({IdlChange::kDelete, table, *uuid, {}});
      } else if (upd.contains("modify")) {
        auto it = replica.find(*uuid);
        if (it == replica.end()) continue;
        IdlChange ch{IdlChange::kModify, table, *uuid, {}};
        for (auto& [col, val] : upd["modify"].items()) {
          const ColumnSchema* cs = ts->FindColumn(col);
          if (!cs) continue;
          auto diff = DatumFromJson(val, DiffType(cs->type), nullptr);
          if (!diff) continue;
          Datum& cur = it->second.columns[col];
          cur = ApplyDatumDiff(cs->type, cur, *diff);
          ch.columns.insert(col);
        }
        changes_.push_back(std::move(ch));
      }
    }
  }
  (void)initial;
  ++seqno_;
  if (on_change_) on_change_();
}

void Idl::Send(const std::string& method, Json params, std::function<void(Json)> done) {
  if (!conn_ || conn_->closed()) {
    done(Json{{"error", "not connected"}, {"result", nullptr}});
    return;
  }
  conn_->Request(method, std::move(params), std::move(done));
}

const std::map<Uuid, IdlRow>& Idl::Rows(const std::string& table) const {
  static const std::map<Uuid, IdlRow> kEmpty;
  auto it = rows_.find(table);
  return it == rows_.end() ? kEmpty : it->second;
}

const IdlRow* Idl::Find(const std::string& table, const Uuid& uuid) const {
  const auto& rows = Rows(table);
  auto it = rows.find(uuid);
  return it == rows.end() ? nullptr : &it->second;
}

const IdlRow* Idl::FindBy(const std::string& table, const std::string& column,
                          const std::string& value) const {
  for (const auto& [u, row] : Rows(table)) {
    if (row.GetString(column) == value) return &row;
  }
  return nullptr;
}

std::vector<IdlChange> Idl::TakeChanges() {
  std::vector<IdlChange> out;
  out.swap(changes_);
  return out;
}

void IdlTxn::Insert(const std::string& table, Json row, const std::string& uuid_name) {
  ops_.push_back(
      Json{{"op", "insert"}, {"table", table}, {"row", std::move(row)}, {"uuid-name", uuid_name}});
  names_.push_back(uuid_name);
}

void IdlTxn::Update(const std::string& table, const Uuid& uuid, Json row) {
  ops_.push_back(Json{{"op", "update"},
                      {"table", table},
                      {"where", Json::array({Json::array({"_uuid", "==", UuidJson(uuid)})})},
                      {"row", std::move(row)}});
}

void IdlTxn::Mutate(const std::string& table, const Uuid& uuid, Json mutations) {
  ops_.push_back(Json{{"op", "mutate"},
                      {"table", table},
                      {"where", Json::array({Json::array({"_uuid", "==", UuidJson(uuid)})})},
                      {"mutations", std::move(mutations)}});
}

void IdlTxn::Delete(const std::string& table, const Uuid& uuid) {
  ops_.push_back(Json{{"op", "delete"},
                      {"table", table},
                      {"where", Json::array({Json::array({"_uuid", "==", UuidJson(uuid)})})}});
}

void IdlTxn::Verify(const std::string& table, const Uuid& uuid,
                    const std::vector<std::string>& columns) {
  const IdlRow* row = idl_.Find(table, uuid);
  Json where = Json::array({Json::array({"_uuid", "==", UuidJson(uuid)})});
  if (!row) {
    // The row must still not exist.
    ops_.push_back(Json{{"op", "wait"},
                        {"timeout", 0},
                        {"table", table},
                        {"where", where},
                        {"columns", Json::array({"_uuid"})},
                        {"until", "=="},
                        {"rows", Json::array()}});
    return;
  }
  Json values = Json::object();
  for (const auto& c : columns) {
    if (const Datum* d = row->Get(c)) values[c] = d->ToJson();
  }
  ops_.push_back(Json{{"op", "wait"},
                      {"timeout", 0},
                      {"table", table},
                      {"where", where},
                      {"columns", columns},
                      {"until", "=="},
                      {"rows", Json::array({values})}});
}

void IdlTxn::Commit(std::function<void(TxnResult)> done) {
  Json params = Json::array({idl_.db_});
  bool has_write = false;
  for (const auto& op : ops_) {
    std::string o = op.value("op", "");
    if (o != "wait" && o != "select" && o != "comment") has_write = true;
    params.push_back(op);
  }
  if (!has_write) {
    done(TxnResult{TxnStatus::kUnchanged, Json::array(), {}, {}});
    return;
  }
  if (!comment_.empty()) params.push_back(Json{{"op", "comment"}, {"comment", comment_}});
  if (!idl_.conn_ || idl_.conn_->closed() || !idl_.synced_) {
    done(TxnResult{TxnStatus::kNotConnected, nullptr, {}, "not connected"});
    return;
  }
  std::vector<std::string> names = names_;
  Json ops = ops_;
  idl_.Send("transact", std::move(params), [done, names, ops](Json reply) {
    TxnResult r;
    r.reply = reply["result"];
    if (!reply["error"].is_null()) {
      r.status = TxnStatus::kError;
      r.error = reply["error"].dump();
      done(r);
      return;
    }
    const Json& res = reply["result"];
    size_t name_i = 0;
    for (size_t i = 0; i < res.size(); ++i) {
      const Json& one = res[i];
      if (one.is_object() && one.contains("error")) {
        bool wait_failed =
            i < ops.size() && ops[i].value("op", "") == "wait" && one["error"] == "timed out";
        r.status = wait_failed ? TxnStatus::kTryAgain : TxnStatus::kError;
        r.error = one["error"].get<std::string>();
        if (one.contains("details")) r.error += ": " + one["details"].get<std::string>();
        done(r);
        return;
      }
      if (i < ops.size() && ops[i].value("op", "") == "insert" && one.contains("uuid") &&
          name_i < names.size()) {
        if (auto u = Uuid::Parse(one["uuid"][1].get<std::string>())) r.inserted[names[name_i]] = *u;
        ++name_i;
      }
    }
    r.status = TxnStatus::kSuccess;
    done(r);
  });
}

}  // namespace sluice::db
