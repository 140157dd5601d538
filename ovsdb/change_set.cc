#include "ovsdb/change_set.h"

#include "ovsdb/json_writer.h"
#include "ovsdb/transaction.h"

namespace sluice::db {

using nlohmann::json;

RowChange::RowChange(TxnRow& tr)
    : uuid_(tr.uuid),
      schema_(&tr.table->schema()),
      old_(tr.committed),
      txn_(&tr),
      changed_(&tr.table->shape().declared) {
  if (tr.inserted) {
    kind_ = Kind::kInsert;
    old_ = nullptr;
    new_ = tr.inserted.get();
  } else if (tr.deleted) {
    kind_ = Kind::kDelete;
  } else {
    kind_ = Kind::kModify;
    for (const ColumnEdit& e : tr.edits) own_changed_.push_back(e.column);
    changed_ = &own_changed_;
  }
}

RowChange::RowChange(const Row* old_row, const Row* new_row)
    : uuid_((old_row ? old_row : new_row)->uuid()),
      schema_(&(old_row ? old_row : new_row)->schema()),
      old_(old_row),
      new_(new_row),
      changed_(&own_changed_) {
  kind_ = !old_row ? Kind::kInsert : !new_row ? Kind::kDelete : Kind::kModify;
  for (const ColumnSchema& c : schema_->columns) {
    if (c.implicit) continue;
    if (kind_ != Kind::kModify || old_row->Get(c.index) != new_row->Get(c.index)) {
      own_changed_.push_back(c.index);
    }
  }
}

ColumnValue RowChange::Old(size_t column) const { return old_->Value(column); }

ColumnValue RowChange::New(size_t column) const {
  if (new_) return new_->Value(column);
  if (column == kUuidColumn) return ColumnValue::Own(Datum::Scalar(UuidAtom(uuid_)));
  if (column == kVersionColumn) return ColumnValue::Own(Datum::Scalar(UuidAtom(txn_->version)));
  return ColumnValue::Ref(Transaction::NewValue(*txn_, column));
}

const Uuid& RowChange::new_version() const { return txn_ ? txn_->version : new_->version(); }

Datum RowChange::Diff(size_t column) const {
  const Type& type = schema_->columns[column].type;
  if (!txn_) return DiffDatum(type, old_->Get(column), new_->Get(column));
  ColumnEdit* e = txn_->FindEdit(column);
  if (!e) return Datum::Default(type);  // unchanged: nothing to report
  if (!e->diff) {
    e->diff = e->is_delta ? DeltaToDiff(e->delta) : DiffDatum(type, old_->Get(column), e->value);
  }
  return *e->diff;
}

const RowChange* ChangeSet::Find(const std::string& table, const Uuid& uuid) const {
  auto it = tables.find(table);
  if (it == tables.end()) return nullptr;
  for (const RowChange& rc : it->second.rows) {
    if (rc.uuid() == uuid) return &rc;
  }
  return nullptr;
}

json ChangesToJson(const ChangeSet& changes) {
  json out = json::object();
  for (const auto& [name, tc] : changes.tables) {
    json tj = json::object();
    for (const RowChange& rc : tc.rows) {
      auto whole = [&](bool is_new) {
        json j = json::object();
        for (const ColumnSchema& c : tc.table->columns) {
          j[c.name] = (is_new ? rc.New(c.index) : rc.Old(c.index))->ToJson();
        }
        return j;
      };
      json names = json::array();
      for (size_t c : rc.changed()) names.push_back(tc.table->columns[c].name);
      bool has_old = rc.kind() != RowChange::Kind::kInsert;
      bool has_new = rc.kind() != RowChange::Kind::kDelete;
      tj[rc.uuid().ToString()] = {{"old", has_old ? whole(false) : json(nullptr)},
                                  {"new", has_new ? whole(true) : json(nullptr)},
                                  {"changed", std::move(names)}};
    }
    out[name] = std::move(tj);
  }
  return out;
}

std::string StorageRecord(const ChangeSet& changes, int64_t date_ms, const std::string& comment) {
  std::string out;
  JsonWriter w(out);
  w.Char('{');
  bool any = false;
  for (const auto& [name, tc] : changes.tables) {
    size_t table_mark = out.size();
    if (any) w.Char(',');
    w.Key(name);
    w.Char('{');
    bool rows = false;
    for (const RowChange& rc : tc.rows) {
      size_t row_mark = out.size();
      if (rows) w.Char(',');
      w.Char('"');
      AppendUuid(out, rc.uuid());
      w.Raw("\":");
      if (rc.kind() == RowChange::Kind::kDelete) {
        w.Null();
        rows = true;
        continue;
      }
      w.Char('{');
      bool cols = false;
      auto column = [&](size_t c, const Datum& d) {
        if (cols) w.Char(',');
        w.Key(tc.table->columns[c].name);
        w.Datum(d);
        cols = true;
      };
      if (rc.kind() == RowChange::Kind::kInsert) {
        // A new row: its non-default persistent columns.
        rc.new_row()->ForEachStored([&](size_t c, const Datum& d) {
          if (!tc.table->columns[c].ephemeral) column(c, d);
        });
      } else {
        // A modified row: its changed persistent columns, sets and maps as diffs, so that
        // adding one element to a large set writes one element.
        for (size_t c : rc.changed()) {
          const ColumnSchema& col = tc.table->columns[c];
          if (col.ephemeral) continue;
          if (col.type.IsScalar()) {
            column(c, *rc.New(c));
          } else {
            column(c, rc.Diff(c));
          }
        }
        if (!cols) {  // only ephemeral columns changed
          out.resize(row_mark);
          continue;
        }
      }
      w.Char('}');
      rows = true;
    }
    if (!rows) {
      out.resize(table_mark);
      continue;
    }
    w.Char('}');
    any = true;
  }
  if (!any) return {};
  w.Raw(",\"_date\":");
  w.Int(date_ms);
  w.Raw(",\"_is_diff\":true");
  if (!comment.empty()) {
    w.Raw(",\"_comment\":");
    w.String(comment);
  }
  w.Char('}');
  return out;
}

}  // namespace sluice::db
