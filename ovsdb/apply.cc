// The end of a transaction: running the operations, the change set and storage record, and
// applying the result to the committed tables (in place where no one else holds the row); and
// the replay of storage records.
#include <chrono>

#include "ovsdb/json_doc.h"
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

bool EditsAny(const TxnRow& tr, const std::vector<size_t>& columns) {
  for (size_t c : columns) {
    if (tr.FindEdit(c)) return true;
  }
  return false;
}

}  // namespace

template <class J>
TxnOutcome Transaction::Run(const J& operations, size_t first) {
  TxnOutcome out;
  out.reply = json::array();
  if (!operations.is_array()) {
    out.reply.push_back(OvsdbError{"syntax error", "array of operations expected"}.ToJson());
    return out;
  }
  size_t n_ops = operations.size() > first ? operations.size() - first : 0;
  bool failed = false;
  for (size_t i = first; i < operations.size(); ++i) {
    auto r = Dispatch(operations[i]);
    if (blocked_) {
      out.reply = nullptr;
      out.blocked = true;
      out.block_timeout_ms = block_timeout_;
      return out;
    }
    if (!r) {
      out.reply.push_back(r.error().ToJson());
      failed = true;
      break;
    }
    out.reply.push_back(std::move(*r));
  }
  while (out.reply.size() < n_ops) out.reply.push_back(nullptr);
  if (failed) return out;
  if (auto r = Precommit(); !r) {
    out.reply.push_back(r.error().ToJson());
    return out;
  }
  bool any = false;
  for (const TxnRows& rows : rows_) any = any || !rows.empty();
  if (!any) return out;
  ChangeSet cs;
  BuildChanges(cs);
  std::string comment;
  for (const std::string& s : comments_) comment += (comment.empty() ? "" : "\n") + s;
  out.record = StorageRecord(cs, NowMs(ctx_), comment);
  out.durable = durable_;
  if (!out.record.empty() && ctx_.persist) {
    if (auto r = ctx_.persist(out.record, durable_); !r) {
      out.reply.push_back(OvsdbError{"I/O error", r.error().message}.ToJson());
      out.record.clear();
      return out;
    }
  }
  if (ctx_.on_commit) ctx_.on_commit(cs);
  Apply(ref_delta_);
  out.committed = true;
  return out;
}

template TxnOutcome Transaction::Run(const json& operations, size_t first);
template TxnOutcome Transaction::Run(const JsonNode& operations, size_t first);

void Transaction::BuildChanges(ChangeSet& cs) {
  for (Table* t : tables_) {
    TxnRows& rows = RowsOf(*t);
    if (rows.empty()) continue;
    TableChanges& tc = cs.tables[t->schema().name];
    tc.table = &t->schema();
    tc.rows.reserve(rows.size());
    for (auto& [u, tr] : rows) tc.rows.emplace_back(tr);
  }
}

void Transaction::ApplyRow(TxnRow& tr) {
  Table& t = *tr.table;
  if (tr.deleted) {
    Row::Unref(t.rows_.Erase(tr.uuid));
    return;
  }
  if (tr.inserted) {
    Row* row = tr.inserted.release();
    row->set_version(tr.version);
    t.rows_.Insert(row);
    tr.committed = row;
    return;
  }
  Row* row = t.rows_.FindMutable(tr.uuid);
  if (row->shared()) {
    // A snapshot being written (or a congested monitor) holds the row: leave it as it is.
    Row* copy = new Row(*row);
    t.rows_.Replace(copy);
    for (RowIndex& index : t.indexes_) {
      if (!EditsAny(tr, index.columns())) index.Replace(row, copy);
    }
    Row::Unref(row);
    row = copy;
  }
  for (ColumnEdit& e : tr.edits) {
    if (e.is_delta) {
      DeltaApplyInPlace(row->Mutable(e.column), e.delta);
      row->Normalize(e.column);
    } else {
      row->Set(e.column, std::move(e.value));
    }
  }
  row->set_version(tr.version);
  tr.committed = row;
}

void Transaction::Apply(const RefDelta& delta) {
  for (Table* t : tables_) {
    TxnRows& rows = RowsOf(*t);
    if (rows.empty()) continue;
    // Every old key leaves the indexes before any new one enters, so rows may swap values.
    for (RowIndex& index : t->indexes_) {
      for (auto& [u, tr] : rows) {
        if (tr.committed && (tr.deleted || EditsAny(tr, index.columns()))) {
          index.Erase(tr.committed);
        }
      }
    }
    for (auto& [u, tr] : rows) ApplyRow(tr);
    for (RowIndex& index : t->indexes_) {
      for (auto& [u, tr] : rows) {
        // Inserted rows have no edits; modified ones enter again if their key changed.
        if (!tr.deleted && (tr.edits.empty() || EditsAny(tr, index.columns()))) {
          index.Insert(tr.committed);
        }
      }
    }
  }
  for (const auto& [key, d] : delta) {
    if (d == 0) continue;
    if (Row* row = key.table->rows_.FindMutable(key.uuid)) row->add_strong_refs(d);
  }
  for (TxnRows& rows : rows_) rows.clear();
  ++db_.generation_;
}

Result<void> Transaction::Replay(const json& record,
                                 const std::function<void(const ChangeSet&)>& on_commit) {
  if (!record.is_object()) return MakeError(Errc::kInvalid, "storage record must be an object");
  // In a diff record, the columns of a row that already exists are diffs (see DiffDatum).
  auto flag = record.find("_is_diff");
  bool is_diff = flag != record.end() && *flag == true;
  for (const auto& [name, tj] : record.items()) {
    if (!name.empty() && name[0] == '_') continue;
    Table* t = db_.MutableTable(name);
    if (!t) return MakeError(Errc::kInvalid, "record names unknown table " + name);
    if (!tj.is_object()) {
      return MakeError(Errc::kInvalid, "record table " + name + " not an object");
    }
    const TableSchema& ts = t->schema();
    for (const auto& [uuid_text, rj] : tj.items()) {
      auto u = Uuid::Parse(uuid_text);
      if (!u) return MakeError(Errc::kInvalid, "record has bad row UUID " + uuid_text);
      TxnRow* tr = Touch(*t, *u);
      if (rj.is_null()) {
        if (!tr) {
          return MakeError(Errc::kInvalid, "record deletes missing " + name + " row " + uuid_text);
        }
        DeleteRow(*tr);
        continue;
      }
      if (!rj.is_object()) return MakeError(Errc::kInvalid, "record row must be object or null");
      bool existed = tr != nullptr;
      if (!tr) tr = &InsertRow(*t, std::make_unique<Row>(t->shape(), *u, Uuid{}));
      for (const auto& [cname, value] : rj.items()) {
        const ColumnSchema* c = ts.FindColumn(cname);
        if (!c || c->implicit) {
          return MakeError(Errc::kInvalid, "record names unknown column " + name + "." + cname);
        }
        bool diff = is_diff && existed && !c->type.IsScalar();
        auto d = DatumFromJson(value, diff ? DiffType(c->type) : c->type, nullptr);
        if (!d) return std::unexpected(d.error().ToError());
        if (!diff) {
          SetColumn(*tr, c->index, std::move(*d));
          continue;
        }
        ColumnEdit* e = tr->FindEdit(c->index);
        if (e && !e->is_delta) {
          e->value = ApplyDatumDiff(c->type, e->value, *d);
          continue;
        }
        if (!e) {
          e = &tr->EditFor(c->index);
          e->is_delta = true;
          e->delta = MakeDelta(c->type.IsMap());
        }
        DeltaApplyDiff(tr->committed->Get(c->index), e->delta, *d);
      }
    }
  }
  DropNoOps();
  ref_delta_.clear();
  bool any = false;
  for (TxnRows& rows : rows_) {
    for (auto& [u, tr] : rows) {
      if (tr.exists()) tr.version = Uuid::Random();
      AddRefChanges(tr, ref_delta_);
      any = true;
    }
  }
  if (!any) return {};
  if (on_commit) {
    ChangeSet cs;
    BuildChanges(cs);
    on_commit(cs);
  }
  Apply(ref_delta_);
  return {};
}

}  // namespace sluice::db
