// One OVSDB transaction: a copy-on-write overlay over the committed tables, the RFC 7047 §5.2
// operations, and the commit-time checks (transaction.cc: operations, commit.cc: commit).
// Internal to the ovsdb library; servers use Database::Execute.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/condition.h"
#include "ovsdb/database.h"
#include "ovsdb/datum.h"
#include "ovsdb/error.h"
#include "ovsdb/row.h"

namespace sluice::db {

class Transaction {
 public:
  Transaction(Database& db, const TxnContext& ctx) : db_(db), ctx_(ctx) {}

  TxnOutcome Run(const nlohmann::json& operations);
  Result<ChangeSet> Replay(const nlohmann::json& record);

 private:
  struct TxnRow {
    const Row* old = nullptr;    // committed version; null if inserted by this transaction
    std::optional<Row> current;  // absent once deleted
  };
  using RefDelta = std::map<std::pair<Table*, Uuid>, int64_t>;

  // Overlay access.
  const Row* Get(Table& table, const Uuid& uuid) const;
  Row* Modify(Table& table, const Uuid& uuid);
  void InsertRow(Table& table, Row row);
  void DeleteRow(Table& table, const Uuid& uuid);
  std::vector<Uuid> Select(Table& table, const Condition& cond) const;
  std::vector<const Row*> Visible(Table& table) const;

  // Operations (transaction.cc).
  DbResult<nlohmann::json> Dispatch(const nlohmann::json& op);
  DbResult<Table*> ParseTable(const nlohmann::json& op);
  DbResult<nlohmann::json> OpInsert(const nlohmann::json& op);
  DbResult<nlohmann::json> OpSelect(const nlohmann::json& op);
  DbResult<nlohmann::json> OpUpdate(const nlohmann::json& op);
  DbResult<nlohmann::json> OpMutate(const nlohmann::json& op);
  DbResult<nlohmann::json> OpDelete(const nlohmann::json& op);
  DbResult<nlohmann::json> OpWait(const nlohmann::json& op);

  // Commit (commit.cc).
  DbResult<void> Precommit();
  void DropNoOps();
  RefDelta ComputeRefDelta() const;
  DbResult<bool> RemoveWeakRefs();
  bool CollectGarbage();
  DbResult<void> CheckStrongRefs(const RefDelta& delta) const;
  DbResult<void> CheckMaxRows() const;
  DbResult<void> CheckIndexes() const;
  ChangeSet BuildChanges() const;
  nlohmann::json BuildRecord() const;
  void Apply(const RefDelta& delta);
  // Adds the strong-reference difference between `old` and `cur` (either may be null).
  void DiffStrongRefs(const TableSchema& table, const Row* old, const Row* cur,
                      RefDelta& delta) const;
  // Adds `sign` for every strong reference held by `row` of `table` into `delta`.
  void CountStrongRefs(const TableSchema& table, const Row& row, int64_t sign,
                       RefDelta& delta) const;

  Database& db_;
  const TxnContext& ctx_;
  SymbolTable symtab_;
  std::map<Table*, std::map<Uuid, TxnRow>> rows_;
  std::vector<std::string> comments_;
  bool durable_ = false;
  bool blocked_ = false;
  std::optional<int64_t> block_timeout_;
};

}  // namespace sluice::db
