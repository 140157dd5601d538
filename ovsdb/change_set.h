// What one commit changed, as monitors (update, update2, update3) and the storage record see it.
//
// A ChangeSet is a view of a transaction about to be applied: the committed tables still hold
// the old rows and the new values live in the transaction, so nothing is copied. It is valid
// only during TxnContext::on_commit (or, for a synthetic one built from two rows, while those
// rows live).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/datum.h"
#include "ovsdb/row.h"

namespace sluice::db {

struct TxnRow;

class RowChange {
 public:
  enum class Kind { kInsert, kDelete, kModify };

  // The change of a transaction row (see transaction.h).
  explicit RowChange(TxnRow& txn_row);
  // A change from `old_row` to `new_row` (either may be null, not both).
  RowChange(const Row* old_row, const Row* new_row);
  RowChange(RowChange&& o) noexcept
      : kind_(o.kind_),
        uuid_(o.uuid_),
        schema_(o.schema_),
        old_(o.old_),
        new_(o.new_),
        txn_(o.txn_),
        changed_(o.changed_ == &o.own_changed_ ? &own_changed_ : o.changed_),
        own_changed_(std::move(o.own_changed_)) {}
  RowChange(const RowChange&) = delete;
  RowChange& operator=(const RowChange&) = delete;

  Kind kind() const { return kind_; }
  const Uuid& uuid() const { return uuid_; }
  const TableSchema& schema() const { return *schema_; }
  // The row before (kDelete, kModify) and, when it exists as one, after (kInsert; kModify of
  // a synthetic change).
  const Row* old_row() const { return old_; }
  const Row* new_row() const { return new_; }
  // Column values before (kDelete, kModify) and after (kInsert, kModify).
  ColumnValue Old(size_t column) const;
  ColumnValue New(size_t column) const;
  const Uuid& new_version() const;
  // Declared columns whose value changed, in order (every declared column that differs from
  // the default for inserts and deletes, every declared column for kModify of changed ones).
  const std::vector<size_t>& changed() const { return *changed_; }
  // kModify: the change of `column` in DiffDatum's form (the new value for scalars).
  Datum Diff(size_t column) const;

 private:
  Kind kind_;
  Uuid uuid_;
  const TableSchema* schema_;
  const Row* old_ = nullptr;
  const Row* new_ = nullptr;
  TxnRow* txn_ = nullptr;
  const std::vector<size_t>* changed_;  // own_changed_, or the table's declared columns
  std::vector<size_t> own_changed_;
};

struct TableChanges {
  const TableSchema* table = nullptr;
  std::vector<RowChange> rows;
};

class ChangeSet {
 public:
  std::map<std::string, TableChanges> tables;
  bool empty() const { return tables.empty(); }
  // The row change of `uuid` in `table`, or null.
  const RowChange* Find(const std::string& table, const Uuid& uuid) const;
};

// {"<table>": {"<uuid>": {"old": row|null, "new": row|null, "changed": [column names]}}},
// rows rendered with every column (including _uuid and _version). For tests and debugging.
nlohmann::json ChangesToJson(const ChangeSet& changes);

// The storage record of `changes` (OVS's format, with set and map changes of existing rows as
// diffs: {"<table>": {"<uuid>": {columns} | null}, "_date": ms, "_is_diff": true,
// "_comment": ...}), or empty when nothing persistent changed (ephemeral columns only).
std::string StorageRecord(const ChangeSet& changes, int64_t date_ms, const std::string& comment);

}  // namespace sluice::db
