#include "ovsdb/row.h"

#include <algorithm>

namespace sluice::db {

using nlohmann::json;

Row Row::New(const TableSchema& table, Uuid uuid) {
  Row row;
  row.columns.reserve(table.columns.size());
  for (const ColumnSchema& c : table.columns) row.columns.push_back(Datum::Default(c.type));
  row.columns[kUuidColumn] = Datum::Scalar(UuidAtom(uuid));
  row.SetVersion(Uuid::Random());
  return row;
}

bool Row::SameContents(const Row& other) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i != kVersionColumn && columns[i] != other.columns[i]) return false;
  }
  return true;
}

json RowToJson(const TableSchema& table, const Row& row, const std::vector<size_t>* columns) {
  json j = json::object();
  if (columns) {
    for (size_t c : *columns) j[table.columns[c].name] = row.columns[c].ToJson();
  } else {
    for (const ColumnSchema& c : table.columns) j[c.name] = row.columns[c.index].ToJson();
  }
  return j;
}

DbResult<std::vector<size_t>> ParseColumnList(const json& names, const TableSchema& table) {
  if (!names.is_array()) return SyntaxErr("\"columns\" must be an array of column names");
  std::vector<size_t> out;
  for (const json& n : names) {
    if (!n.is_string()) return SyntaxErr("column name expected, got " + n.dump());
    const ColumnSchema* c = table.FindColumn(n.get<std::string>());
    if (!c) {
      return DbErr("unknown column",
                   "No column " + n.get<std::string>() + " in table " + table.name + ".");
    }
    if (std::find(out.begin(), out.end(), c->index) != out.end()) {
      return SyntaxErr("column " + c->name + " is listed more than once");
    }
    out.push_back(c->index);
  }
  return out;
}

}  // namespace sluice::db
