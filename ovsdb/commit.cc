// Commit checks of Transaction: the rules OVS enforces before a transaction may commit (garbage
// collection, weak references, referential integrity, maxRows, unique indexes), computed from
// the rows the transaction touched and their edits only.
#include <algorithm>

#include "ovsdb/transaction.h"

namespace sluice::db {
namespace {

std::string ValuesText(const std::vector<const Datum*>& values) {
  std::string s;
  for (const Datum* d : values) s += (s.empty() ? "" : ", ") + d->ToJson().dump();
  return s;
}

std::vector<Uuid> SortedUuids(const std::vector<Atom>& atoms) {
  std::vector<Uuid> out;
  out.reserve(atoms.size());
  for (const Atom& a : atoms) out.push_back(std::get<Uuid>(a));
  std::sort(out.begin(), out.end());
  return out;
}

// Calls fn(uuid, -1) for references only in `before`, fn(uuid, +1) for those only in `after`.
template <class Fn>
void DiffUuids(const std::vector<Uuid>& before, const std::vector<Uuid>& after, Fn&& fn) {
  size_t i = 0, j = 0;
  while (i < before.size() || j < after.size()) {
    if (j == after.size() || (i < before.size() && before[i] < after[j])) {
      fn(before[i++], -1);
    } else if (i == before.size() || after[j] < before[i]) {
      fn(after[j++], +1);
    } else {
      ++i;
      ++j;
    }
  }
}

}  // namespace

void Transaction::DropNoOps() {
  for (TxnRows& rows : rows_) {
    for (auto it = rows.begin(); it != rows.end();) {
      TxnRow& tr = it->second;
      bool keep;
      if (tr.inserted || tr.deleted) {
        keep = true;
      } else if (!tr.committed) {
        keep = false;  // inserted and deleted again
      } else {
        std::erase_if(tr.edits, [&tr](const ColumnEdit& e) {
          return e.is_delta ? e.delta.empty() : e.value == tr.committed->Get(e.column);
        });
        keep = !tr.edits.empty();
      }
      it = keep ? std::next(it) : rows.erase(it);
    }
  }
}

void Transaction::CountRefs(TxnRow& tr, int64_t sign, RefDelta& delta) {
  // The references of the row as this transaction now has it.
  for (const Table::RefColumn& rc : tr.table->ref_columns_) {
    if (!rc.strong_key && !rc.strong_value) continue;
    const Datum& d = NewValue(tr, rc.column);
    if (rc.strong_key) {
      for (const Atom& a : d.keys) delta[{rc.strong_key, std::get<Uuid>(a)}] += sign;
    }
    if (rc.strong_value) {
      for (const Atom& a : d.values) delta[{rc.strong_value, std::get<Uuid>(a)}] += sign;
    }
  }
}

void Transaction::AddRefChanges(TxnRow& tr, RefDelta& delta) {
  if (tr.inserted) return CountRefs(tr, +1, delta);
  if (tr.deleted) {
    for (const Table::RefColumn& rc : tr.table->ref_columns_) {
      const Datum& d = tr.committed->Get(rc.column);
      if (rc.strong_key) {
        for (const Atom& a : d.keys) delta[{rc.strong_key, std::get<Uuid>(a)}] -= 1;
      }
      if (rc.strong_value) {
        for (const Atom& a : d.values) delta[{rc.strong_value, std::get<Uuid>(a)}] -= 1;
      }
    }
    return;
  }
  // Modified: only the references that differ, so growing a large set costs its growth.
  for (const Table::RefColumn& rc : tr.table->ref_columns_) {
    if (!rc.strong_key && !rc.strong_value) continue;
    const ColumnEdit* e = tr.FindEdit(rc.column);
    if (!e) continue;
    for (auto [target, keys] : {std::pair{rc.strong_key, true}, {rc.strong_value, false}}) {
      if (!target) continue;
      auto add = [&delta, target](const Uuid& u, int64_t n) { delta[{target, u}] += n; };
      if (e->is_delta) {
        for (const Atom& a : keys ? e->delta.removed.keys : e->delta.removed.values) {
          add(std::get<Uuid>(a), -1);
        }
        for (const Atom& a : keys ? e->delta.added.keys : e->delta.added.values) {
          add(std::get<Uuid>(a), +1);
        }
        continue;
      }
      const Datum& old = tr.committed->Get(rc.column);
      const Datum& now = e->value;
      DiffUuids(SortedUuids(keys ? old.keys : old.values),
                SortedUuids(keys ? now.keys : now.values), add);
    }
  }
}

bool Transaction::CollectGarbage(RefDelta& delta) {
  bool any = false;
  for (;;) {
    std::vector<TxnRow*> victims;
    auto consider = [&](Table* t, const Uuid& u) {
      if (t->schema().is_root) return;
      TxnRow* tr = FindTxnRow(*t, u);
      if (tr ? !tr->exists() : !t->Find(u)) return;
      const Row* committed = t->Find(u);
      auto it = delta.find({t, u});
      int64_t n = (committed ? committed->strong_refs() : 0) + (it == delta.end() ? 0 : it->second);
      if (n > 0) return;
      tr = Touch(*t, u);
      if (std::find(victims.begin(), victims.end(), tr) == victims.end()) victims.push_back(tr);
    };
    for (Table* t : tables_) {
      if (t->schema().is_root) continue;
      std::vector<Uuid> present;
      for (auto& [u, tr] : RowsOf(*t)) {
        if (tr.exists()) present.push_back(u);
      }
      for (const Uuid& u : present) consider(t, u);
    }
    std::vector<RefKey> dropped;
    for (const auto& [key, d] : delta) {
      if (d < 0) dropped.push_back(key);
    }
    for (const RefKey& k : dropped) consider(k.table, k.uuid);
    if (victims.empty()) return any;
    for (TxnRow* tr : victims) {
      CountRefs(*tr, -1, delta);  // what it referenced goes with it
      DeleteRow(*tr);
    }
    any = true;
  }
}

DbResult<bool> Transaction::RemoveWeakRefs() {
  std::vector<bool> deleted_in(tables_.size(), false);
  for (size_t i = 0; i < tables_.size(); ++i) {
    for (const auto& [u, tr] : rows_[i]) {
      if (tr.deleted) deleted_in[i] = true;
    }
  }
  struct Fix {
    Table* table;
    TxnRow* tr;
    const Row* row;  // committed row not yet touched
    size_t column;
    Datum drop;  // elements (set) or pairs (map) to remove
  };
  std::vector<Fix> fixes;
  for (Table* t : tables_) {
    if (!t->has_weak_) continue;
    bool full_scan = false;
    for (const Table::RefColumn& rc : t->ref_columns_) {
      for (Table* w : {rc.weak_key, rc.weak_value}) {
        if (w && deleted_in[w->index_]) full_scan = true;
      }
    }
    auto check = [&](TxnRow* tr, const Row* row, const Table::RefColumn& rc, const Datum& d,
                     const Datum* only) {
      // `only`: just these elements are new (a delta's additions) and need checking.
      const Datum& scan = only ? *only : d;
      Datum drop;
      drop.is_map = scan.is_map;
      for (size_t i = 0; i < scan.size(); ++i) {
        bool dangling = (rc.weak_key && !Exists(*rc.weak_key, std::get<Uuid>(scan.keys[i]))) ||
                        (rc.weak_value && !Exists(*rc.weak_value, std::get<Uuid>(scan.values[i])));
        if (!dangling) continue;
        drop.keys.push_back(scan.keys[i]);
        if (scan.is_map) drop.values.push_back(scan.values[i]);
      }
      if (!drop.empty()) fixes.push_back({t, tr, row, rc.column, std::move(drop)});
    };
    TxnRows& rows = RowsOf(*t);
    if (full_scan) {
      for (const Row* row : t->rows()) {
        auto it = rows.find(row->uuid());
        TxnRow* tr = it == rows.end() ? nullptr : &it->second;
        if (tr && !tr->exists()) continue;
        for (const Table::RefColumn& rc : t->ref_columns_) {
          if (!rc.weak_key && !rc.weak_value) continue;
          check(tr, tr ? nullptr : row, rc, tr ? NewValue(*tr, rc.column) : row->Get(rc.column),
                nullptr);
        }
      }
    }
    // Rows written here (all of them when not scanning, inserted ones in any case).
    for (auto& [u, tr] : rows) {
      if (!tr.exists() || (full_scan && !tr.inserted)) continue;
      for (const Table::RefColumn& rc : t->ref_columns_) {
        if (!rc.weak_key && !rc.weak_value) continue;
        if (tr.inserted) {
          check(&tr, nullptr, rc, tr.inserted->Get(rc.column), nullptr);
          continue;
        }
        const ColumnEdit* e = tr.FindEdit(rc.column);
        if (!e) continue;
        check(&tr, nullptr, rc, NewValue(tr, rc.column), e->is_delta ? &e->delta.added : nullptr);
      }
    }
  }
  for (Fix& f : fixes) {
    Table* table = f.table;
    TxnRow& tr = f.tr ? *f.tr : *Touch(*table, f.row->uuid());
    const TableSchema& ts = table->schema();
    const ColumnSchema& c = ts.columns[f.column];
    // A map whose other half holds strong references drops those references too.
    for (const Table::RefColumn& rc : table->ref_columns_) {
      if (rc.column != f.column) continue;
      if (rc.strong_key) {
        for (const Atom& a : f.drop.keys) ref_delta_[{rc.strong_key, std::get<Uuid>(a)}] -= 1;
      }
      if (rc.strong_value) {
        for (const Atom& a : f.drop.values) ref_delta_[{rc.strong_value, std::get<Uuid>(a)}] -= 1;
      }
    }
    size_t left;
    if (tr.inserted) {
      Datum& d = tr.inserted->Mutable(f.column);
      DatumDelta dd = MakeDelta(d.is_map);
      DeltaDelete(d, dd, f.drop);
      DeltaApplyInPlace(d, dd);
      left = d.size();
      tr.inserted->Normalize(f.column);
    } else if (ColumnEdit* e = tr.FindEdit(f.column); e && !e->is_delta) {
      DatumDelta dd = MakeDelta(e->value.is_map);
      DeltaDelete(e->value, dd, f.drop);
      DeltaApplyInPlace(e->value, dd);
      e->diff.reset();
      left = e->value.size();
    } else {
      if (!e) {
        Mutation m;  // an empty delete creates the delta edit
        m.column = f.column;
        m.mutator = Mutator::kDelete;
        m.arg.is_map = c.type.IsMap();
        (void)Mutate(tr, m);
        e = tr.FindEdit(f.column);
      }
      const Datum& base = tr.committed->Get(f.column);
      DeltaDelete(base, e->delta, f.drop);
      e->materialized.reset();
      e->diff.reset();
      left = DeltaSize(base, e->delta);
    }
    if (left < c.type.min) {
      return DbErr(
          "constraint violation",
          "Deletion of weak reference(s) to deleted (or never-existing) rows from column " +
              c.name + " in " + ts.name + " row " + tr.uuid.ToString() +
              " caused this column to have " + std::to_string(left) +
              " element(s), less than the minimum of " + std::to_string(c.type.min) + ".");
    }
  }
  return !fixes.empty();
}

DbResult<void> Transaction::CheckStrongRefs(const RefDelta& delta) {
  // Only references this transaction added can dangle; pre-existing ones pointed at rows that
  // still exist unless deleted here, which the remaining-reference check below catches.
  for (const auto& [key, d] : delta) {
    if (d <= 0 || Exists(*key.table, key.uuid)) continue;
    const std::string& target = key.table->schema().name;
    for (Table* t : tables_) {
      for (auto& [u, tr] : RowsOf(*t)) {
        if (!tr.exists()) continue;
        for (const Table::RefColumn& rc : t->ref_columns_) {
          if (rc.strong_key != key.table && rc.strong_value != key.table) continue;
          const Datum& datum = NewValue(tr, rc.column);
          bool found = false;
          for (const Atom& a : rc.strong_key == key.table ? datum.keys : datum.values) {
            found = found || std::get<Uuid>(a) == key.uuid;
          }
          if (!found && rc.strong_key == key.table && rc.strong_value == key.table) {
            for (const Atom& a : datum.values) found = found || std::get<Uuid>(a) == key.uuid;
          }
          if (!found) continue;
          return DbErr("referential integrity violation",
                       "Table " + t->schema().name + " column " +
                           t->schema().columns[rc.column].name + " row " + u.ToString() +
                           " references nonexistent row " + key.uuid.ToString() + " in table " +
                           target + ".");
        }
      }
    }
    return DbErr(
        "referential integrity violation",
        "reference to nonexistent row " + key.uuid.ToString() + " in table " + target + ".");
  }
  for (Table* t : tables_) {
    for (auto& [u, tr] : RowsOf(*t)) {
      if (!tr.deleted) continue;
      auto it = delta.find({t, u});
      int64_t n = tr.committed->strong_refs() + (it == delta.end() ? 0 : it->second);
      if (n > 0) {
        return DbErr("referential integrity violation",
                     "cannot delete " + t->schema().name + " row " + u.ToString() + " because of " +
                         std::to_string(n) + " remaining reference(s)");
      }
    }
  }
  return {};
}

DbResult<void> Transaction::CheckMaxRows() {
  for (Table* t : tables_) {
    const TableSchema& ts = t->schema();
    if (!ts.max_rows) continue;
    int64_t n = static_cast<int64_t>(t->size());
    for (auto& [u, tr] : RowsOf(*t)) n += (tr.inserted ? 1 : 0) - (tr.deleted ? 1 : 0);
    if (n > static_cast<int64_t>(*ts.max_rows)) {
      return DbErr("constraint violation", "Transaction causes \"" + ts.name +
                                               "\" table to contain " + std::to_string(n) +
                                               " rows, greater than the schema-defined limit of " +
                                               std::to_string(*ts.max_rows) + " row(s).");
    }
  }
  return {};
}

DbResult<void> Transaction::CheckIndexes() {
  for (Table* t : tables_) {
    TxnRows& rows = RowsOf(*t);
    if (rows.empty()) continue;
    const TableSchema& ts = t->schema();
    for (const RowIndex& index : t->indexes_) {
      const std::vector<size_t>& cols = index.columns();
      auto conflict = [&](const std::vector<const Datum*>& key, const Uuid& a, const Uuid& b) {
        std::string names;
        for (size_t c : cols) names += (names.empty() ? "" : ", ") + ts.columns[c].name;
        return DbErr("constraint violation", "Transaction causes multiple rows in \"" + ts.name +
                                                 "\" table to have identical values (" +
                                                 ValuesText(key) + ") for index on column(s) " +
                                                 names + ".  First row has UUID " + a.ToString() +
                                                 "; second row has UUID " + b.ToString() + ".");
      };
      struct Written {
        TxnRow* tr;
        std::vector<const Datum*> key;
      };
      std::unordered_multimap<uint64_t, Written> written;
      for (auto& [u, tr] : rows) {
        if (!tr.exists()) continue;
        bool key_changed = tr.inserted != nullptr;
        std::vector<const Datum*> key;
        for (size_t c : cols) {
          key.push_back(&NewValue(tr, c));
          key_changed = key_changed || tr.FindEdit(c);
        }
        uint64_t h = index.HashKey(key);
        auto [b, e] = written.equal_range(h);
        for (auto it = b; it != e; ++it) {
          bool same = true;
          for (size_t k = 0; k < key.size() && same; ++k) same = *key[k] == *it->second.key[k];
          if (same) return conflict(key, it->second.tr->uuid, u);
        }
        // Rows this transaction did not touch keep their committed keys.
        if (key_changed) {
          const Row* other = index.Find(key, h);
          if (other && other->uuid() != u && !FindTxnRow(*t, other->uuid())) {
            return conflict(key, other->uuid(), u);
          }
        }
        written.emplace(h, Written{&tr, std::move(key)});
      }
    }
  }
  return {};
}

DbResult<void> Transaction::Precommit() {
  DropNoOps();
  ref_delta_.clear();
  for (TxnRows& rows : rows_) {
    for (auto& [u, tr] : rows) AddRefChanges(tr, ref_delta_);
  }
  for (;;) {
    auto weak = RemoveWeakRefs();
    if (!weak) return std::unexpected(weak.error());
    bool collected = CollectGarbage(ref_delta_);
    if (!*weak && !collected) break;
  }
  DropNoOps();
  if (auto r = CheckStrongRefs(ref_delta_); !r) return r;
  if (auto r = CheckMaxRows(); !r) return r;
  if (auto r = CheckIndexes(); !r) return r;
  for (TxnRows& rows : rows_) {
    for (auto& [u, tr] : rows) {
      if (tr.exists()) tr.version = Uuid::Random();
    }
  }
  return {};
}

}  // namespace sluice::db
