#include "ovsdb/row.h"

#include <algorithm>

#include "ovsdb/json_doc.h"

namespace sluice::db {

using nlohmann::json;

TableShape::TableShape(const TableSchema& s) : schema(&s) {
  defaults.reserve(s.columns.size());
  for (const ColumnSchema& c : s.columns) {
    defaults.push_back(Datum::Default(c.type));
    if (!c.implicit) declared.push_back(c.index);
  }
}

const Row::Slot* Row::FindSlot(size_t column) const {
  // Rows store a handful of columns: a linear scan beats a binary search.
  for (const Slot& s : slots_) {
    if (s.column >= column) return s.column == column ? &s : nullptr;
  }
  return nullptr;
}

std::vector<Row::Slot>::iterator Row::LowerBound(size_t column) {
  return std::lower_bound(slots_.begin(), slots_.end(), column,
                          [](const Slot& s, size_t c) { return s.column < c; });
}

ColumnValue Row::Value(size_t column) const {
  if (column == kUuidColumn) return ColumnValue::Own(Datum::Scalar(UuidAtom(uuid_)));
  if (column == kVersionColumn) return ColumnValue::Own(Datum::Scalar(UuidAtom(version_)));
  return ColumnValue::Ref(Get(column));
}

void Row::Set(size_t column, Datum value) {
  auto it = LowerBound(column);
  bool present = it != slots_.end() && it->column == column;
  if (value == shape_->defaults[column]) {
    if (present) slots_.erase(it);
    return;
  }
  if (present) {
    static_cast<Datum&>(*it) = std::move(value);
  } else {
    slots_.emplace(it, static_cast<uint32_t>(column), std::move(value));
  }
}

Datum& Row::Mutable(size_t column) {
  auto it = LowerBound(column);
  if (it == slots_.end() || it->column != column) {
    it = slots_.emplace(it, static_cast<uint32_t>(column), shape_->defaults[column]);
  }
  return *it;
}

void Row::Normalize(size_t column) {
  auto it = LowerBound(column);
  if (it != slots_.end() && it->column == column &&
      static_cast<const Datum&>(*it) == shape_->defaults[column]) {
    slots_.erase(it);
  }
}

bool Row::SameContents(const Row& other) const {
  if (uuid_ != other.uuid_ || slots_.size() != other.slots_.size()) return false;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].column != other.slots_[i].column ||
        static_cast<const Datum&>(slots_[i]) != static_cast<const Datum&>(other.slots_[i])) {
      return false;
    }
  }
  return true;
}

json RowToJson(const Row& row, const std::vector<size_t>* columns) {
  const TableSchema& table = row.schema();
  json j = json::object();
  if (columns) {
    for (size_t c : *columns) j[table.columns[c].name] = row.Value(c)->ToJson();
  } else {
    for (const ColumnSchema& c : table.columns) j[c.name] = row.Value(c.index)->ToJson();
  }
  return j;
}

namespace {

template <class J>
DbResult<std::vector<size_t>> ParseColumnListT(const J& names, const TableSchema& table) {
  if (!names.is_array()) return SyntaxErr("\"columns\" must be an array of column names");
  std::vector<size_t> out;
  for (const auto& n : names) {
    if (!n.is_string()) return SyntaxErr("column name expected, got " + n.dump());
    const ColumnSchema* c = table.FindColumn(std::string(StrOf(n)));
    if (!c) {
      return DbErr("unknown column",
                   "No column " + std::string(StrOf(n)) + " in table " + table.name + ".");
    }
    if (std::find(out.begin(), out.end(), c->index) != out.end()) {
      return SyntaxErr("column " + c->name + " is listed more than once");
    }
    out.push_back(c->index);
  }
  return out;
}

}  // namespace

DbResult<std::vector<size_t>> ParseColumnList(const json& names, const TableSchema& table) {
  return ParseColumnListT(names, table);
}

template <std::same_as<JsonNode> J>
DbResult<std::vector<size_t>> ParseColumnList(const J& names, const TableSchema& table) {
  return ParseColumnListT(names, table);
}
template DbResult<std::vector<size_t>> ParseColumnList(const JsonNode& names,
                                                       const TableSchema& table);

}  // namespace sluice::db
