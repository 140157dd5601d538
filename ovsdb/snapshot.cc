#include "ovsdb/snapshot.h"

#include "ovsdb/json_writer.h"

namespace sluice::db {

DbSnapshot::DbSnapshot(const Database& db) {
  for (const auto& [name, table] : db.tables()) {
    if (table->size() == 0) continue;
    TableRows& t = tables_.emplace_back(TableRows{name, &table->schema(), {}});
    t.rows.reserve(table->size());
    for (const Row* row : table->rows()) t.rows.emplace_back(row);
  }
}

size_t DbSnapshot::rows() const {
  size_t n = 0;
  for (const TableRows& t : tables_) n += t.rows.size();
  return n;
}

std::string DbSnapshot::Record(int64_t date_ms) const {
  std::string out;
  JsonWriter w(out);
  w.Char('{');
  for (const TableRows& t : tables_) {
    w.Key(t.name);
    w.Char('{');
    bool first_row = true;
    for (const RowRef& row : t.rows) {
      if (!first_row) w.Char(',');
      first_row = false;
      w.UuidString(row->uuid());
      w.Raw(":{");
      bool first = true;
      row->ForEachStored([&](size_t c, const Datum& d) {
        const ColumnSchema& col = t.schema->columns[c];
        if (col.ephemeral) return;
        if (!first) w.Char(',');
        first = false;
        w.Key(col.name);
        w.Datum(d);
      });
      w.Char('}');
    }
    w.Raw("},");
  }
  w.Raw("\"_date\":");
  w.Int(date_ms);
  w.Char('}');
  return out;
}

}  // namespace sluice::db
