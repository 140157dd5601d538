// One OVSDB transaction: an overlay over the committed tables, the RFC 7047 §5.2 operations,
// the commit-time checks and the application of the result (transaction.cc: overlay and
// operations, txn_ops.cc: the operations, commit.cc: checks, apply.cc: storage record, apply
// and replay). Internal to the ovsdb library; servers use Database::Execute.
//
// Cost model: a transaction touches only the rows it names. A modified row is not copied: the
// transaction keeps per-column edits over the committed row, and an "insert"/"delete" mutation
// of a set or map keeps only the elements it adds or removes (DatumDelta), which the commit
// applies in place. Reference counts, indexes and the storage record are updated from these
// edits, so adding one port to a bridge with ten thousand costs about as much as with ten.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/condition.h"
#include "ovsdb/database.h"
#include "ovsdb/datum.h"
#include "ovsdb/datum_delta.h"
#include "ovsdb/error.h"
#include "ovsdb/mutation.h"
#include "ovsdb/row.h"

namespace sluice::db {

// A changed column of a committed row.
struct ColumnEdit {
  size_t column = 0;
  bool is_delta = false;
  Datum value;       // !is_delta: the new value
  DatumDelta delta;  // is_delta: elements added and removed (see datum_delta.h)
  // Caches for readers of the new value / the diff (a delta is kept for the commit anyway).
  std::optional<Datum> materialized;
  std::optional<Datum> diff;
};

// A row this transaction touched.
struct TxnRow {
  Table* table = nullptr;
  Uuid uuid;
  const Row* committed = nullptr;  // the row in the table; null if inserted here
  std::unique_ptr<Row> inserted;   // the new row, if inserted here and not deleted
  bool deleted = false;            // a committed row deleted here
  std::vector<ColumnEdit> edits;   // modifications of `committed`, sorted by column
  Uuid version;                    // the new _version (set at commit)

  bool exists() const { return inserted || (committed && !deleted); }
  ColumnEdit* FindEdit(size_t column);
  const ColumnEdit* FindEdit(size_t column) const;
  // The edit of `column`, created empty (full value, default Datum) if there is none.
  ColumnEdit& EditFor(size_t column);
};

class Transaction {
 public:
  Transaction(Database& db, const TxnContext& ctx);

  template <class J>
  TxnOutcome Run(const J& operations, size_t first);
  Result<void> Replay(const nlohmann::json& record,
                      const std::function<void(const ChangeSet&)>& on_commit);

  // The new value of a column of a row of this transaction (materializes a delta).
  static const Datum& NewValue(TxnRow& tr, size_t column);

 private:
  using TxnRows = std::unordered_map<Uuid, TxnRow, UuidHash>;
  struct RefKey {
    Table* table;
    Uuid uuid;
    bool operator==(const RefKey&) const = default;
  };
  struct RefKeyHash {
    size_t operator()(const RefKey& k) const {
      return UuidHash()(k.uuid) ^ reinterpret_cast<uintptr_t>(k.table);
    }
  };
  using RefDelta = std::unordered_map<RefKey, int64_t, RefKeyHash>;

  // Overlay access (transaction.cc).
  TxnRows& RowsOf(Table& table) { return rows_[TableIndex(table)]; }
  size_t TableIndex(const Table& table) const;
  TxnRow* FindTxnRow(Table& table, const Uuid& uuid);
  bool Exists(Table& table, const Uuid& uuid);
  // The row for reading and writing, or null if it does not exist (now).
  TxnRow* Touch(Table& table, const Uuid& uuid);
  const Datum& Column(TxnRow& tr, size_t column);
  ColumnValue ColumnAny(TxnRow& tr, size_t column);
  void SetColumn(TxnRow& tr, size_t column, Datum value);
  DbResult<void> Mutate(TxnRow& tr, const Mutation& m);
  TxnRow& InsertRow(Table& table, std::unique_ptr<Row> row);
  void DeleteRow(TxnRow& tr);
  bool RowMatches(TxnRow& tr, const Condition& cond);
  // A row a condition selected: touched by this transaction (`tr`) or not (`row`, committed).
  struct Sel {
    TxnRow* tr;
    const Row* row;
  };
  // Rows matching `cond`, existing now.
  std::vector<Sel> Select(Table& table, const Condition& cond);
  // The selected row as a row of this transaction (for writing).
  TxnRow& Own(Table& table, const Sel& sel);
  ColumnValue ColumnAny(const Sel& sel, size_t column);
  nlohmann::json RowJson(const Sel& sel, const TableSchema& ts, const std::vector<size_t>* columns);

  // Operations (txn_ops.cc), for J = nlohmann::json or JsonNode.
  template <class J>
  DbResult<nlohmann::json> Dispatch(const J& op);
  template <class J>
  DbResult<Table*> ParseTable(const J& op);
  template <class J>
  DbResult<nlohmann::json> OpInsert(const J& op);
  template <class J>
  DbResult<nlohmann::json> OpSelect(const J& op);
  template <class J>
  DbResult<nlohmann::json> OpUpdate(const J& op);
  template <class J>
  DbResult<nlohmann::json> OpMutate(const J& op);
  template <class J>
  DbResult<nlohmann::json> OpDelete(const J& op);
  template <class J>
  DbResult<nlohmann::json> OpWait(const J& op);

  // Commit checks (commit.cc).
  DbResult<void> Precommit();
  void DropNoOps();
  // Adds `sign` for every strong reference of the row as this transaction has it.
  void CountRefs(TxnRow& tr, int64_t sign, RefDelta& delta);
  void AddRefChanges(TxnRow& tr, RefDelta& delta);
  DbResult<bool> RemoveWeakRefs();
  bool CollectGarbage(RefDelta& delta);
  DbResult<void> CheckStrongRefs(const RefDelta& delta);
  DbResult<void> CheckMaxRows();
  DbResult<void> CheckIndexes();

  // Commit (apply.cc).
  void BuildChanges(ChangeSet& cs);
  void Apply(const RefDelta& delta);
  void ApplyRow(TxnRow& tr);

  Database& db_;
  const TxnContext& ctx_;
  SymbolTable symtab_;
  std::vector<TxnRows> rows_;  // per table, in Database::tables_ order
  std::vector<Table*> tables_;
  RefDelta ref_delta_;
  std::vector<std::string> comments_;
  bool durable_ = false;
  bool blocked_ = false;
  std::optional<int64_t> block_timeout_;
};

}  // namespace sluice::db
