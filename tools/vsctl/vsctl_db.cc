// WorkDb, record lookup, name matching and output formatting for sluice-vsctl.
#include <algorithm>
#include <cstdio>

#include "tools/vsctl/vsctl.h"

namespace sluice::vsctl {

using db::Atom;
using db::Datum;
using db::Type;
using db::Uuid;
using Json = nlohmann::json;

// ---- WorkDb -------------------------------------------------------------------------------

void WorkDb::Load(const std::string& table, const Uuid& uuid, std::map<std::string, Datum> cols) {
  const db::TableSchema* ts = schema_.FindTable(table);
  if (!ts) return;
  Row row;
  row.table = table;
  row.uuid = uuid;
  for (const auto& c : ts->columns) {
    if (c.implicit) continue;
    auto it = cols.find(c.name);
    row.cols[c.name] = it != cols.end() ? std::move(it->second) : Datum::Default(c.type);
  }
  tables_[table][uuid] = std::move(row);
}

std::vector<Row*> WorkDb::Rows(const std::string& table) {
  std::vector<Row*> out;
  auto it = tables_.find(table);
  if (it == tables_.end()) return out;
  for (auto& [u, row] : it->second) {
    if (!row.deleted) out.push_back(&row);
  }
  return out;
}

Row* WorkDb::Get(const std::string& table, const Uuid& uuid) {
  auto it = tables_.find(table);
  if (it == tables_.end()) return nullptr;
  auto r = it->second.find(uuid);
  if (r == it->second.end() || r->second.deleted) return nullptr;
  return &r->second;
}

Row* WorkDb::Insert(const std::string& table, std::optional<Uuid> uuid) {
  Uuid u = uuid ? *uuid : Uuid::Random();
  Load(table, u, {});
  Row* row = &tables_[table][u];
  row->inserted = true;
  // A uuid column's default would be the all-zero uuid, which references nothing: start empty
  // (only columns the commands set are sent).
  for (auto& [name, d] : row->cols) {
    if (TypeOf(table, name).key.type == db::AtomicType::kUuid) d = Datum{};
  }
  return row;
}

void WorkDb::Delete(Row* row) { row->deleted = true; }

const Datum& WorkDb::Col(const Row* row, const std::string& column) const {
  static const Datum kEmpty;
  auto it = row->cols.find(column);
  return it == row->cols.end() ? kEmpty : it->second;
}

void WorkDb::Set(Row* row, const std::string& column, Datum value) {
  value.is_map = TypeOf(row->table, column).IsMap();
  row->cols[column] = std::move(value);
  row->modified.insert(column);
}

void WorkDb::Verify(Row* row, const std::string& column) {
  if (!row->inserted) verified_.insert({row->table, row->uuid, column});
}

const Type& WorkDb::TypeOf(const std::string& table, const std::string& column) const {
  static const Type kVoid;
  const db::TableSchema* ts = schema_.FindTable(table);
  const db::ColumnSchema* cs = ts ? ts->FindColumn(column) : nullptr;
  return cs ? cs->type : kVoid;
}

std::string WorkDb::Str(const Row* row, const std::string& column) const {
  const Datum& d = Col(row, column);
  if (d.keys.empty()) return {};
  if (auto* s = std::get_if<std::string>(&d.keys[0])) return *s;
  return {};
}

std::optional<int64_t> WorkDb::Int(const Row* row, const std::string& column) const {
  const Datum& d = Col(row, column);
  if (d.keys.empty()) return std::nullopt;
  if (auto* v = std::get_if<int64_t>(&d.keys[0])) return *v;
  return std::nullopt;
}

bool WorkDb::Bool(const Row* row, const std::string& column) const {
  const Datum& d = Col(row, column);
  if (d.keys.empty()) return false;
  if (auto* v = std::get_if<bool>(&d.keys[0])) return *v;
  return false;
}

std::vector<Uuid> WorkDb::Uuids(const Row* row, const std::string& column) const {
  std::vector<Uuid> out;
  for (const auto& a : Col(row, column).keys) {
    if (auto* u = std::get_if<Uuid>(&a)) out.push_back(*u);
  }
  return out;
}

std::map<std::string, std::string> WorkDb::StrMap(const Row* row, const std::string& column) const {
  std::map<std::string, std::string> out;
  const Datum& d = Col(row, column);
  for (size_t i = 0; i < d.keys.size() && i < d.values.size(); ++i) {
    auto* k = std::get_if<std::string>(&d.keys[i]);
    auto* v = std::get_if<std::string>(&d.values[i]);
    if (k && v) out[*k] = *v;
  }
  return out;
}

void WorkDb::SetStr(Row* row, const std::string& column, const std::string& v) {
  Set(row, column, Datum::Scalar(db::StringAtom(v)));
}

void WorkDb::SetInt(Row* row, const std::string& column, int64_t v) {
  Set(row, column, Datum::Scalar(db::IntAtom(v)));
}

void WorkDb::SetBool(Row* row, const std::string& column, bool v) {
  Set(row, column, Datum::Scalar(db::BoolAtom(v)));
}

void WorkDb::Clear(Row* row, const std::string& column) { Set(row, column, Datum{}); }

void WorkDb::AddUuid(Row* row, const std::string& column, const Uuid& u) {
  Datum d = Col(row, column);
  if (d.Contains(db::UuidAtom(u))) return;
  d.keys.push_back(db::UuidAtom(u));
  d.Sort();
  Set(row, column, std::move(d));
}

void WorkDb::RemoveUuid(Row* row, const std::string& column, const Uuid& u) {
  Datum d = Col(row, column);
  auto i = d.Find(db::UuidAtom(u));
  if (i < 0) return;
  d.keys.erase(d.keys.begin() + i);
  Set(row, column, std::move(d));
}

void WorkDb::SetStrMap(Row* row, const std::string& column,
                       const std::map<std::string, std::string>& m) {
  Datum d;
  d.is_map = true;
  for (const auto& [k, v] : m) {
    d.keys.push_back(db::StringAtom(k));
    d.values.push_back(db::StringAtom(v));
  }
  Set(row, column, std::move(d));
}

namespace {

std::string NameFor(const Uuid& u) {
  std::string s = "row" + u.ToString();
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

Json ReplaceNamed(const Json& j, const std::map<std::string, std::string>& by_uuid) {
  if (j.is_array()) {
    if (j.size() == 2 && j[0] == "uuid" && j[1].is_string()) {
      auto it = by_uuid.find(j[1].get<std::string>());
      if (it != by_uuid.end()) return Json::array({"named-uuid", it->second});
      return j;
    }
    Json out = Json::array();
    for (const auto& e : j) out.push_back(ReplaceNamed(e, by_uuid));
    return out;
  }
  return j;
}

Json UuidWhere(const Uuid& u) {
  return Json::array({Json::array({"_uuid", "==", Json::array({"uuid", u.ToString()})})});
}

}  // namespace

TxnPlan WorkDb::Plan() const {
  TxnPlan plan;
  std::map<std::string, std::string> by_uuid;  // local uuid text -> uuid-name
  for (const auto& [table, rows] : tables_) {
    for (const auto& [u, row] : rows) {
      if (row.inserted && !row.deleted) {
        by_uuid[u.ToString()] = NameFor(u);
        plan.names[NameFor(u)] = u;
      }
    }
  }
  std::set<std::pair<std::string, Uuid>> written;
  for (const auto& [table, rows] : tables_) {
    const db::TableSchema* ts = schema_.FindTable(table);
    for (const auto& [u, row] : rows) {
      if (row.inserted && !row.deleted) {
        Json r = Json::object();
        for (const auto& c : row.modified) r[c] = ReplaceNamed(row.cols.at(c).ToJson(), by_uuid);
        plan.ops.push_back(
            Json{{"op", "insert"}, {"table", table}, {"row", r}, {"uuid-name", NameFor(u)}});
      } else if (row.deleted && !row.inserted) {
        // Rows of non-root tables go away by garbage collection once unreferenced (as with
        // Open vSwitch's IDL); deleting one still referenced would fail the transaction.
        if (ts && ts->is_root) {
          plan.ops.push_back(Json{{"op", "delete"}, {"table", table}, {"where", UuidWhere(u)}});
        }
      } else if (!row.inserted && !row.deleted && !row.modified.empty()) {
        Json r = Json::object();
        std::vector<std::string> cols;
        for (const auto& c : row.modified) {
          r[c] = ReplaceNamed(row.cols.at(c).ToJson(), by_uuid);
          cols.push_back(c);
        }
        plan.ops.push_back(
            Json{{"op", "update"}, {"table", table}, {"where", UuidWhere(u)}, {"row", r}});
        plan.verifies.push_back({table, u, cols});
        written.insert({table, u});
      }
    }
  }
  if (plan.ops.empty()) return TxnPlan{};
  std::map<std::pair<std::string, Uuid>, std::vector<std::string>> reads;
  for (const auto& [table, u, col] : verified_) {
    auto rit = tables_.find(table);
    if (rit == tables_.end()) continue;
    auto row = rit->second.find(u);
    if (row == rit->second.end() || row->second.deleted) continue;
    if (row->second.modified.count(col)) continue;
    reads[{table, u}].push_back(col);
  }
  for (auto& [key, cols] : reads) plan.verifies.push_back({key.first, key.second, cols});
  return plan;
}

// ---- names and records --------------------------------------------------------------------

Res<std::string> MatchTable(const db::DatabaseSchema& schema, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& [n, t] : schema.tables) names.push_back(n);
  int i = MatchName(names, name);
  if (i == -1) return Fail("unknown table \"" + name + "\"");
  if (i == -2) return Fail("multiple table names match \"" + name + "\"");
  return names[i];
}

Res<std::string> MatchColumn(const db::TableSchema& table, const std::string& name) {
  std::vector<std::string> names;
  for (const auto& c : table.columns) names.push_back(c.name);
  std::vector<std::string> tied;
  int i = MatchName(names, name, &tied);
  if (i == -1) {
    return Fail(table.name + " does not contain a column whose name matches \"" + name + "\"");
  }
  if (i == -2) {
    std::string list;
    for (size_t k = 0; k < tied.size(); ++k) list += (k ? ", " : "") + tied[k];
    return Fail(table.name + " contains more than one column whose name matches \"" + name +
                "\": " + list);
  }
  return names[i];
}

namespace {

struct RowIdSpec {
  const char* table;     // table searched by name
  const char* name_col;  // "" : the record id must be "." and the table's only row is used
  const char* uuid_col;  // "" : the row found is the answer; else the single uuid it holds
};

const std::vector<RowIdSpec>* RowIds(const std::string& table) {
  static const std::map<std::string, std::vector<RowIdSpec>> kIds = {
      {"Bridge", {{"Bridge", "name", ""}}},
      {"Controller", {{"Bridge", "name", "controller"}}},
      {"Interface", {{"Interface", "name", ""}}},
      {"Mirror", {{"Mirror", "name", ""}}},
      {"Manager", {{"Manager", "target", ""}}},
      {"NetFlow", {{"Bridge", "name", "netflow"}}},
      {"Open_vSwitch", {{"Open_vSwitch", "", ""}}},
      {"Port", {{"Port", "name", ""}}},
      {"QoS", {{"Port", "name", "qos"}}},
      {"SSL", {{"Open_vSwitch", "", "ssl"}}},
      {"sFlow", {{"Bridge", "name", "sflow"}}},
      {"Flow_Table", {{"Flow_Table", "name", ""}}},
      {"IPFIX", {{"Bridge", "name", "ipfix"}, {"Flow_Sample_Collector_Set", "id", "ipfix"}}},
      {"AutoAttach", {{"Bridge", "name", "auto_attach"}}},
      {"Flow_Sample_Collector_Set", {{"Flow_Sample_Collector_Set", "id", ""}}},
  };
  auto it = kIds.find(table);
  return it == kIds.end() ? nullptr : &it->second;
}

bool IsPartialUuid(const std::string& s) {
  size_t hex = 0;
  for (char c : s) {
    if (std::isxdigit(static_cast<unsigned char>(c)))
      ++hex;
    else if (c != '-')
      return false;
  }
  return hex >= 4 && s.size() <= 36;
}

}  // namespace

Res<Row*> FindRecord(WorkDb& db, const std::string& table, const std::string& id) {
  if (auto u = Uuid::Parse(id)) {
    if (Row* r = db.Get(table, *u)) return r;
  }
  if (const auto* specs = RowIds(table)) {
    for (const auto& spec : *specs) {
      Row* referrer = nullptr;
      if (std::string(spec.name_col).empty()) {
        if (id != ".") continue;
        auto rows = db.Rows(spec.table);
        if (rows.empty()) continue;
        referrer = rows[0];
      } else {
        const db::Type& nt = db.TypeOf(spec.table, spec.name_col);
        auto want = AtomFromString(id, nt.key, nullptr);
        if (!want) continue;
        for (Row* r : db.Rows(spec.table)) {
          const Datum& d = db.Col(r, spec.name_col);
          if (d.size() == 1 && d.keys[0] == *want) {
            if (referrer) return Fail("multiple rows in " + table + " match \"" + id + "\"");
            referrer = r;
          }
        }
      }
      if (!referrer) continue;
      if (std::string(spec.uuid_col).empty()) return referrer;
      auto uuids = db.Uuids(referrer, spec.uuid_col);
      if (uuids.size() != 1) continue;
      if (Row* r = db.Get(table, uuids[0])) return r;
    }
  }
  if (IsPartialUuid(id)) {
    Row* found = nullptr;
    for (Row* r : db.Rows(table)) {
      if (r->uuid.ToString().starts_with(id)) {
        if (found) return Fail("multiple rows in " + table + " match \"" + id + "\"");
        found = r;
      }
    }
    if (found) return found;
  }
  return static_cast<Row*>(nullptr);
}

// ---- output -------------------------------------------------------------------------------

namespace {

std::string CellText(const Datum& d, const Type& t, const Options& o) {
  if (o.data == "bare") return DatumToBare(d, t);
  if (o.data == "json") return DatumToOutputJson(d, t).dump();
  return DatumToText(d, t);
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string FormatTable(const OutputTable& table, const Options& o) {
  std::string out;
  if (o.format == "json") {
    Json data = Json::array();
    for (const auto& row : table.rows) {
      Json r = Json::array();
      for (const auto& [d, t] : row) {
        if (o.data == "bare")
          r.push_back(DatumToBare(d, t));
        else if (o.data == "string")
          r.push_back(DatumToOutputJson(d, t));
        else
          r.push_back(DatumToOutputJson(d, t));
      }
      data.push_back(r);
    }
    Json j = Json::object();
    j["data"] = data;
    if (o.headings) j["headings"] = table.headings;
    return (o.pretty ? j.dump(4) : j.dump()) + "\n";
  }
  if (o.format == "csv") {
    if (o.headings) {
      for (size_t i = 0; i < table.headings.size(); ++i) {
        out += (i ? "," : "") + CsvCell(table.headings[i]);
      }
      out += "\n";
    }
    for (const auto& row : table.rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        out += (i ? "," : "") + CsvCell(CellText(row[i].first, row[i].second, o));
      }
      out += "\n";
    }
    return out;
  }
  if (o.format == "table") {
    size_t n = table.headings.size();
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width(n, 0);
    if (o.headings) {
      for (size_t i = 0; i < n; ++i) width[i] = table.headings[i].size();
    }
    for (const auto& row : table.rows) {
      std::vector<std::string> line;
      for (size_t i = 0; i < row.size(); ++i) {
        line.push_back(CellText(row[i].first, row[i].second, o));
        width[i] = std::max(width[i], line.back().size());
      }
      cells.push_back(std::move(line));
    }
    auto emit = [&](const std::vector<std::string>& line) {
      std::string l;
      for (size_t i = 0; i < line.size(); ++i) {
        if (i) l += ' ';
        l += line[i];
        if (i + 1 < line.size()) l.append(width[i] - line[i].size(), ' ');
      }
      out += l + "\n";
    };
    if (o.headings) {
      emit(table.headings);
      std::vector<std::string> dashes;
      for (size_t i = 0; i < n; ++i) dashes.push_back(std::string(width[i], '-'));
      emit(dashes);
    }
    for (const auto& line : cells) emit(line);
    return out;
  }
  // list
  for (size_t r = 0; r < table.rows.size(); ++r) {
    if (r) out += "\n";
    const auto& row = table.rows[r];
    for (size_t i = 0; i < row.size(); ++i) {
      if (o.headings) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%-20s: ", table.headings[i].c_str());
        out += table.headings[i].size() > 20 ? table.headings[i] + ": " : std::string(buf);
      }
      out += CellText(row[i].first, row[i].second, o) + "\n";
    }
  }
  return out;
}

// ---- show ---------------------------------------------------------------------------------

namespace {

struct ShowSpec {
  const char* table;
  const char* name_col;
  std::vector<const char*> columns;
};

const ShowSpec* FindShowSpec(const std::string& table) {
  static const std::vector<ShowSpec> kSpecs = {
      {"Open_vSwitch", "", {"manager_options", "bridges", "ovs_version"}},
      {"Bridge", "name", {"controller", "fail_mode", "datapath_type", "ports"}},
      {"Port", "name", {"tag", "trunks", "interfaces"}},
      {"Interface", "name", {"type", "options", "error", "bfd_status"}},
      {"Controller", "target", {"is_connected"}},
      {"Manager", "target", {"is_connected"}},
  };
  for (const auto& s : kSpecs) {
    if (table == s.table) return &s;
  }
  return nullptr;
}

void ShowRow(WorkDb& db, Row* row, int level, std::set<Uuid>& shown, std::string& out) {
  const ShowSpec* spec = FindShowSpec(row->table);
  std::string indent(level * 4, ' ');
  if (!spec || std::string(spec->name_col).empty()) {
    out += indent + row->uuid.ToString() + "\n";
  } else {
    const Datum& name = db.Col(row, spec->name_col);
    out +=
        indent + row->table + " " + DatumToText(name, db.TypeOf(row->table, spec->name_col)) + "\n";
  }
  if (!spec || !shown.insert(row->uuid).second) return;
  std::string sub(level * 4 + 4, ' ');
  for (const char* col : spec->columns) {
    const db::Type& type = db.TypeOf(row->table, col);
    const Datum& d = db.Col(row, col);
    if (type.key.IsRef() && FindShowSpec(type.key.ref_table)) {
      for (const auto& a : d.keys) {
        if (Row* ref = db.Get(type.key.ref_table, std::get<Uuid>(a))) {
          ShowRow(db, ref, level + 1, shown, out);
        }
      }
      continue;
    }
    if (d == Datum::Default(type) || (d.empty() && Datum::Default(type).empty())) continue;
    out += sub + col + ": " + DatumToText(d, type) + "\n";
  }
  shown.erase(row->uuid);
}

}  // namespace

std::string Show(WorkDb& db) {
  std::string out;
  std::set<Uuid> shown;
  for (Row* r : db.Rows("Open_vSwitch")) ShowRow(db, r, 0, shown, out);
  return out;
}

}  // namespace sluice::vsctl
