#include "ovsdb/transaction.h"

#include <algorithm>
#include <string_view>

#include "ovsdb/mutation.h"

namespace sluice::db {

using nlohmann::json;

namespace {

// Tracks which members of an operation were consumed so leftovers are reported, as OVS does.
class OpParser {
 public:
  explicit OpParser(const json& op) : op_(op) {}

  const json* Optional(const char* name) {
    used_.push_back(name);
    auto it = op_.find(name);
    return it == op_.end() ? nullptr : &*it;
  }
  DbResult<const json*> Required(const char* name) {
    const json* j = Optional(name);
    if (!j) return SyntaxErr(std::string("Required '") + name + "' member is missing.");
    return j;
  }
  DbResult<std::string> RequiredString(const char* name) {
    auto j = Required(name);
    if (!j) return std::unexpected(j.error());
    if (!(*j)->is_string()) return SyntaxErr(std::string("'") + name + "' must be a string.");
    return (*j)->get<std::string>();
  }
  DbResult<void> Finish() const {
    for (const auto& [key, _] : op_.items()) {
      if (key == "op" || std::find(used_.begin(), used_.end(), key) != used_.end()) continue;
      return SyntaxErr("Member '" + key + "' is present but not allowed here.");
    }
    return {};
  }

 private:
  const json& op_;
  std::vector<std::string_view> used_;
};

// Parses a "row" object into `row`; `updated` receives the column indexes set.
DbResult<void> ParseRow(const json& j, const TableSchema& table, SymbolTable* symtab, bool update,
                        Row& row, std::vector<size_t>* updated) {
  if (!j.is_object()) return SyntaxErr("\"row\" must be a JSON object");
  for (const auto& [name, value] : j.items()) {
    const ColumnSchema* col = table.FindColumn(name);
    if (!col) return DbErr("unknown column", "No column " + name + " in table " + table.name + ".");
    if (col->implicit || (update && !col->is_mutable)) {
      return DbErr("constraint violation", std::string("Cannot ") + (update ? "update" : "set") +
                                               " immutable column " + name + " in table " +
                                               table.name + ".");
    }
    auto d = DatumFromJson(value, col->type, symtab);
    if (!d) return std::unexpected(d.error());
    row.columns[col->index] = std::move(*d);
    if (updated) updated->push_back(col->index);
  }
  return {};
}

std::vector<Datum> Project(const Row& row, const std::vector<size_t>& columns) {
  std::vector<Datum> out;
  for (size_t c : columns) out.push_back(row.columns[c]);
  return out;
}

}  // namespace

const Row* Transaction::Get(Table& table, const Uuid& uuid) const {
  if (auto t = rows_.find(&table); t != rows_.end()) {
    if (auto r = t->second.find(uuid); r != t->second.end()) {
      return r->second.current ? &*r->second.current : nullptr;
    }
  }
  return table.Find(uuid);
}

Row* Transaction::Modify(Table& table, const Uuid& uuid) {
  auto& trows = rows_[&table];
  if (auto r = trows.find(uuid); r != trows.end()) {
    return r->second.current ? &*r->second.current : nullptr;
  }
  const Row* old = table.Find(uuid);
  if (!old) return nullptr;
  TxnRow& tr = trows[uuid];
  tr.old = old;
  tr.current = *old;
  return &*tr.current;
}

void Transaction::InsertRow(Table& table, Row row) {
  Uuid uuid = row.uuid();
  rows_[&table][uuid].current = std::move(row);
}

void Transaction::DeleteRow(Table& table, const Uuid& uuid) {
  auto& trows = rows_[&table];
  auto [it, inserted] = trows.try_emplace(uuid);
  if (inserted) it->second.old = table.Find(uuid);
  it->second.current.reset();
}

std::vector<const Row*> Transaction::Visible(Table& table) const {
  std::vector<const Row*> out;
  auto t = rows_.find(&table);
  const std::map<Uuid, TxnRow>* trows = t == rows_.end() ? nullptr : &t->second;
  out.reserve(table.size() + (trows ? trows->size() : 0));
  for (const auto& [uuid, row] : table.rows()) {
    if (trows) {
      if (auto r = trows->find(uuid); r != trows->end()) {
        if (r->second.current) out.push_back(&*r->second.current);
        continue;
      }
    }
    out.push_back(&row);
  }
  if (trows) {
    for (const auto& [uuid, tr] : *trows) {
      if (!tr.old && tr.current) out.push_back(&*tr.current);
    }
  }
  return out;
}

std::vector<Uuid> Transaction::Select(Table& table, const Condition& cond) const {
  std::vector<Uuid> out;
  // Lookups by _uuid are the common case (IDL clients); avoid a table scan for them.
  for (const Clause& c : cond.clauses) {
    if (c.function == Function::kEq && c.column == kUuidColumn && c.arg.size() == 1) {
      const Row* row = Get(table, std::get<Uuid>(c.arg.keys[0]));
      if (row && Matches(cond, *row)) out.push_back(row->uuid());
      return out;
    }
  }
  for (const Row* row : Visible(table)) {
    if (Matches(cond, *row)) out.push_back(row->uuid());
  }
  return out;
}

DbResult<Table*> Transaction::ParseTable(const json& op) {
  auto it = op.find("table");
  if (it == op.end()) return SyntaxErr("Required 'table' member is missing.");
  if (!it->is_string()) return SyntaxErr("'table' must be a string.");
  Table* t = db_.MutableTable(it->get<std::string>());
  if (!t) return DbErr("unknown table", "No table named " + it->get<std::string>() + ".");
  return t;
}

DbResult<json> Transaction::Dispatch(const json& op) {
  if (!op.is_object()) return SyntaxErr("operation must be a JSON object, got " + op.dump());
  auto it = op.find("op");
  if (it == op.end()) return SyntaxErr("Required 'op' member is missing.");
  if (!it->is_string()) return SyntaxErr("'op' must be a string.");
  const std::string& name = it->get_ref<const std::string&>();
  if (name == "insert") return OpInsert(op);
  if (name == "select") return OpSelect(op);
  if (name == "update") return OpUpdate(op);
  if (name == "mutate") return OpMutate(op);
  if (name == "delete") return OpDelete(op);
  if (name == "wait") return OpWait(op);
  OpParser p(op);
  if (name == "commit") {
    auto d = p.Required("durable");
    if (!d) return std::unexpected(d.error());
    if (!(*d)->is_boolean()) return SyntaxErr("'durable' must be a boolean.");
    if (auto r = p.Finish(); !r) return std::unexpected(r.error());
    durable_ |= (*d)->get<bool>();
    return json::object();
  }
  if (name == "abort") {
    if (auto r = p.Finish(); !r) return std::unexpected(r.error());
    return DbErr("aborted", "Aborted by request.");
  }
  if (name == "comment") {
    auto c = p.RequiredString("comment");
    if (!c) return std::unexpected(c.error());
    if (auto r = p.Finish(); !r) return std::unexpected(r.error());
    comments_.push_back(*c);
    return json::object();
  }
  if (name == "assert") {
    auto lock = p.RequiredString("lock");
    if (!lock) return std::unexpected(lock.error());
    if (!IsIdentifier(*lock)) return SyntaxErr("'lock' must be an <id>.");
    if (auto r = p.Finish(); !r) return std::unexpected(r.error());
    if (!ctx_.owns_lock || !ctx_.owns_lock(*lock)) {
      return DbErr("not owner", "Asserted lock " + *lock + " not acquired.");
    }
    return json::object();
  }
  return DbErr("unknown operation", "No operation named " + name + ".");
}

DbResult<json> Transaction::OpInsert(const json& op) {
  OpParser p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  const TableSchema& ts = (*table)->schema();
  const json* uuid_json = p.Optional("uuid");
  const json* name_json = p.Optional("uuid-name");
  const json* row_json = p.Optional("row");
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());

  std::optional<Uuid> uuid;
  if (uuid_json) {
    auto u = uuid_json->is_string() ? Uuid::Parse(uuid_json->get<std::string>()) : std::nullopt;
    if (!u) return SyntaxErr("'uuid' must be a UUID string, got " + uuid_json->dump());
    uuid = *u;
  }
  if (name_json) {
    if (!name_json->is_string()) return SyntaxErr("'uuid-name' must be a string.");
    const std::string& name = name_json->get_ref<const std::string&>();
    SymbolTable::Symbol* earlier = symtab_.Find(name);
    if (earlier && earlier->created) {
      return DbErr("duplicate uuid-name",
                   "This \"uuid-name\" appeared on an earlier \"insert\" "
                   "operation.");
    }
    // A forward reference already handed out the symbol's UUID, so it cannot change now.
    if (earlier && uuid && earlier->uuid != *uuid) {
      return SyntaxErr("uuid-name \"" + name +
                       "\" was referenced before this insert, so its "
                       "\"uuid\" cannot be chosen here.");
    }
    SymbolTable::Symbol& sym = symtab_.Lookup(name);
    sym.created = true;
    if (uuid) {
      sym.uuid = *uuid;
    } else {
      uuid = sym.uuid;
    }
  }
  if (!uuid) uuid = Uuid::Random();
  auto trows = rows_.find(*table);
  bool deleted_here = trows != rows_.end() && trows->second.contains(*uuid);
  if (Get(**table, *uuid) || deleted_here) {
    return DbErr("duplicate uuid",
                 "This UUID would duplicate a UUID already present within the "
                 "table or deleted within the same transaction.");
  }
  Row row = Row::New(ts, *uuid);
  if (row_json) {
    if (auto r = ParseRow(*row_json, ts, &symtab_, false, row, nullptr); !r) {
      return std::unexpected(r.error());
    }
  }
  InsertRow(**table, std::move(row));
  return json{{"uuid", AtomToJson(UuidAtom(*uuid))}};
}

DbResult<json> Transaction::OpSelect(const json& op) {
  OpParser p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  const TableSchema& ts = (*table)->schema();
  auto where = p.Required("where");
  if (!where) return std::unexpected(where.error());
  const json* columns_json = p.Optional("columns");
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());
  auto cond = ParseCondition(**where, ts, &symtab_);
  if (!cond) return std::unexpected(cond.error());
  std::optional<std::vector<size_t>> columns;
  if (columns_json) {
    auto c = ParseColumnList(*columns_json, ts);
    if (!c) return std::unexpected(c.error());
    columns = std::move(*c);
  }
  json rows = json::array();
  for (const Uuid& u : Select(**table, *cond)) {
    rows.push_back(RowToJson(ts, *Get(**table, u), columns ? &*columns : nullptr));
  }
  return json{{"rows", std::move(rows)}};
}

DbResult<json> Transaction::OpUpdate(const json& op) {
  OpParser p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  const TableSchema& ts = (*table)->schema();
  auto where = p.Required("where");
  if (!where) return std::unexpected(where.error());
  auto row_json = p.Required("row");
  if (!row_json) return std::unexpected(row_json.error());
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());
  Row update = Row::New(ts, Uuid{});
  std::vector<size_t> columns;
  if (auto r = ParseRow(**row_json, ts, &symtab_, true, update, &columns); !r) {
    return std::unexpected(r.error());
  }
  auto cond = ParseCondition(**where, ts, &symtab_);
  if (!cond) return std::unexpected(cond.error());
  std::vector<Uuid> matched = Select(**table, *cond);
  for (const Uuid& u : matched) {
    Row* row = Modify(**table, u);
    for (size_t c : columns) row->columns[c] = update.columns[c];
  }
  return json{{"count", matched.size()}};
}

DbResult<json> Transaction::OpMutate(const json& op) {
  OpParser p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  const TableSchema& ts = (*table)->schema();
  auto where = p.Required("where");
  if (!where) return std::unexpected(where.error());
  auto mutations_json = p.Required("mutations");
  if (!mutations_json) return std::unexpected(mutations_json.error());
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());
  auto cond = ParseCondition(**where, ts, &symtab_);
  if (!cond) return std::unexpected(cond.error());
  auto mutations = ParseMutations(**mutations_json, ts, &symtab_);
  if (!mutations) return std::unexpected(mutations.error());
  std::vector<Uuid> matched = Select(**table, *cond);
  for (const Uuid& u : matched) {
    if (auto r = ApplyMutations(*mutations, ts, *Modify(**table, u)); !r) {
      return std::unexpected(r.error());
    }
  }
  return json{{"count", matched.size()}};
}

DbResult<json> Transaction::OpDelete(const json& op) {
  OpParser p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  auto where = p.Required("where");
  if (!where) return std::unexpected(where.error());
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());
  auto cond = ParseCondition(**where, (*table)->schema(), &symtab_);
  if (!cond) return std::unexpected(cond.error());
  std::vector<Uuid> matched = Select(**table, *cond);
  for (const Uuid& u : matched) DeleteRow(**table, u);
  return json{{"count", matched.size()}};
}

DbResult<json> Transaction::OpWait(const json& op) {
  OpParser p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  const TableSchema& ts = (*table)->schema();
  const json* timeout_json = p.Optional("timeout");
  auto where = p.Required("where");
  if (!where) return std::unexpected(where.error());
  // Open vSwitch treats a missing "columns" as every column (ovs-vsctl relies on it).
  const json* columns_json = p.Optional("columns");
  auto until = p.RequiredString("until");
  if (!until) return std::unexpected(until.error());
  auto rows_json = p.Required("rows");
  if (!rows_json) return std::unexpected(rows_json.error());
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());

  std::optional<int64_t> timeout;
  if (timeout_json) {
    if (!timeout_json->is_number_integer() || timeout_json->get<int64_t>() < 0) {
      return SyntaxErr("'timeout' must be a non-negative integer.");
    }
    timeout = timeout_json->get<int64_t>();
  }
  if (*until != "==" && *until != "!=") {
    return SyntaxErr("'until' must be \"==\" or \"!=\", not \"" + *until + "\".");
  }
  auto cond = ParseCondition(**where, ts, &symtab_);
  if (!cond) return std::unexpected(cond.error());
  DbResult<std::vector<size_t>> columns = std::vector<size_t>();
  if (columns_json) {
    columns = ParseColumnList(*columns_json, ts);
    if (!columns) return std::unexpected(columns.error());
  } else {
    for (const auto& col : ts.columns) columns->push_back(col.index);
  }
  if (!(*rows_json)->is_array()) return SyntaxErr("'rows' must be an array of rows.");

  std::vector<std::vector<Datum>> expected;
  for (const json& rj : **rows_json) {
    Row row = Row::New(ts, Uuid{});
    std::vector<size_t> set;
    if (!rj.is_object()) return SyntaxErr("'rows' must be an array of rows.");
    for (const auto& [name, value] : rj.items()) {
      const ColumnSchema* col = ts.FindColumn(name);
      if (!col) return DbErr("unknown column", "No column " + name + " in table " + ts.name + ".");
      if (std::find(columns->begin(), columns->end(), col->index) == columns->end()) {
        return SyntaxErr("Column " + name + " in 'rows' is not listed in 'columns'.");
      }
      auto d = DatumFromJson(value, col->type, &symtab_);
      if (!d) return std::unexpected(d.error());
      row.columns[col->index] = std::move(*d);
    }
    expected.push_back(Project(row, *columns));
  }
  std::vector<std::vector<Datum>> actual;
  for (const Uuid& u : Select(**table, *cond))
    actual.push_back(Project(*Get(**table, u), *columns));
  std::sort(expected.begin(), expected.end());
  std::sort(actual.begin(), actual.end());
  bool equal = expected == actual;
  if (equal == (*until == "==")) return json::object();
  if (timeout && (*timeout == 0 || ctx_.waited_ms >= *timeout)) {
    return DbErr("timed out", "\"wait\" timed out");
  }
  blocked_ = true;
  block_timeout_ = timeout;
  return DbErr("blocked", "");
}

TxnOutcome Transaction::Run(const json& operations) {
  TxnOutcome out;
  out.reply = json::array();
  if (!operations.is_array()) {
    out.reply.push_back(OvsdbError{"syntax error", "array of operations expected"}.ToJson());
    return out;
  }
  bool failed = false;
  for (const json& op : operations) {
    auto r = Dispatch(op);
    if (blocked_) {
      out.reply = nullptr;
      out.blocked = true;
      out.block_timeout_ms = block_timeout_;
      return out;
    }
    if (!r) {
      out.reply.push_back(r.error().ToJson());
      failed = true;
      break;
    }
    out.reply.push_back(std::move(*r));
  }
  while (out.reply.size() < operations.size()) out.reply.push_back(nullptr);
  if (failed) return out;
  if (auto r = Precommit(); !r) {
    out.reply.push_back(r.error().ToJson());
    return out;
  }
  RefDelta delta = ComputeRefDelta();
  if (rows_.empty()) return out;
  out.record = BuildRecord();
  out.durable = durable_;
  if (!out.record.is_null() && ctx_.persist) {
    if (auto r = ctx_.persist(out.record, durable_); !r) {
      out.reply.push_back(OvsdbError{"I/O error", r.error().message}.ToJson());
      out.record = nullptr;
      return out;
    }
  }
  out.changes = BuildChanges();
  Apply(delta);
  out.committed = true;
  return out;
}

}  // namespace sluice::db
