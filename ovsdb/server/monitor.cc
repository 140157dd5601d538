#include "ovsdb/server/monitor.h"

#include <algorithm>

namespace sluice::db {
namespace {

using Json = nlohmann::json;

DbResult<std::vector<Clause>> ParseWhere(const Json& where, const TableSchema& table) {
  if (!where.is_array()) return SyntaxErr("\"where\" must be an array of conditions");
  // Each element is one clause; monitor conditions are disjunctions, so parse them one by one.
  std::vector<Clause> out;
  for (const auto& c : where) {
    auto cond = ParseCondition(Json::array({c}), table, nullptr);
    if (!cond) return std::unexpected(cond.error());
    for (auto& cl : cond->clauses) out.push_back(std::move(cl));
    if (cond->clauses.empty()) out.push_back(Clause{Function::kTrue, 0, {}});
  }
  return out;
}

bool ParseSelect(const Json& sel, TableMonitor* tm, OvsdbError* err) {
  if (!sel.is_object()) {
    *err = {"syntax error", "\"select\" must be an object"};
    return false;
  }
  for (auto& [k, v] : sel.items()) {
    if (!v.is_boolean()) {
      *err = {"syntax error", "\"select\" member " + k + " must be a boolean"};
      return false;
    }
    if (k == "initial")
      tm->initial = v;
    else if (k == "insert")
      tm->insert = v;
    else if (k == "delete")
      tm->remove = v;
    else if (k == "modify")
      tm->modify = v;
    else {
      *err = {"syntax error", "unknown \"select\" member " + k};
      return false;
    }
  }
  return true;
}

bool IsDefault(const ColumnSchema& col, const Datum& d) { return d == Datum::Default(col.type); }

}  // namespace

DbResult<Monitor> Monitor::Parse(const Database& db, const Json& requests, int version) {
  if (!requests.is_object()) return SyntaxErr("monitor requests must be an object");
  Monitor m;
  m.version_ = version;
  for (auto& [table_name, req] : requests.items()) {
    const Table* table = db.GetTable(table_name);
    if (!table) return DbErr("syntax error", "no table named " + table_name);
    const TableSchema& ts = table->schema();
    TableMonitor tm;
    tm.table = &ts;
    std::vector<Json> reqs;
    if (req.is_array()) {
      for (auto& r : req) reqs.push_back(r);
    } else {
      reqs.push_back(req);
    }
    if (reqs.empty()) return SyntaxErr("empty monitor request array for table " + table_name);
    bool first = true;
    for (const auto& r : reqs) {
      if (!r.is_object()) return SyntaxErr("monitor request must be an object");
      if (first) tm.initial = tm.insert = tm.remove = tm.modify = false;
      TableMonitor one;
      if (r.contains("select")) {
        OvsdbError err;
        if (!ParseSelect(r["select"], &one, &err)) return std::unexpected(err);
      }
      tm.initial |= one.initial;
      tm.insert |= one.insert;
      tm.remove |= one.remove;
      tm.modify |= one.modify;
      if (r.contains("columns")) {
        auto cols = ParseColumnList(r["columns"], ts);
        if (!cols) return std::unexpected(cols.error());
        for (size_t c : *cols) tm.columns.push_back(c);
      } else {
        for (const auto& col : ts.columns) {
          if (!col.implicit) tm.columns.push_back(col.index);
        }
      }
      if (r.contains("where")) {
        if (version < 2) return SyntaxErr("\"where\" requires monitor_cond");
        auto w = ParseWhere(r["where"], ts);
        if (!w) return std::unexpected(w.error());
        tm.has_where = true;
        for (auto& c : *w) tm.where.push_back(std::move(c));
      }
      first = false;
    }
    std::sort(tm.columns.begin(), tm.columns.end());
    tm.columns.erase(std::unique(tm.columns.begin(), tm.columns.end()), tm.columns.end());
    m.tables_[table_name] = std::move(tm);
  }
  return m;
}

bool Monitor::RowMatches(const TableMonitor& tm, const Row& row) const {
  if (!tm.has_where || tm.where.empty()) return true;
  for (const auto& c : tm.where) {
    if (Matches(c, row)) return true;
  }
  return false;
}

Json Monitor::RowJson(const TableMonitor& tm, const Row& row, bool skip_defaults) const {
  Json j = Json::object();
  for (size_t c : tm.columns) {
    const ColumnSchema& col = tm.table->columns[c];
    if (skip_defaults && IsDefault(col, row.columns[c])) continue;
    j[col.name] = row.columns[c].ToJson();
  }
  return j;
}

Json Monitor::Initial(const Database& db) const {
  Json out = Json::object();
  for (const auto& [name, tm] : tables_) {
    if (!tm.initial) continue;
    const Table* t = db.GetTable(name);
    Json rows = Json::object();
    for (const auto& [uuid, row] : t->rows()) {
      if (!RowMatches(tm, row)) continue;
      if (version_ == 1)
        rows[uuid.ToString()] = Json{{"new", RowJson(tm, row, false)}};
      else
        rows[uuid.ToString()] = Json{{"initial", RowJson(tm, row, true)}};
    }
    if (!rows.empty()) out[name] = std::move(rows);
  }
  return out;
}

Json Monitor::Updates(const ChangeSet& changes) const {
  Json out = Json::object();
  for (const auto& [name, tm] : tables_) {
    auto it = changes.tables.find(name);
    if (it == changes.tables.end()) continue;
    Json rows = Json::object();
    for (const auto& [uuid, ch] : it->second.rows) {
      bool old_in = ch.old_row && RowMatches(tm, *ch.old_row);
      bool new_in = ch.new_row && RowMatches(tm, *ch.new_row);
      std::string key = uuid.ToString();
      if (!old_in && new_in) {  // insert (or entered the condition)
        if (!tm.insert) continue;
        if (version_ == 1)
          rows[key] = Json{{"new", RowJson(tm, *ch.new_row, false)}};
        else
          rows[key] = Json{{"insert", RowJson(tm, *ch.new_row, true)}};
      } else if (old_in && !new_in) {  // delete (or left the condition)
        if (!tm.remove) continue;
        if (version_ == 1)
          rows[key] = Json{{"old", RowJson(tm, *ch.old_row, false)}};
        else
          rows[key] = Json{{"delete", nullptr}};
      } else if (old_in && new_in) {
        if (!tm.modify) continue;
        std::vector<size_t> changed;
        for (size_t c : tm.columns) {
          if (ch.old_row->columns[c] != ch.new_row->columns[c]) changed.push_back(c);
        }
        if (changed.empty()) continue;
        if (version_ == 1) {
          Json old = Json::object();
          for (size_t c : changed) old[tm.table->columns[c].name] = ch.old_row->columns[c].ToJson();
          rows[key] = Json{{"old", std::move(old)}, {"new", RowJson(tm, *ch.new_row, false)}};
        } else {
          Json diff = Json::object();
          for (size_t c : changed) {
            const ColumnSchema& col = tm.table->columns[c];
            diff[col.name] =
                DiffDatum(col.type, ch.old_row->columns[c], ch.new_row->columns[c]).ToJson();
          }
          rows[key] = Json{{"modify", std::move(diff)}};
        }
      }
    }
    if (!rows.empty()) out[name] = std::move(rows);
  }
  return out;
}

DbResult<Json> Monitor::ChangeConditions(const Database& db, const Json& requests) {
  if (!requests.is_object()) return SyntaxErr("monitor-cond-change requests must be an object");
  Json out = Json::object();
  for (auto& [name, req] : requests.items()) {
    auto it = tables_.find(name);
    if (it == tables_.end()) return SyntaxErr("table " + name + " is not monitored");
    TableMonitor& tm = it->second;
    std::vector<Json> reqs;
    if (req.is_array()) {
      for (auto& r : req) reqs.push_back(r);
    } else {
      reqs.push_back(req);
    }
    TableMonitor next = tm;
    next.where.clear();
    next.has_where = false;
    for (const auto& r : reqs) {
      if (!r.is_object()) return SyntaxErr("monitor-cond-change request must be an object");
      if (r.contains("columns")) return SyntaxErr("monitor-cond-change cannot change columns");
      if (r.contains("where")) {
        auto w = ParseWhere(r["where"], *tm.table);
        if (!w) return std::unexpected(w.error());
        next.has_where = true;
        for (auto& c : *w) next.where.push_back(std::move(c));
      }
    }
    const Table* t = db.GetTable(name);
    Json rows = Json::object();
    for (const auto& [uuid, row] : t->rows()) {
      bool was = RowMatches(tm, row), is = RowMatches(next, row);
      if (!was && is)
        rows[uuid.ToString()] = Json{{"insert", RowJson(next, row, true)}};
      else if (was && !is)
        rows[uuid.ToString()] = Json{{"delete", nullptr}};
    }
    tm = std::move(next);
    if (!rows.empty()) out[name] = std::move(rows);
  }
  return out;
}

}  // namespace sluice::db
