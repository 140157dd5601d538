#include "ovsdb/server/monitor.h"

#include <algorithm>

#include "ovsdb/json_writer.h"

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

// Whether a row (seen through `value(column)` and its uuid/version) is in the monitored set.
template <class Value>
bool InWhere(const TableMonitor& tm, const Uuid& uuid, const Uuid& version, Value&& value) {
  if (!tm.has_where || tm.where.empty()) return true;
  for (const Clause& c : tm.where) {
    bool holds;
    if (c.function == Function::kTrue || c.function == Function::kFalse) {
      holds = c.function == Function::kTrue;
    } else if (c.column == kUuidColumn || c.column == kVersionColumn) {
      holds = ClauseHoldsForUuid(c, c.column == kUuidColumn ? uuid : version);
    } else {
      holds = ClauseHolds(c, *value(c.column));
    }
    if (holds) return true;
  }
  return false;
}

bool InWhere(const TableMonitor& tm, const Row& row) {
  return InWhere(tm, row.uuid(), row.version(), [&row](size_t c) { return row.Value(c); });
}

bool InWhere(const TableMonitor& tm, const RowChange& rc, bool after) {
  const Uuid& version = after ? rc.new_version() : rc.old_row()->version();
  return InWhere(tm, rc.uuid(), version,
                 [&rc, after](size_t c) { return after ? rc.New(c) : rc.Old(c); });
}

// {"col": value, ...} of the monitored columns; with `skip_defaults` (update2 "insert" and
// "initial"), columns at their default are left out.
template <class Value>
void WriteColumns(JsonWriter& w, const TableMonitor& tm, const TableShape& shape,
                  bool skip_defaults, Value&& value) {
  w.Char('{');
  bool first = true;
  for (size_t c : tm.columns) {
    ColumnValue v = value(c);
    if (skip_defaults && c >= 2 && *v == shape.defaults[c]) continue;
    if (!first) w.Char(',');
    first = false;
    w.Key(tm.table->columns[c].name);
    w.Datum(*v);
  }
  w.Char('}');
}

// The same for a committed row, reading its stored columns directly.
void WriteRow(JsonWriter& w, const TableMonitor& tm, const Row& row, bool skip_defaults) {
  const TableShape& shape = row.shape();
  w.Char('{');
  bool first = true;
  for (size_t c : tm.columns) {
    if (c < 2) {
      if (!first) w.Char(',');
      first = false;
      w.Key(tm.table->columns[c].name);
      w.Atom(UuidAtom(c == kUuidColumn ? row.uuid() : row.version()));
      continue;
    }
    const Datum& d = row.Get(c);
    // A column the row does not store is at its default.
    if (skip_defaults && &d == &shape.defaults[c]) continue;
    if (!first) w.Char(',');
    first = false;
    w.Key(tm.table->columns[c].name);
    w.Datum(d);
  }
  w.Char('}');
}

void WriteRowKey(JsonWriter& w, const Uuid& uuid) {
  w.UuidString(uuid);
  w.Char(':');
}

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
  m.ComputeKey();
  return m;
}

void Monitor::ComputeKey() {
  JsonWriter w(key_);
  key_.clear();
  w.Int(version_);
  for (const auto& [name, tm] : tables_) {
    w.Char(';');
    w.String(name);
    for (size_t c : tm.columns) {
      w.Char(',');
      w.Int(static_cast<int64_t>(c));
    }
    w.Raw(tm.initial ? "|i" : "|");
    w.Raw(tm.insert ? "n" : "");
    w.Raw(tm.remove ? "d" : "");
    w.Raw(tm.modify ? "m" : "");
    if (!tm.has_where) continue;
    w.Raw("|w");
    for (const Clause& c : tm.where) {
      w.Char('[');
      w.Int(static_cast<int64_t>(c.column));
      w.Char(',');
      w.Int(static_cast<int64_t>(c.function));
      w.Char(',');
      w.Datum(c.arg);
      w.Char(']');
    }
  }
}

void Monitor::WriteInitial(const Database& db, std::string& out) const {
  JsonWriter w(out);
  w.Char('{');
  bool any_table = false;
  for (const auto& [name, tm] : tables_) {
    if (!tm.initial) continue;
    const Table* t = db.GetTable(name);
    size_t mark = out.size();
    if (any_table) w.Char(',');
    w.Key(name);
    w.Char('{');
    bool any_row = false;
    for (const Row* row : t->rows()) {
      if (!InWhere(tm, *row)) continue;
      if (any_row) w.Char(',');
      any_row = true;
      WriteRowKey(w, row->uuid());
      w.Raw(version_ == 1 ? "{\"new\":" : "{\"initial\":");
      WriteRow(w, tm, *row, version_ != 1);
      w.Char('}');
    }
    if (!any_row) {
      out.resize(mark);
      continue;
    }
    w.Char('}');
    any_table = true;
  }
  w.Char('}');
}

bool Monitor::WriteUpdates(const ChangeSet& changes, std::string& out) const {
  size_t start = out.size();
  JsonWriter w(out);
  w.Char('{');
  bool any_table = false;
  std::vector<size_t> changed;
  for (const auto& [name, tm] : tables_) {
    auto it = changes.tables.find(name);
    if (it == changes.tables.end()) continue;
    size_t mark = out.size();
    if (any_table) w.Char(',');
    w.Key(name);
    w.Char('{');
    bool any_row = false;
    bool monitors_version =
        std::binary_search(tm.columns.begin(), tm.columns.end(), kVersionColumn);
    for (const RowChange& rc : it->second.rows) {
      bool old_in = rc.kind() != RowChange::Kind::kInsert && InWhere(tm, rc, false);
      bool new_in = rc.kind() != RowChange::Kind::kDelete && InWhere(tm, rc, true);
      const TableShape& shape = (rc.new_row() ? rc.new_row() : rc.old_row())->shape();
      auto after = [&rc](size_t c) { return rc.New(c); };
      auto before = [&rc](size_t c) { return rc.Old(c); };
      size_t row_mark = out.size();
      if (any_row) w.Char(',');
      WriteRowKey(w, rc.uuid());
      if (!old_in && new_in) {  // inserted (or entered the condition)
        if (!tm.insert) {
          out.resize(row_mark);
          continue;
        }
        w.Raw(version_ == 1 ? "{\"new\":" : "{\"insert\":");
        WriteColumns(w, tm, shape, version_ != 1, after);
        w.Char('}');
      } else if (old_in && !new_in) {  // deleted (or left the condition)
        if (!tm.remove) {
          out.resize(row_mark);
          continue;
        }
        if (version_ == 1) {
          w.Raw("{\"old\":");
          WriteColumns(w, tm, shape, false, before);
          w.Char('}');
        } else {
          w.Raw("{\"delete\":null}");
        }
      } else if (old_in && new_in && tm.modify) {
        // The monitored columns that changed (both lists are sorted).
        changed.clear();
        if (monitors_version) changed.push_back(kVersionColumn);
        std::set_intersection(rc.changed().begin(), rc.changed().end(), tm.columns.begin(),
                              tm.columns.end(), std::back_inserter(changed));
        if (changed.empty()) {
          out.resize(row_mark);
          continue;
        }
        if (version_ == 1) {
          w.Raw("{\"old\":{");
          for (size_t i = 0; i < changed.size(); ++i) {
            if (i) w.Char(',');
            w.Key(tm.table->columns[changed[i]].name);
            w.Datum(*rc.Old(changed[i]));
          }
          w.Raw("},\"new\":");
          WriteColumns(w, tm, shape, false, after);
          w.Char('}');
        } else {
          w.Raw("{\"modify\":{");
          for (size_t i = 0; i < changed.size(); ++i) {
            size_t c = changed[i];
            if (i) w.Char(',');
            w.Key(tm.table->columns[c].name);
            if (c < 2) {
              w.Datum(*rc.New(c));
            } else {
              w.Datum(rc.Diff(c));
            }
          }
          w.Raw("}}");
        }
      } else {
        out.resize(row_mark);
        continue;
      }
      any_row = true;
    }
    if (!any_row) {
      out.resize(mark);
      continue;
    }
    w.Char('}');
    any_table = true;
  }
  if (!any_table) {
    out.resize(start);
    return false;
  }
  w.Char('}');
  return true;
}

Json Monitor::Initial(const Database& db) const {
  std::string text;
  WriteInitial(db, text);
  return Json::parse(text);
}

Json Monitor::Updates(const ChangeSet& changes) const {
  std::string text;
  if (!WriteUpdates(changes, text)) return Json::object();
  return Json::parse(text);
}

DbResult<Json> Monitor::ChangeConditions(const Database& db, const Json& requests) {
  if (!requests.is_object()) return SyntaxErr("monitor-cond-change requests must be an object");
  Json out = Json::object();
  std::map<std::string, TableMonitor> next_tables = tables_;
  for (auto& [name, req] : requests.items()) {
    auto it = next_tables.find(name);
    if (it == next_tables.end()) return SyntaxErr("table " + name + " is not monitored");
    TableMonitor& next = it->second;
    std::vector<Json> reqs;
    if (req.is_array()) {
      for (auto& r : req) reqs.push_back(r);
    } else {
      reqs.push_back(req);
    }
    next.where.clear();
    next.has_where = false;
    for (const auto& r : reqs) {
      if (!r.is_object()) return SyntaxErr("monitor-cond-change request must be an object");
      if (r.contains("columns")) return SyntaxErr("monitor-cond-change cannot change columns");
      if (r.contains("where")) {
        auto w = ParseWhere(r["where"], *next.table);
        if (!w) return std::unexpected(w.error());
        next.has_where = true;
        for (auto& c : *w) next.where.push_back(std::move(c));
      }
    }
  }
  for (const auto& [name, next] : next_tables) {
    if (!requests.contains(name)) continue;
    const TableMonitor& tm = tables_.at(name);
    const Table* t = db.GetTable(name);
    std::string text;
    JsonWriter w(text);
    w.Char('{');
    bool any = false;
    for (const Row* row : t->rows()) {
      bool was = InWhere(tm, *row), is = InWhere(next, *row);
      if (was == is) continue;
      if (any) w.Char(',');
      any = true;
      WriteRowKey(w, row->uuid());
      if (is) {
        w.Raw("{\"insert\":");
        WriteRow(w, next, *row, true);
        w.Char('}');
      } else {
        w.Raw("{\"delete\":null}");
      }
    }
    w.Char('}');
    if (any) out[name] = Json::parse(text);
  }
  tables_ = std::move(next_tables);
  ComputeKey();
  return out;
}

}  // namespace sluice::db
