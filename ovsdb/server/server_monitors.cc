// OvsdbServer's monitors: monitor / monitor_cond / monitor_cond_since / monitor_cond_change /
// monitor_cancel, and the notifications of each commit.
//
// Monitors with the same parameters (Monitor::key()) share a MonitorGroup, so a commit's update
// text is built once and copied into each session's notification (only the monitor id
// differs). Notifications are built while the commit's ChangeSet is valid and sent after the
// transaction's reply, as ovsdb-server orders them. A session that is behind (its peer has not
// read what the kernel holds for it, `coalesce_unread_bytes`, or its unsent output passes
// `congestion_bytes`) gets no notifications; it remembers the rows as it last saw them
// (references, so later commits copy those rows instead of changing them in place) and gets one
// coalesced update per row once it has caught up (or after `coalesce_max_ms`; a congested one
// only once it drains).
#include "ovsdb/json_writer.h"
#include "ovsdb/server/server.h"
#include "ovsdb/server/server_internal.h"

namespace sluice::db {
namespace {

using Json = nlohmann::json;

Json Err(const std::string& error, const std::string& details = {}) {
  Json j = {{"error", error}};
  if (!details.empty()) j["details"] = details;
  return j;
}

std::string NotifyText(std::string_view id_text, int version, const Uuid& txn,
                       std::string_view updates) {
  std::string out;
  out.reserve(updates.size() + id_text.size() + 96);
  out.append(R"({"id":null,"method":")");
  out.append(version == 1 ? "update" : version == 2 ? "update2" : "update3");
  out.append(R"(","params":[)");
  out.append(id_text);
  out.push_back(',');
  if (version == 3) {
    out.push_back('"');
    AppendUuid(out, txn);
    out.append("\",");
  }
  out.append(updates);
  out.append("]}");
  return out;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string ReplyText(const Json& id, std::string_view result) {
  std::string out = R"({"id":)" + id.dump() + R"(,"result":)";
  out.append(result);
  out.append(R"(,"error":null})");
  return out;
}

}  // namespace

OvsdbServer::MonitorGroup* OvsdbServer::JoinGroup(DbEntry& e, Monitor monitor) {
  std::string key = monitor.key();
  auto& g = e.groups[key];
  if (!g) g = std::make_unique<MonitorGroup>(std::move(monitor));
  ++g->users;
  return g.get();
}

void OvsdbServer::LeaveGroup(DbEntry& e, MonitorGroup* g) {
  if (g && --g->users == 0) e.groups.erase(g->monitor.key());
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
  std::string result;
  if (version == 3) {
    std::string last = e.last_txn.ToString();
    bool found = params[3].is_string() && params[3] == last && !e.last_txn.IsZero();
    result = std::string(found ? "[true,\"" : "[false,\"") + last + "\",";
    if (found) {
      result += "{}";
    } else {
      m->WriteInitial(*e.db, result);
    }
    result += "]";
  } else {
    m->WriteInitial(*e.db, result);
  }
  s.conn->SendText(ReplyText(id, result));
  MonitorGroup* g = JoinGroup(e, std::move(*m));
  s.monitors.emplace(key, Session::Mon{db, params[1], key, g, {}});
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
  if (mon.group->monitor.version() < 2) {
    s.conn->SendError(id, Err("syntax error", "not a conditional monitor"));
    return;
  }
  DbEntry& e = *dbs_[mon.db];
  Monitor next = mon.group->monitor;
  auto changes = next.ChangeConditions(*e.db, params[2]);
  if (!changes) {
    s.conn->SendError(id, changes.error().ToJson());
    return;
  }
  LeaveGroup(e, mon.group);
  mon.group = JoinGroup(e, std::move(next));
  Json new_id = params[1];
  if (new_id.dump() != it->first) {
    Session::Mon moved = std::move(mon);
    moved.id = new_id;
    moved.id_text = new_id.dump();
    s.monitors.erase(it);
    it = s.monitors.emplace(new_id.dump(), std::move(moved)).first;
  }
  s.conn->SendReply(id, Json::object());
  if (!changes->empty()) {
    if (it->second.group->monitor.version() == 2) {
      s.conn->SendNotify("update2", Json::array({new_id, *changes}));
    } else {
      s.conn->SendNotify("update3", Json::array({new_id, e.last_txn.ToString(), *changes}));
    }
  }
}

bool OvsdbServer::CancelMonitor(Session& s, const Json& monitor_id) {
  auto it = s.monitors.find(monitor_id.dump());
  if (it == s.monitors.end()) return false;
  LeaveGroup(*dbs_[it->second.db], it->second.group);
  s.monitors.erase(it);
  return true;
}

void OvsdbServer::CollectUpdates(DbEntry& e, const ChangeSet& changes) {
  e.last_txn = Uuid::Random();
  ++e.commit_seq;
  const std::string& name = e.db->schema().name;
  for (auto& [conn, s] : sessions_) {
    if (s->monitors.empty()) continue;
    bool behind = s->conn->backlog_bytes() > opts_.congestion_bytes ||
                  (opts_.coalesce_unread_bytes &&
                   s->conn->stream().KernelUnsent() >= opts_.coalesce_unread_bytes);
    for (auto& [key, m] : s->monitors) {
      if (m.db != name) continue;
      if (behind || !m.coalesced.empty()) {
        // Keep only the first "old" state per row: the client's view before it fell behind.
        if (m.coalesced.empty()) m.coalesced_since_ms = NowMs();
        for (const auto& [table, tc] : changes.tables) {
          if (!m.group->monitor.Watches(table)) continue;
          auto& rows = m.coalesced[table];
          for (const RowChange& rc : tc.rows) rows.try_emplace(rc.uuid(), rc.old_row());
        }
        ArmCoalesceTimer();
        continue;
      }
      MonitorGroup& g = *m.group;
      if (g.built_for != e.commit_seq) {
        g.text.clear();
        g.has_update = g.monitor.WriteUpdates(changes, g.text);
        g.built_for = e.commit_seq;
      }
      if (g.has_update) {
        outgoing_.push_back(
            {s->conn, NotifyText(m.id_text, g.monitor.version(), e.last_txn, g.text)});
      }
    }
  }
}

void OvsdbServer::FlushOutgoing(const JsonRpcConnection* to) {
  if (to) {
    std::erase_if(outgoing_, [to](Outgoing& o) {
      if (o.conn.get() != to) return false;
      o.conn->SendText(std::move(o.text));
      return true;
    });
    return;
  }
  for (Outgoing& o : outgoing_) o.conn->SendText(std::move(o.text));
  outgoing_.clear();
}

void OvsdbServer::ArmCoalesceTimer() {
  if (coalesce_armed_) return;
  coalesce_armed_ = true;
  coalesce_timer_.expires_after(std::chrono::milliseconds(opts_.coalesce_poll_ms));
  coalesce_timer_.async_wait([this](std::error_code ec) {
    coalesce_armed_ = false;
    if (!ec) FlushCoalesced();
  });
}

void OvsdbServer::FlushCoalesced() {
  bool more = false;
  int64_t now = NowMs();
  for (auto& [conn, s] : sessions_) {
    bool drained = s->conn->backlog_bytes() <= opts_.congestion_bytes / 2;
    bool read_up = !opts_.coalesce_unread_bytes ||
                   s->conn->stream().KernelUnsent() < opts_.coalesce_unread_bytes;
    for (auto& [key, m] : s->monitors) {
      if (m.coalesced.empty()) continue;
      if (!drained || (!read_up && now - m.coalesced_since_ms < opts_.coalesce_max_ms)) {
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
          const Row* now = t->Find(uuid);
          if ((old_row || now) && old_row.get() != now) tc.rows.emplace_back(old_row.get(), now);
        }
      }
      std::string text;
      if (m.group->monitor.WriteUpdates(cs, text)) {
        s->conn->SendText(NotifyText(m.id_text, m.group->monitor.version(), e.last_txn, text));
      }
      m.coalesced.clear();
    }
  }
  if (more) ArmCoalesceTimer();
}

}  // namespace sluice::db
