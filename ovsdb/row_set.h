// Open-addressing hash tables of row pointers (linear probing, backward-shift deletion): a
// table's rows by UUID, and a unique index's rows by key. Eight (RowMap) or sixteen (RowIndex)
// bytes per slot, no per-entry allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "ovsdb/row.h"
#include "ovsdb/uuid.h"

namespace sluice::db {

inline uint64_t HashUuid(const Uuid& u) {
  uint64_t h = (u.hi * 0x9e3779b97f4a7c15ULL) ^ (u.lo * 0xc2b2ae3d27d4eb4fULL);
  return h ^ (h >> 29);
}

// Rows by UUID. Does not own the rows (Table manages their references).
class RowMap {
 public:
  class Iterator {
   public:
    Iterator(const std::vector<Row*>* slots, size_t i) : slots_(slots), i_(i) { Skip(); }
    const Row* operator*() const { return (*slots_)[i_]; }
    Iterator& operator++() {
      ++i_;
      Skip();
      return *this;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }

   private:
    void Skip() {
      while (i_ < slots_->size() && !(*slots_)[i_]) ++i_;
    }
    const std::vector<Row*>* slots_;
    size_t i_;
  };

  Iterator begin() const { return Iterator(&slots_, 0); }
  Iterator end() const { return Iterator(&slots_, slots_.size()); }
  size_t size() const { return size_; }

  const Row* Find(const Uuid& uuid) const { return FindMutable(uuid); }
  Row* FindMutable(const Uuid& uuid) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = HashUuid(uuid) & mask_;; i = (i + 1) & mask_) {
      Row* r = slots_[i];
      if (!r) return nullptr;
      if (r->uuid() == uuid) return r;
    }
  }
  // `row`'s UUID must not be present.
  void Insert(Row* row);
  // Replaces the row with `row`'s UUID (which must be present) by `row`.
  void Replace(Row* row);
  // Removes and returns the row with `uuid` (null if absent).
  Row* Erase(const Uuid& uuid);
  void Reserve(size_t n);

 private:
  void Rehash(size_t capacity);

  std::vector<Row*> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// A unique index: rows by the hash of their key (the indexed columns); lookups compare the
// rows' columns, so keys are not stored.
class RowIndex {
 public:
  explicit RowIndex(std::vector<size_t> columns) : columns_(std::move(columns)) {}

  const std::vector<size_t>& columns() const { return columns_; }
  size_t size() const { return size_; }

  // Hash of a key (one Datum per indexed column, in `columns()` order).
  uint64_t HashKey(const std::vector<const Datum*>& key) const;
  uint64_t HashRow(const Row& row) const;
  // The row whose key equals `key`, or null.
  const Row* Find(const std::vector<const Datum*>& key, uint64_t hash) const;
  void Insert(const Row* row);
  // Removes `row` (matched by pointer) if present.
  void Erase(const Row* row);
  // `now` takes the slot of `old` (same key).
  void Replace(const Row* old, const Row* now);

 private:
  struct Slot {
    const Row* row = nullptr;
    uint64_t hash = 0;
  };
  size_t FindSlot(const Row* row, uint64_t hash) const;
  void Rehash(size_t capacity);

  std::vector<size_t> columns_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

uint64_t HashDatum(const Datum& d, uint64_t basis);

}  // namespace sluice::db
