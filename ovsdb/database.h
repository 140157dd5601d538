// In-memory OVSDB database: schema, committed tables, and the transaction entry point that the
// JSON-RPC server (transact, monitors, locks) and the on-disk log build on.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/change_set.h"
#include "ovsdb/condition.h"
#include "ovsdb/row.h"
#include "ovsdb/row_set.h"
#include "ovsdb/schema.h"
#include "sluice/result.h"

namespace sluice::db {

class JsonNode;

class Table {
 public:
  explicit Table(const TableSchema& schema);
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  const TableSchema& schema() const { return *shape_->schema; }
  const TableShape& shape() const { return *shape_; }
  // Committed rows, in no particular order: `for (const Row* r : table.rows())`.
  const RowMap& rows() const { return rows_; }
  const Row* Find(const Uuid& uuid) const { return rows_.Find(uuid); }
  size_t size() const { return rows_.size(); }
  // Number of strong references to `uuid` held by committed rows.
  int64_t RefCount(const Uuid& uuid) const;
  // The unique indexes, in schema order.
  const std::vector<RowIndex>& indexes() const { return indexes_; }

 private:
  friend class Transaction;
  friend class Database;

  // A column holding references: the tables its keys and values refer to, by strength.
  struct RefColumn {
    size_t column;
    Table* strong_key = nullptr;
    Table* strong_value = nullptr;
    Table* weak_key = nullptr;
    Table* weak_value = nullptr;
  };

  size_t index_ = 0;  // position in Database::tables()
  std::vector<RefColumn> ref_columns_;
  bool has_weak_ = false;
  std::unique_ptr<TableShape> shape_;  // rows point at it, so its address is fixed
  RowMap rows_;                        // holds one reference to each row
  std::vector<RowIndex> indexes_;
};

struct TxnContext {
  // "assert": whether the issuing client owns `lock`. Unset means it owns no locks.
  std::function<bool(const std::string& lock)> owns_lock;
  // Milliseconds since the transaction was first received, for "wait" timeouts on retries.
  int64_t waited_ms = 0;
  // Wall clock in ms for the record's "_date"; 0 means read the system clock.
  int64_t now_ms = 0;
  // Called with the storage record (JSON text) before the commit becomes visible; an error
  // fails the transaction with "I/O error" and leaves the database unchanged.
  std::function<Result<void>(std::string_view record, bool durable)> persist;
  // Called once the transaction is certain to commit, after `persist` and before the tables
  // change: `changes` refers to the old rows (still in the tables) and to the new values.
  std::function<void(const ChangeSet& changes)> on_commit;
};

struct TxnOutcome {
  // RFC 7047 §4.1.3 result array (null while blocked).
  nlohmann::json reply;
  // A "wait" is unsatisfied: nothing was done; retry after the next commit or when
  // `block_timeout_ms` (relative to first receipt; absent = never) passes.
  bool blocked = false;
  std::optional<int64_t> block_timeout_ms;
  // True when the transaction committed and changed at least one row.
  bool committed = false;
  // The storage record (see StorageRecord); empty when nothing persistent changed.
  std::string record;
  bool durable = false;  // a "commit" operation asked for "durable": true
};

class Database {
 public:
  explicit Database(DatabaseSchema schema);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const DatabaseSchema& schema() const { return *schema_; }
  const Table* GetTable(std::string_view name) const;
  // Tables in name order.
  const std::map<std::string, std::unique_ptr<Table>, std::less<>>& tables() const {
    return tables_;
  }

  // Executes the operations of a "transact" request: the elements of `operations` (an array)
  // from index `first` on (so a request's params can be passed without copying).
  TxnOutcome Execute(const nlohmann::json& operations, const TxnContext& ctx = {},
                     size_t first = 0);
  TxnOutcome Execute(const JsonNode& operations, const TxnContext& ctx, size_t first);

  // Replays a storage record (as produced by Execute or Snapshot) without integrity checks,
  // since the log only ever holds committed data. `on_commit` sees what changed.
  Result<void> ApplyRecord(const nlohmann::json& record,
                           const std::function<void(const ChangeSet&)>& on_commit = {});

  // The whole database as one record, for log compaction and tests.
  nlohmann::json Snapshot() const;

  // Rows of `table` matching `condition`.
  std::vector<const Row*> Select(const Table& table, const Condition& condition) const;

  // Number of transactions that changed the database; lets servers detect change cheaply.
  uint64_t generation() const { return generation_; }

 private:
  friend class Transaction;
  Table* MutableTable(std::string_view name);

  std::unique_ptr<const DatabaseSchema> schema_;
  std::map<std::string, std::unique_ptr<Table>, std::less<>> tables_;
  uint64_t generation_ = 0;
};

}  // namespace sluice::db
