// The transaction overlay: rows touched by a transaction, read and written through per-column
// edits over the committed rows.
#include "ovsdb/transaction.h"

#include <algorithm>

namespace sluice::db {

ColumnEdit* TxnRow::FindEdit(size_t column) {
  for (ColumnEdit& e : edits) {
    if (e.column >= column) return e.column == column ? &e : nullptr;
  }
  return nullptr;
}

const ColumnEdit* TxnRow::FindEdit(size_t column) const {
  return const_cast<TxnRow*>(this)->FindEdit(column);
}

ColumnEdit& TxnRow::EditFor(size_t column) {
  auto it = std::lower_bound(edits.begin(), edits.end(), column,
                             [](const ColumnEdit& e, size_t c) { return e.column < c; });
  if (it == edits.end() || it->column != column) {
    it = edits.insert(it, ColumnEdit{});
    it->column = column;
  }
  return *it;
}

Transaction::Transaction(Database& db, const TxnContext& ctx) : db_(db), ctx_(ctx) {
  rows_.resize(db.tables_.size());
  tables_.reserve(db.tables_.size());
  for (auto& [name, t] : db.tables_) tables_.push_back(t.get());
}

size_t Transaction::TableIndex(const Table& table) const { return table.index_; }

TxnRow* Transaction::FindTxnRow(Table& table, const Uuid& uuid) {
  TxnRows& rows = RowsOf(table);
  if (rows.empty()) return nullptr;
  auto it = rows.find(uuid);
  return it == rows.end() ? nullptr : &it->second;
}

bool Transaction::Exists(Table& table, const Uuid& uuid) {
  if (TxnRow* tr = FindTxnRow(table, uuid)) return tr->exists();
  return table.Find(uuid) != nullptr;
}

TxnRow* Transaction::Touch(Table& table, const Uuid& uuid) {
  if (TxnRow* tr = FindTxnRow(table, uuid)) return tr->exists() ? tr : nullptr;
  const Row* row = table.Find(uuid);
  if (!row) return nullptr;
  TxnRow& tr = RowsOf(table)[uuid];
  tr.table = &table;
  tr.uuid = uuid;
  tr.committed = row;
  return &tr;
}

const Datum& Transaction::NewValue(TxnRow& tr, size_t column) {
  if (tr.inserted) return tr.inserted->Get(column);
  ColumnEdit* e = tr.FindEdit(column);
  if (!e) return tr.committed->Get(column);
  if (!e->is_delta) return e->value;
  if (!e->materialized) e->materialized = DeltaMaterialize(tr.committed->Get(column), e->delta);
  return *e->materialized;
}

const Datum& Transaction::Column(TxnRow& tr, size_t column) { return NewValue(tr, column); }

ColumnValue Transaction::ColumnAny(TxnRow& tr, size_t column) {
  if (column == kUuidColumn) return ColumnValue::Own(Datum::Scalar(UuidAtom(tr.uuid)));
  if (column == kVersionColumn) {
    const Row* r = tr.inserted ? tr.inserted.get() : tr.committed;
    return ColumnValue::Own(Datum::Scalar(UuidAtom(r->version())));
  }
  return ColumnValue::Ref(Column(tr, column));
}

void Transaction::SetColumn(TxnRow& tr, size_t column, Datum value) {
  if (tr.inserted) {
    tr.inserted->Set(column, std::move(value));
    return;
  }
  ColumnEdit& e = tr.EditFor(column);
  e.is_delta = false;
  e.value = std::move(value);
  e.delta = DatumDelta{};
  e.materialized.reset();
  e.diff.reset();
}

DbResult<void> Transaction::Mutate(TxnRow& tr, const Mutation& m) {
  const TableSchema& ts = tr.table->schema();
  const ColumnSchema& col = ts.columns[m.column];
  bool as_delta = IsSetMutator(m.mutator) && !col.type.IsScalar() && !tr.inserted;
  ColumnEdit* e = tr.inserted ? nullptr : tr.FindEdit(m.column);
  if (!as_delta || (e && !e->is_delta)) {
    // Arithmetic, a new row, or a column this transaction already replaced: work on the value.
    if (tr.inserted) {
      Datum& d = tr.inserted->Mutable(m.column);
      auto r = ApplyMutation(m, ts, d);
      tr.inserted->Normalize(m.column);
      return r;
    }
    Datum d = Column(tr, m.column);
    if (auto r = ApplyMutation(m, ts, d); !r) return r;
    SetColumn(tr, m.column, std::move(d));
    return {};
  }
  // An "insert" or "delete" of elements of a committed row's set or map: record only them.
  if (!e) {
    e = &tr.EditFor(m.column);
    e->is_delta = true;
    e->delta = MakeDelta(col.type.IsMap());
  }
  const Datum& base = tr.committed->Get(m.column);
  e->materialized.reset();
  e->diff.reset();
  if (m.mutator == Mutator::kInsert) {
    DeltaInsert(base, e->delta, m.arg);
    // Constraints of the elements that went in (the ones present already passed them).
    for (size_t i = 0; i < m.arg.size(); ++i) {
      ptrdiff_t a = e->delta.added.Find(m.arg.keys[i]);
      if (a < 0 || (col.type.IsMap() && e->delta.added.values[a] != m.arg.values[i])) continue;
      auto r = CheckAtom(m.arg.keys[i], col.type.key);
      if (r && col.type.IsMap()) r = CheckAtom(m.arg.values[i], col.type.value);
      if (!r) return std::unexpected(MutationError(m, ts, r.error()));
    }
  } else {
    DeltaDelete(base, e->delta, m.arg);
  }
  if (auto r = CheckSize(col.type, DeltaSize(base, e->delta)); !r) {
    return std::unexpected(MutationError(m, ts, r.error()));
  }
  return {};
}

TxnRow& Transaction::InsertRow(Table& table, std::unique_ptr<Row> row) {
  Uuid uuid = row->uuid();
  TxnRow& tr = RowsOf(table)[uuid];
  tr.table = &table;
  tr.uuid = uuid;
  tr.inserted = std::move(row);
  return tr;
}

void Transaction::DeleteRow(TxnRow& tr) {
  tr.inserted.reset();
  tr.edits.clear();
  if (tr.committed) tr.deleted = true;
}

bool Transaction::RowMatches(TxnRow& tr, const Condition& cond) {
  for (const Clause& c : cond.clauses) {
    bool holds;
    if (c.function == Function::kTrue || c.function == Function::kFalse) {
      holds = c.function == Function::kTrue;
    } else if (c.column == kUuidColumn) {
      holds = ClauseHoldsForUuid(c, tr.uuid);
    } else if (c.column == kVersionColumn) {
      holds = ClauseHoldsForUuid(c, (tr.inserted ? tr.inserted.get() : tr.committed)->version());
    } else {
      holds = ClauseHolds(c, Column(tr, c.column));
    }
    if (!holds) return false;
  }
  return true;
}

std::vector<Transaction::Sel> Transaction::Select(Table& table, const Condition& cond) {
  std::vector<Sel> out;
  // Lookups by _uuid are the common case (IDL clients): no table scan for them.
  for (const Clause& c : cond.clauses) {
    if (c.function == Function::kEq && c.column == kUuidColumn && c.arg.size() == 1) {
      const Uuid& u = std::get<Uuid>(c.arg.keys[0]);
      if (TxnRow* tr = FindTxnRow(table, u)) {
        if (tr->exists() && RowMatches(*tr, cond)) out.push_back({tr, nullptr});
      } else if (const Row* row = table.Find(u); row && Matches(cond, *row)) {
        out.push_back({nullptr, row});
      }
      return out;
    }
  }
  TxnRows& rows = RowsOf(table);
  for (const Row* row : table.rows()) {
    auto it = rows.empty() ? rows.end() : rows.find(row->uuid());
    if (it != rows.end()) {
      if (it->second.exists() && RowMatches(it->second, cond))
        out.push_back({&it->second, nullptr});
    } else if (Matches(cond, *row)) {
      out.push_back({nullptr, row});
    }
  }
  for (auto& [uuid, tr] : rows) {
    if (tr.inserted && RowMatches(tr, cond)) out.push_back({&tr, nullptr});
  }
  return out;
}

TxnRow& Transaction::Own(Table& table, const Sel& sel) {
  return sel.tr ? *sel.tr : *Touch(table, sel.row->uuid());
}

ColumnValue Transaction::ColumnAny(const Sel& sel, size_t column) {
  return sel.tr ? ColumnAny(*sel.tr, column) : sel.row->Value(column);
}

nlohmann::json Transaction::RowJson(const Sel& sel, const TableSchema& ts,
                                    const std::vector<size_t>* columns) {
  if (sel.row) return RowToJson(*sel.row, columns);
  nlohmann::json j = nlohmann::json::object();
  auto add = [&](size_t c) { j[ts.columns[c].name] = ColumnAny(*sel.tr, c)->ToJson(); };
  if (columns) {
    for (size_t c : *columns) add(c);
  } else {
    for (const ColumnSchema& c : ts.columns) add(c.index);
  }
  return j;
}

}  // namespace sluice::db
