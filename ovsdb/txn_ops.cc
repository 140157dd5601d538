// The RFC 7047 §5.2 operations of a transaction.
#include <algorithm>
#include <string_view>

#include "ovsdb/json_doc.h"
#include "ovsdb/mutation.h"
#include "ovsdb/transaction.h"

namespace sluice::db {

using nlohmann::json;

namespace {

// Tracks which members of an operation were consumed so leftovers are reported, as OVS does.
template <class J>
class OpParser {
 public:
  explicit OpParser(const J& op) : op_(op) {}

  const J* Optional(const char* name) {
    used_.push_back(name);
    auto it = op_.find(name);
    return it == op_.end() ? nullptr : &*it;
  }
  DbResult<const J*> Required(const char* name) {
    const J* j = Optional(name);
    if (!j) return SyntaxErr(std::string("Required '") + name + "' member is missing.");
    return j;
  }
  DbResult<std::string> RequiredString(const char* name) {
    auto j = Required(name);
    if (!j) return std::unexpected(j.error());
    if (!(*j)->is_string()) return SyntaxErr(std::string("'") + name + "' must be a string.");
    return std::string(StrOf(**j));
  }
  DbResult<void> Finish() const {
    for (const auto& [key, _] : op_.items()) {
      if (key == "op" || std::find(used_.begin(), used_.end(), key) != used_.end()) continue;
      return SyntaxErr("Member '" + std::string(key) + "' is present but not allowed here.");
    }
    return {};
  }

 private:
  const J& op_;
  std::vector<std::string_view> used_;
};

// Parses a "row" object; `set` receives each column index and value.
template <class J, class Set>
DbResult<void> ParseRow(const J& j, const TableSchema& table, SymbolTable* symtab, bool update,
                        Set&& set) {
  if (!j.is_object()) return SyntaxErr("\"row\" must be a JSON object");
  for (const auto& [name, value] : j.items()) {
    const ColumnSchema* col = table.FindColumn(name);
    if (!col) {
      return DbErr("unknown column",
                   "No column " + std::string(name) + " in table " + table.name + ".");
    }
    if (col->implicit || (update && !col->is_mutable)) {
      return DbErr("constraint violation", std::string("Cannot ") + (update ? "update" : "set") +
                                               " immutable column " + std::string(name) +
                                               " in table " + table.name + ".");
    }
    auto d = DatumFromJson(value, col->type, symtab);
    if (!d) return std::unexpected(d.error());
    set(col->index, std::move(*d));
  }
  return {};
}

}  // namespace

template <class J>
DbResult<Table*> Transaction::ParseTable(const J& op) {
  auto it = op.find("table");
  if (it == op.end()) return SyntaxErr("Required 'table' member is missing.");
  if (!it->is_string()) return SyntaxErr("'table' must be a string.");
  Table* t = db_.MutableTable(StrOf(*it));
  if (!t) return DbErr("unknown table", "No table named " + std::string(StrOf(*it)) + ".");
  return t;
}

template <class J>
DbResult<json> Transaction::Dispatch(const J& op) {
  if (!op.is_object()) return SyntaxErr("operation must be a JSON object, got " + op.dump());
  auto it = op.find("op");
  if (it == op.end()) return SyntaxErr("Required 'op' member is missing.");
  if (!it->is_string()) return SyntaxErr("'op' must be a string.");
  std::string_view name = StrOf(*it);
  if (name == "insert") return OpInsert(op);
  if (name == "select") return OpSelect(op);
  if (name == "update") return OpUpdate(op);
  if (name == "mutate") return OpMutate(op);
  if (name == "delete") return OpDelete(op);
  if (name == "wait") return OpWait(op);
  OpParser<J> p(op);
  if (name == "commit") {
    auto d = p.Required("durable");
    if (!d) return std::unexpected(d.error());
    if (!(*d)->is_boolean()) return SyntaxErr("'durable' must be a boolean.");
    if (auto r = p.Finish(); !r) return std::unexpected(r.error());
    durable_ |= BoolOf(**d);
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
  return DbErr("unknown operation", "No operation named " + std::string(name) + ".");
}

template <class J>
DbResult<json> Transaction::OpInsert(const J& op) {
  OpParser<J> p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  const TableSchema& ts = (*table)->schema();
  const J* uuid_json = p.Optional("uuid");
  const J* name_json = p.Optional("uuid-name");
  const J* row_json = p.Optional("row");
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());

  std::optional<Uuid> uuid;
  if (uuid_json) {
    auto u = uuid_json->is_string() ? Uuid::Parse(StrOf(*uuid_json)) : std::nullopt;
    if (!u) return SyntaxErr("'uuid' must be a UUID string, got " + uuid_json->dump());
    uuid = *u;
  }
  if (name_json) {
    if (!name_json->is_string()) return SyntaxErr("'uuid-name' must be a string.");
    std::string name(StrOf(*name_json));
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
  // A row deleted earlier in this transaction still has its TxnRow.
  if (FindTxnRow(**table, *uuid) || (*table)->Find(*uuid)) {
    return DbErr("duplicate uuid",
                 "This UUID would duplicate a UUID already present within the "
                 "table or deleted within the same transaction.");
  }
  auto row = std::make_unique<Row>((*table)->shape(), *uuid, Uuid{});
  if (row_json) {
    auto set = [&row](size_t c, Datum d) { row->Set(c, std::move(d)); };
    if (auto r = ParseRow(*row_json, ts, &symtab_, false, set); !r) {
      return std::unexpected(r.error());
    }
  }
  InsertRow(**table, std::move(row));
  return json{{"uuid", AtomToJson(UuidAtom(*uuid))}};
}

template <class J>
DbResult<json> Transaction::OpSelect(const J& op) {
  OpParser<J> p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  const TableSchema& ts = (*table)->schema();
  auto where = p.Required("where");
  if (!where) return std::unexpected(where.error());
  const J* columns_json = p.Optional("columns");
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
  for (const Sel& sel : Select(**table, *cond)) {
    rows.push_back(RowJson(sel, ts, columns ? &*columns : nullptr));
  }
  return json{{"rows", std::move(rows)}};
}

template <class J>
DbResult<json> Transaction::OpUpdate(const J& op) {
  OpParser<J> p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  const TableSchema& ts = (*table)->schema();
  auto where = p.Required("where");
  if (!where) return std::unexpected(where.error());
  auto row_json = p.Required("row");
  if (!row_json) return std::unexpected(row_json.error());
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());
  std::vector<std::pair<size_t, Datum>> update;
  auto set = [&update](size_t c, Datum d) { update.emplace_back(c, std::move(d)); };
  if (auto r = ParseRow(**row_json, ts, &symtab_, true, set); !r) {
    return std::unexpected(r.error());
  }
  auto cond = ParseCondition(**where, ts, &symtab_);
  if (!cond) return std::unexpected(cond.error());
  std::vector<Sel> matched = Select(**table, *cond);
  for (const Sel& sel : matched) {
    TxnRow& tr = Own(**table, sel);
    for (const auto& [c, d] : update) SetColumn(tr, c, d);
  }
  return json{{"count", matched.size()}};
}

template <class J>
DbResult<json> Transaction::OpMutate(const J& op) {
  OpParser<J> p(op);
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
  std::vector<Sel> matched = Select(**table, *cond);
  for (const Sel& sel : matched) {
    TxnRow& tr = Own(**table, sel);
    for (const Mutation& m : *mutations) {
      if (auto r = Mutate(tr, m); !r) return std::unexpected(r.error());
    }
  }
  return json{{"count", matched.size()}};
}

template <class J>
DbResult<json> Transaction::OpDelete(const J& op) {
  OpParser<J> p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  auto where = p.Required("where");
  if (!where) return std::unexpected(where.error());
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());
  auto cond = ParseCondition(**where, (*table)->schema(), &symtab_);
  if (!cond) return std::unexpected(cond.error());
  std::vector<Sel> matched = Select(**table, *cond);
  for (const Sel& sel : matched) DeleteRow(Own(**table, sel));
  return json{{"count", matched.size()}};
}

template <class J>
DbResult<json> Transaction::OpWait(const J& op) {
  OpParser<J> p(op);
  p.Optional("table");
  auto table = ParseTable(op);
  if (!table) return std::unexpected(table.error());
  const TableSchema& ts = (*table)->schema();
  const J* timeout_json = p.Optional("timeout");
  auto where = p.Required("where");
  if (!where) return std::unexpected(where.error());
  // Open vSwitch treats a missing "columns" as every column (ovs-vsctl relies on it).
  const J* columns_json = p.Optional("columns");
  auto until = p.RequiredString("until");
  if (!until) return std::unexpected(until.error());
  auto rows_json = p.Required("rows");
  if (!rows_json) return std::unexpected(rows_json.error());
  if (auto r = p.Finish(); !r) return std::unexpected(r.error());

  std::optional<int64_t> timeout;
  if (timeout_json) {
    if (!timeout_json->is_number_integer() || IntOf(*timeout_json) < 0) {
      return SyntaxErr("'timeout' must be a non-negative integer.");
    }
    timeout = IntOf(*timeout_json);
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

  // One Datum per listed column for each expected row (the column's default unless given).
  const TableShape& shape = (*table)->shape();
  std::vector<std::vector<Datum>> expected;
  for (const auto& rj : **rows_json) {
    if (!rj.is_object()) return SyntaxErr("'rows' must be an array of rows.");
    std::vector<Datum> row;
    row.reserve(columns->size());
    for (size_t c : *columns) {
      row.push_back(c < 2 ? Datum::Scalar(UuidAtom(Uuid{})) : shape.defaults[c]);
    }
    for (const auto& [name, value] : rj.items()) {
      const ColumnSchema* col = ts.FindColumn(name);
      if (!col) {
        return DbErr("unknown column",
                     "No column " + std::string(name) + " in table " + ts.name + ".");
      }
      auto pos = std::find(columns->begin(), columns->end(), col->index);
      if (pos == columns->end()) {
        return SyntaxErr("Column " + std::string(name) + " in 'rows' is not listed in 'columns'.");
      }
      auto d = DatumFromJson(value, col->type, &symtab_);
      if (!d) return std::unexpected(d.error());
      row[pos - columns->begin()] = std::move(*d);
    }
    expected.push_back(std::move(row));
  }
  std::vector<Sel> matched = Select(**table, *cond);
  bool equal = matched.size() == expected.size();
  if (equal && matched.size() == 1) {
    // The usual case (an IDL verifying one row): compare in place.
    for (size_t k = 0; k < columns->size() && equal; ++k) {
      equal = *ColumnAny(matched[0], (*columns)[k]) == expected[0][k];
    }
  } else if (equal) {
    std::vector<std::vector<Datum>> actual;
    for (const Sel& sel : matched) {
      std::vector<Datum> row;
      for (size_t c : *columns) row.push_back(*ColumnAny(sel, c));
      actual.push_back(std::move(row));
    }
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    equal = expected == actual;
  }
  if (equal == (*until == "==")) return json::object();
  if (timeout && (*timeout == 0 || ctx_.waited_ms >= *timeout)) {
    return DbErr("timed out", "\"wait\" timed out");
  }
  blocked_ = true;
  block_timeout_ = timeout;
  return DbErr("blocked", "");
}

// Requests arrive as nlohmann::json (in-process callers, tools, tests) or as JsonNode (the
// server's request documents).
template DbResult<json> Transaction::Dispatch(const json& op);
template DbResult<json> Transaction::Dispatch(const JsonNode& op);

}  // namespace sluice::db
