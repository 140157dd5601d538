// A consistent view of a whole database for log compaction, cheap to take and safe to read on
// another thread: it holds a reference to every row (so commits copy a held row before changing
// it instead of changing it in place) and serializes them into one storage record later.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ovsdb/database.h"

namespace sluice::db {

class DbSnapshot {
 public:
  // On the database's thread, between transactions: O(rows), no copies of row contents.
  explicit DbSnapshot(const Database& db);

  // The snapshot as one storage record (JSON text): every row with its non-default persistent
  // columns, plus "_date". Any thread; the database may change meanwhile.
  std::string Record(int64_t date_ms) const;
  size_t rows() const;

 private:
  struct TableRows {
    std::string name;
    const TableSchema* schema;
    std::vector<RowRef> rows;
  };
  std::vector<TableRows> tables_;
};

}  // namespace sluice::db
