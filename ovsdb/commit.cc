// Commit half of Transaction: the checks OVS runs before a transaction may commit (garbage
// collection, weak references, referential integrity, maxRows, unique indexes), then the
// change set, the storage record, and the update of the committed tables.
#include <algorithm>
#include <chrono>
#include <set>

#include "ovsdb/transaction.h"

namespace sluice::db {

using nlohmann::json;

namespace {

int64_t NowMs(const TxnContext& ctx) {
  if (ctx.now_ms) return ctx.now_ms;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ValuesText(const std::vector<Datum>& values) {
  std::string s;
  for (const Datum& d : values) s += (s.empty() ? "" : ", ") + d.ToJson().dump();
  return s;
}

// Columns written to storage for a row: all persistent columns for a new row that are not at
// their default, or the changed persistent columns of a modified row.
json StorageColumns(const TableSchema& ts, const Row* old, const Row& cur) {
  json cols = json::object();
  for (const ColumnSchema& c : ts.columns) {
    if (c.implicit || c.ephemeral) continue;
    const Datum& d = cur.columns[c.index];
    if (old ? old->columns[c.index] != d : d != Datum::Default(c.type)) {
      // A changed set or map of an existing row is stored as its diff, so that adding one
      // element to a large set writes one element, not the whole set.
      cols[c.name] = old ? DiffDatum(c.type, old->columns[c.index], d).ToJson() : d.ToJson();
    }
  }
  return cols;
}

}  // namespace

void Transaction::CountStrongRefs(const TableSchema& ts, const Row& row, int64_t sign,
                                  RefDelta& delta) const {
  for (const ColumnSchema& c : ts.columns) {
    const Datum& d = row.columns[c.index];
    if (c.type.key.IsStrongRef()) {
      Table* target = db_.MutableTable(c.type.key.ref_table);
      for (const Atom& a : d.keys) delta[{target, std::get<Uuid>(a)}] += sign;
    }
    if (c.type.value.IsStrongRef()) {
      Table* target = db_.MutableTable(c.type.value.ref_table);
      for (const Atom& a : d.values) delta[{target, std::get<Uuid>(a)}] += sign;
    }
  }
}

void Transaction::DiffStrongRefs(const TableSchema& ts, const Row* old, const Row* cur,
                                 RefDelta& delta) const {
  if (!old || !cur) {
    if (old) CountStrongRefs(ts, *old, -1, delta);
    if (cur) CountStrongRefs(ts, *cur, +1, delta);
    return;
  }
  // Modified rows: only the references that differ touch the delta, so growing a large set
  // (Open_vSwitch.bridges) costs a linear merge rather than a map update per element.
  std::vector<Uuid> before, after;
  auto merge = [&](Table* target) {
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    size_t i = 0, j = 0;
    while (i < before.size() || j < after.size()) {
      if (j == after.size() || (i < before.size() && before[i] < after[j])) {
        delta[{target, before[i++]}] -= 1;
      } else if (i == before.size() || after[j] < before[i]) {
        delta[{target, after[j++]}] += 1;
      } else {
        ++i;
        ++j;
      }
    }
  };
  for (const ColumnSchema& c : ts.columns) {
    const Datum& a = old->columns[c.index];
    const Datum& b = cur->columns[c.index];
    if (a == b) continue;
    for (auto [base, pick] :
         {std::pair{&c.type.key, &Datum::keys}, {&c.type.value, &Datum::values}}) {
      if (!base->IsStrongRef()) continue;
      before.clear();
      after.clear();
      for (const Atom& x : a.*pick) before.push_back(std::get<Uuid>(x));
      for (const Atom& x : b.*pick) after.push_back(std::get<Uuid>(x));
      merge(db_.MutableTable(base->ref_table));
    }
  }
}

Transaction::RefDelta Transaction::ComputeRefDelta() const {
  RefDelta delta;
  for (const auto& [t, trows] : rows_) {
    for (const auto& [u, tr] : trows) {
      DiffStrongRefs(t->schema(), tr.old, tr.current ? &*tr.current : nullptr, delta);
    }
  }
  return delta;
}

void Transaction::DropNoOps() {
  for (auto t = rows_.begin(); t != rows_.end();) {
    auto& trows = t->second;
    for (auto r = trows.begin(); r != trows.end();) {
      const TxnRow& tr = r->second;
      bool noop = tr.old ? tr.current && tr.current->SameContents(*tr.old) : !tr.current;
      r = noop ? trows.erase(r) : std::next(r);
    }
    t = trows.empty() ? rows_.erase(t) : std::next(t);
  }
}

bool Transaction::CollectGarbage() {
  bool any = false;
  for (;;) {
    RefDelta delta = ComputeRefDelta();
    std::vector<std::pair<Table*, Uuid>> victims;
    auto consider = [&](Table* t, const Uuid& u) {
      if (t->schema().is_root || !Get(*t, u)) return;
      auto it = delta.find({t, u});
      if (t->RefCount(u) + (it == delta.end() ? 0 : it->second) <= 0) victims.emplace_back(t, u);
    };
    for (const auto& [t, trows] : rows_) {
      for (const auto& [u, tr] : trows) {
        if (tr.current) consider(t, u);
      }
    }
    for (const auto& [key, d] : delta) {
      if (d < 0) consider(key.first, key.second);
    }
    if (victims.empty()) return any;
    for (const auto& [t, u] : victims) DeleteRow(*t, u);
    any = true;
  }
}

DbResult<bool> Transaction::RemoveWeakRefs() {
  std::set<std::string> deleted_tables;
  for (const auto& [t, trows] : rows_) {
    for (const auto& [u, tr] : trows) {
      if (!tr.current) deleted_tables.insert(t->schema().name);
    }
  }
  struct Edit {
    Table* table;
    Uuid uuid;
    size_t column;
    Datum datum;
  };
  std::vector<Edit> edits;
  for (auto& [name, table] : db_.tables_) {
    const TableSchema& ts = table.schema();
    std::vector<const ColumnSchema*> weak;
    bool full_scan = false;
    for (const ColumnSchema& c : ts.columns) {
      if (!c.type.key.IsWeakRef() && !c.type.value.IsWeakRef()) continue;
      weak.push_back(&c);
      for (const BaseType* b : {&c.type.key, &c.type.value}) {
        if (b->IsWeakRef() && deleted_tables.contains(b->ref_table)) full_scan = true;
      }
    }
    if (weak.empty()) continue;
    // Without deletions in a referenced table only rows written here can hold dangling refs.
    std::vector<const Row*> rows;
    if (full_scan) {
      rows = Visible(table);
    } else if (auto it = rows_.find(&table); it != rows_.end()) {
      for (const auto& [u, tr] : it->second) {
        if (tr.current) rows.push_back(&*tr.current);
      }
    }
    for (const Row* row : rows) {
      for (const ColumnSchema* c : weak) {
        const Datum& d = row->columns[c->index];
        Table* kt = c->type.key.IsWeakRef() ? db_.MutableTable(c->type.key.ref_table) : nullptr;
        Table* vt = c->type.value.IsWeakRef() ? db_.MutableTable(c->type.value.ref_table) : nullptr;
        Datum kept;
        kept.is_map = d.is_map;
        for (size_t i = 0; i < d.size(); ++i) {
          if (kt && !Get(*kt, std::get<Uuid>(d.keys[i]))) continue;
          if (vt && !Get(*vt, std::get<Uuid>(d.values[i]))) continue;
          kept.keys.push_back(d.keys[i]);
          if (d.is_map) kept.values.push_back(d.values[i]);
        }
        if (kept.size() != d.size()) edits.push_back({&table, row->uuid(), c->index, kept});
      }
    }
  }
  for (Edit& e : edits) {
    const TableSchema& ts = e.table->schema();
    const ColumnSchema& c = ts.columns[e.column];
    if (e.datum.size() < c.type.min) {
      return DbErr(
          "constraint violation",
          "Deletion of weak reference(s) to deleted (or never-existing) rows from column " +
              c.name + " in " + ts.name + " row " + e.uuid.ToString() +
              " caused this column to have " + std::to_string(e.datum.size()) +
              " element(s), less than the minimum of " + std::to_string(c.type.min) + ".");
    }
    Modify(*e.table, e.uuid)->columns[e.column] = std::move(e.datum);
  }
  return !edits.empty();
}

DbResult<void> Transaction::CheckStrongRefs(const RefDelta& delta) const {
  // Only references this transaction added can dangle; pre-existing ones pointed at rows that
  // still exist unless deleted here, which the remaining-reference check below catches.
  for (const auto& [key, d] : delta) {
    const auto& [target, missing] = key;
    if (d <= 0 || Get(*target, missing)) continue;
    for (const auto& [t, trows] : rows_) {
      const TableSchema& ts = t->schema();
      for (const auto& [u, tr] : trows) {
        if (!tr.current) continue;
        for (const ColumnSchema& c : ts.columns) {
          const Datum& datum = tr.current->columns[c.index];
          for (auto [base, atoms] :
               {std::pair{&c.type.key, &datum.keys}, {&c.type.value, &datum.values}}) {
            if (!base->IsStrongRef() || base->ref_table != target->schema().name) continue;
            if (std::find(atoms->begin(), atoms->end(), Atom(UuidAtom(missing))) == atoms->end()) {
              continue;
            }
            return DbErr("referential integrity violation",
                         "Table " + ts.name + " column " + c.name + " row " + u.ToString() +
                             " references nonexistent row " + missing.ToString() + " in table " +
                             base->ref_table + ".");
          }
        }
      }
    }
    return DbErr("referential integrity violation", "reference to nonexistent row " +
                                                        missing.ToString() + " in table " +
                                                        target->schema().name + ".");
  }
  for (const auto& [t, trows] : rows_) {
    for (const auto& [u, tr] : trows) {
      if (tr.current) continue;
      auto it = delta.find({t, u});
      int64_t n = t->RefCount(u) + (it == delta.end() ? 0 : it->second);
      if (n > 0) {
        return DbErr("referential integrity violation",
                     "cannot delete " + t->schema().name + " row " + u.ToString() + " because of " +
                         std::to_string(n) + " remaining reference(s)");
      }
    }
  }
  return {};
}

DbResult<void> Transaction::CheckMaxRows() const {
  for (const auto& [t, trows] : rows_) {
    const TableSchema& ts = t->schema();
    if (!ts.max_rows) continue;
    int64_t n = static_cast<int64_t>(t->size());
    for (const auto& [u, tr] : trows) n += (tr.current ? 1 : 0) - (tr.old ? 1 : 0);
    if (n > static_cast<int64_t>(*ts.max_rows)) {
      return DbErr("constraint violation", "Transaction causes \"" + ts.name +
                                               "\" table to contain " + std::to_string(n) +
                                               " rows, greater than the schema-defined limit of " +
                                               std::to_string(*ts.max_rows) + " row(s).");
    }
  }
  return {};
}

DbResult<void> Transaction::CheckIndexes() const {
  for (const auto& [t, trows] : rows_) {
    const TableSchema& ts = t->schema();
    for (size_t i = 0; i < ts.indexes.size(); ++i) {
      const std::vector<size_t>& index = ts.indexes[i];
      auto key_of = [&](const Row& row) {
        std::vector<Datum> key;
        for (size_t c : index) key.push_back(row.columns[c]);
        return key;
      };
      auto conflict = [&](const std::vector<Datum>& key, const Uuid& a, const Uuid& b) {
        std::string cols;
        for (size_t c : index) cols += (cols.empty() ? "" : ", ") + ts.columns[c].name;
        return DbErr("constraint violation", "Transaction causes multiple rows in \"" + ts.name +
                                                 "\" table to have identical values (" +
                                                 ValuesText(key) + ") for index on column(s) " +
                                                 cols + ".  First row has UUID " + a.ToString() +
                                                 "; second row has UUID " + b.ToString() + ".");
      };
      std::map<std::vector<Datum>, Uuid> written;
      for (const auto& [u, tr] : trows) {
        if (!tr.current) continue;
        std::vector<Datum> key = key_of(*tr.current);
        // Rows this transaction did not touch keep their committed keys.
        const auto& committed = t->indexes_[i];
        if (auto it = committed.find(key); it != committed.end() && it->second != u) {
          if (!trows.contains(it->second)) return conflict(key, it->second, u);
        }
        auto [it, inserted] = written.emplace(std::move(key), u);
        if (!inserted) return conflict(it->first, it->second, u);
      }
    }
  }
  return {};
}

DbResult<void> Transaction::Precommit() {
  DropNoOps();
  for (;;) {
    auto weak = RemoveWeakRefs();
    if (!weak) return std::unexpected(weak.error());
    bool collected = CollectGarbage();
    if (!*weak && !collected) break;
  }
  DropNoOps();
  if (auto r = CheckStrongRefs(ComputeRefDelta()); !r) return r;
  if (auto r = CheckMaxRows(); !r) return r;
  if (auto r = CheckIndexes(); !r) return r;
  for (auto& [t, trows] : rows_) {
    for (auto& [u, tr] : trows) {
      if (tr.current) tr.current->SetVersion(Uuid::Random());
    }
  }
  return {};
}

ChangeSet Transaction::BuildChanges() const {
  ChangeSet cs;
  for (const auto& [t, trows] : rows_) {
    const TableSchema& ts = t->schema();
    TableChanges& tc = cs.tables[ts.name];
    tc.table = &ts;
    for (const auto& [u, tr] : trows) {
      RowChange rc;
      if (tr.old) rc.old_row = *tr.old;
      if (tr.current) rc.new_row = *tr.current;
      for (const ColumnSchema& c : ts.columns) {
        if (c.implicit) continue;
        if (!tr.old || !tr.current || tr.old->columns[c.index] != tr.current->columns[c.index]) {
          rc.changed.push_back(c.index);
        }
      }
      tc.rows.emplace(u, std::move(rc));
    }
  }
  return cs;
}

json Transaction::BuildRecord() const {
  json rec = json::object();
  for (const auto& [t, trows] : rows_) {
    const TableSchema& ts = t->schema();
    json tj = json::object();
    for (const auto& [u, tr] : trows) {
      if (!tr.current) {
        tj[u.ToString()] = nullptr;
        continue;
      }
      json cols = StorageColumns(ts, tr.old, *tr.current);
      if (tr.old && cols.empty()) continue;  // only ephemeral columns changed
      tj[u.ToString()] = std::move(cols);
    }
    if (!tj.empty()) rec[ts.name] = std::move(tj);
  }
  if (rec.empty()) return nullptr;
  rec["_date"] = NowMs(ctx_);
  rec["_is_diff"] = true;
  if (!comments_.empty()) {
    std::string c;
    for (const std::string& s : comments_) c += (c.empty() ? "" : "\n") + s;
    rec["_comment"] = c;
  }
  return rec;
}

void Transaction::Apply(const RefDelta& delta) {
  for (auto& [t, trows] : rows_) {
    const TableSchema& ts = t->schema();
    // Remove every old key before adding new ones so rows may swap index values.
    for (size_t i = 0; i < ts.indexes.size(); ++i) {
      auto& index = t->indexes_[i];
      auto key_of = [&](const Row& row) {
        std::vector<Datum> key;
        for (size_t c : ts.indexes[i]) key.push_back(row.columns[c]);
        return key;
      };
      for (const auto& [u, tr] : trows) {
        if (!tr.old) continue;
        auto it = index.find(key_of(*tr.old));
        if (it != index.end() && it->second == u) index.erase(it);
      }
      for (const auto& [u, tr] : trows) {
        if (tr.current) index.insert_or_assign(key_of(*tr.current), u);
      }
    }
    for (auto& [u, tr] : trows) {
      if (tr.current) {
        t->rows_.insert_or_assign(u, std::move(*tr.current));
      } else {
        t->rows_.erase(u);
      }
    }
  }
  for (const auto& [key, d] : delta) {
    if (d == 0) continue;
    auto& counts = key.first->refcount_;
    if ((counts[key.second] += d) == 0) counts.erase(key.second);
  }
  rows_.clear();
  ++db_.generation_;
}

Result<ChangeSet> Transaction::Replay(const json& record) {
  if (!record.is_object()) return MakeError(Errc::kInvalid, "storage record must be an object");
  // In a diff record, the columns of a row that already exists are diffs (see DiffDatum).
  bool is_diff = record.contains("_is_diff") && record["_is_diff"] == true;
  for (const auto& [name, tj] : record.items()) {
    if (!name.empty() && name[0] == '_') continue;
    Table* t = db_.MutableTable(name);
    if (!t) return MakeError(Errc::kInvalid, "record names unknown table " + name);
    if (!tj.is_object())
      return MakeError(Errc::kInvalid, "record table " + name + " not an object");
    const TableSchema& ts = t->schema();
    for (const auto& [uuid_text, rj] : tj.items()) {
      auto u = Uuid::Parse(uuid_text);
      if (!u) return MakeError(Errc::kInvalid, "record has bad row UUID " + uuid_text);
      if (rj.is_null()) {
        if (!Get(*t, *u)) {
          return MakeError(Errc::kInvalid, "record deletes missing " + name + " row " + uuid_text);
        }
        DeleteRow(*t, *u);
        continue;
      }
      if (!rj.is_object()) return MakeError(Errc::kInvalid, "record row must be object or null");
      Row* row = Modify(*t, *u);
      bool existed = row != nullptr;
      if (!row) {
        InsertRow(*t, Row::New(ts, *u));
        row = Modify(*t, *u);
      }
      for (const auto& [cname, value] : rj.items()) {
        const ColumnSchema* c = ts.FindColumn(cname);
        if (!c || c->implicit) {
          return MakeError(Errc::kInvalid, "record names unknown column " + name + "." + cname);
        }
        bool diff = is_diff && existed && !c->type.IsScalar();
        auto d = DatumFromJson(value, diff ? DiffType(c->type) : c->type, nullptr);
        if (!d) return std::unexpected(d.error().ToError());
        if (diff) {
          row->columns[c->index] = ApplyDatumDiff(c->type, row->columns[c->index], *d);
        } else {
          row->columns[c->index] = std::move(*d);
        }
      }
    }
  }
  DropNoOps();
  for (auto& [t, trows] : rows_) {
    for (auto& [u, tr] : trows) {
      if (tr.current) tr.current->SetVersion(Uuid::Random());
    }
  }
  RefDelta delta = ComputeRefDelta();
  ChangeSet changes = BuildChanges();
  if (!rows_.empty()) Apply(delta);
  return changes;
}

}  // namespace sluice::db
