#include "ovsdb/database.h"

#include <chrono>

#include "ovsdb/transaction.h"

namespace sluice::db {

using nlohmann::json;

const Row* Table::Find(const Uuid& uuid) const {
  auto it = rows_.find(uuid);
  return it == rows_.end() ? nullptr : &it->second;
}

int64_t Table::RefCount(const Uuid& uuid) const {
  auto it = refcount_.find(uuid);
  return it == refcount_.end() ? 0 : it->second;
}

json ChangesToJson(const ChangeSet& changes) {
  json out = json::object();
  for (const auto& [name, tc] : changes.tables) {
    json tj = json::object();
    for (const auto& [uuid, rc] : tc.rows) {
      json names = json::array();
      for (size_t c : rc.changed) names.push_back(tc.table->columns[c].name);
      tj[uuid.ToString()] = {
          {"old", rc.old_row ? RowToJson(*tc.table, *rc.old_row) : json(nullptr)},
          {"new", rc.new_row ? RowToJson(*tc.table, *rc.new_row) : json(nullptr)},
          {"changed", std::move(names)}};
    }
    out[name] = std::move(tj);
  }
  return out;
}

Database::Database(DatabaseSchema schema)
    : schema_(std::make_unique<const DatabaseSchema>(std::move(schema))) {
  for (const auto& [name, ts] : schema_->tables) tables_.emplace(name, Table(ts));
}

const Table* Database::GetTable(std::string_view name) const {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : &it->second;
}

Table* Database::MutableTable(std::string_view name) {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : &it->second;
}

TxnOutcome Database::Execute(const json& operations, const TxnContext& ctx) {
  Transaction txn(*this, ctx);
  return txn.Run(operations);
}

Result<ChangeSet> Database::ApplyRecord(const json& record) {
  TxnContext ctx;
  Transaction txn(*this, ctx);
  return txn.Replay(record);
}

json Database::Snapshot() const {
  json rec = json::object();
  for (const auto& [name, table] : tables_) {
    if (table.size() == 0) continue;
    const TableSchema& ts = table.schema();
    json tj = json::object();
    for (const auto& [uuid, row] : table.rows()) {
      json cols = json::object();
      for (const ColumnSchema& c : ts.columns) {
        if (c.implicit || c.ephemeral) continue;
        const Datum& d = row.columns[c.index];
        if (d != Datum::Default(c.type)) cols[c.name] = d.ToJson();
      }
      tj[uuid.ToString()] = std::move(cols);
    }
    rec[name] = std::move(tj);
  }
  rec["_date"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  return rec;
}

std::vector<const Row*> Database::Select(const Table& table, const Condition& condition) const {
  std::vector<const Row*> out;
  for (const Clause& c : condition.clauses) {
    if (c.function == Function::kEq && c.column == kUuidColumn && c.arg.size() == 1) {
      const Row* row = table.Find(std::get<Uuid>(c.arg.keys[0]));
      if (row && Matches(condition, *row)) out.push_back(row);
      return out;
    }
  }
  for (const auto& [uuid, row] : table.rows()) {
    if (Matches(condition, row)) out.push_back(&row);
  }
  return out;
}

}  // namespace sluice::db
