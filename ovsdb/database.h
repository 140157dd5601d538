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
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/condition.h"
#include "ovsdb/row.h"
#include "ovsdb/schema.h"
#include "sluice/result.h"

namespace sluice::db {

class Table {
 public:
  explicit Table(const TableSchema& schema) : schema_(&schema), indexes_(schema.indexes.size()) {}

  const TableSchema& schema() const { return *schema_; }
  // Committed rows in UUID order.
  const std::map<Uuid, Row>& rows() const { return rows_; }
  const Row* Find(const Uuid& uuid) const;
  size_t size() const { return rows_.size(); }
  // Number of strong references to `uuid` held by committed rows.
  int64_t RefCount(const Uuid& uuid) const;

 private:
  friend class Transaction;
  friend class Database;

  const TableSchema* schema_;
  std::map<Uuid, Row> rows_;
  std::unordered_map<Uuid, int64_t, UuidHash> refcount_;
  // One map per schema index: indexed column values -> row, so commits check uniqueness
  // without scanning the table.
  std::vector<std::map<std::vector<Datum>, Uuid>> indexes_;
};

// What a committed transaction changed in one row.
struct RowChange {
  std::optional<Row> old_row;   // absent for inserts
  std::optional<Row> new_row;   // absent for deletes
  std::vector<size_t> changed;  // column indexes whose value changed (declared columns only)
};

struct TableChanges {
  const TableSchema* table = nullptr;
  std::map<Uuid, RowChange> rows;
};

// Everything one commit changed, for monitors (update/update2/update3) and wait retries.
struct ChangeSet {
  std::map<std::string, TableChanges> tables;
  bool empty() const { return tables.empty(); }
};

// {"<table>": {"<uuid>": {"old": row|null, "new": row|null, "changed": [column names]}}},
// rows rendered with every column (including _uuid and _version).
nlohmann::json ChangesToJson(const ChangeSet& changes);

struct TxnContext {
  // "assert": whether the issuing client owns `lock`. Unset means it owns no locks.
  std::function<bool(const std::string& lock)> owns_lock;
  // Milliseconds since the transaction was first received, for "wait" timeouts on retries.
  int64_t waited_ms = 0;
  // Wall clock in ms for the record's "_date"; 0 means read the system clock.
  int64_t now_ms = 0;
  // Called with the storage record before the commit becomes visible; an error fails the
  // transaction with "I/O error" and leaves the database unchanged.
  std::function<Result<void>(const nlohmann::json& record, bool durable)> persist;
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
  ChangeSet changes;
  // OVS log record {"<table>": {"<uuid>": {columns} | null}, "_date": ms, "_comment": ...};
  // null when nothing persistent changed (read-only or ephemeral-only transactions).
  nlohmann::json record;
  bool durable = false;  // a "commit" operation asked for "durable": true
};

class Database {
 public:
  explicit Database(DatabaseSchema schema);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const DatabaseSchema& schema() const { return *schema_; }
  const Table* GetTable(std::string_view name) const;

  // Executes the operations array of a "transact" request (params without the db name).
  TxnOutcome Execute(const nlohmann::json& operations, const TxnContext& ctx = {});

  // Replays a storage record (as produced by Execute or Snapshot) without integrity checks,
  // since the log only ever holds committed data. Returns what changed.
  Result<ChangeSet> ApplyRecord(const nlohmann::json& record);

  // The whole database as one record, for log compaction.
  nlohmann::json Snapshot() const;

  // Rows of `table` matching `condition`, for monitor initial contents.
  std::vector<const Row*> Select(const Table& table, const Condition& condition) const;

  // Number of transactions that changed the database; lets servers detect change cheaply.
  uint64_t generation() const { return generation_; }

 private:
  friend class Transaction;
  Table* MutableTable(std::string_view name);

  std::unique_ptr<const DatabaseSchema> schema_;
  std::map<std::string, Table, std::less<>> tables_;
  uint64_t generation_ = 0;
};

}  // namespace sluice::db
