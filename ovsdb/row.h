// A table row: one datum per column of its TableSchema (including _uuid and _version).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/datum.h"
#include "ovsdb/schema.h"

namespace sluice::db {

struct Row {
  std::vector<Datum> columns;  // indexed by ColumnSchema::index

  // A row with `uuid`, a fresh _version, and every other column at its type's default.
  static Row New(const TableSchema& table, Uuid uuid);
  Uuid uuid() const { return std::get<Uuid>(columns[kUuidColumn].keys[0]); }
  Uuid version() const { return std::get<Uuid>(columns[kVersionColumn].keys[0]); }
  void SetVersion(Uuid v) { columns[kVersionColumn] = Datum::Scalar(UuidAtom(v)); }
  // Equal in every column except _version.
  bool SameContents(const Row& other) const;
  bool operator==(const Row&) const = default;
};

// {"col": <datum>, ...} for `columns` (column indexes), or for every column including _uuid
// and _version when `columns` is null.
nlohmann::json RowToJson(const TableSchema& table, const Row& row,
                         const std::vector<size_t>* columns = nullptr);

// Indexes of the columns named in a JSON array (select/wait/monitor "columns").
DbResult<std::vector<size_t>> ParseColumnList(const nlohmann::json& names,
                                              const TableSchema& table);

}  // namespace sluice::db
