#include "ovsdb/database.h"

#include <chrono>

#include "ovsdb/json_doc.h"
#include "ovsdb/snapshot.h"
#include "ovsdb/transaction.h"

namespace sluice::db {

using nlohmann::json;

Table::Table(const TableSchema& schema) : shape_(std::make_unique<TableShape>(schema)) {
  for (const std::vector<size_t>& columns : schema.indexes) indexes_.emplace_back(columns);
}

Table::~Table() {
  for (const Row* row : rows_) Row::Unref(row);
}

int64_t Table::RefCount(const Uuid& uuid) const {
  const Row* row = rows_.Find(uuid);
  return row ? row->strong_refs() : 0;
}

Database::Database(DatabaseSchema schema)
    : schema_(std::make_unique<const DatabaseSchema>(std::move(schema))) {
  for (const auto& [name, ts] : schema_->tables) {
    auto t = std::make_unique<Table>(ts);
    t->index_ = tables_.size();
    tables_.emplace(name, std::move(t));
  }
  for (auto& [name, t] : tables_) {
    for (const ColumnSchema& c : t->schema().columns) {
      Table::RefColumn rc{c.index};
      auto target = [this](const BaseType& b, bool strong) -> Table* {
        if (!b.IsRef() || b.IsStrongRef() != strong) return nullptr;
        return MutableTable(b.ref_table);
      };
      rc.strong_key = target(c.type.key, true);
      rc.strong_value = target(c.type.value, true);
      rc.weak_key = target(c.type.key, false);
      rc.weak_value = target(c.type.value, false);
      if (rc.strong_key || rc.strong_value || rc.weak_key || rc.weak_value) {
        t->ref_columns_.push_back(rc);
        t->has_weak_ = t->has_weak_ || rc.weak_key || rc.weak_value;
      }
    }
  }
}

Database::~Database() = default;

const Table* Database::GetTable(std::string_view name) const {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : it->second.get();
}

Table* Database::MutableTable(std::string_view name) {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : it->second.get();
}

TxnOutcome Database::Execute(const json& operations, const TxnContext& ctx, size_t first) {
  Transaction txn(*this, ctx);
  return txn.Run(operations, first);
}

TxnOutcome Database::Execute(const JsonNode& operations, const TxnContext& ctx, size_t first) {
  Transaction txn(*this, ctx);
  return txn.Run(operations, first);
}

Result<void> Database::ApplyRecord(const json& record,
                                   const std::function<void(const ChangeSet&)>& on_commit) {
  TxnContext ctx;
  Transaction txn(*this, ctx);
  return txn.Replay(record, on_commit);
}

json Database::Snapshot() const {
  return json::parse(
      DbSnapshot(*this).Record(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()));
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
  for (const Row* row : table.rows()) {
    if (Matches(condition, *row)) out.push_back(row);
  }
  return out;
}

}  // namespace sluice::db
