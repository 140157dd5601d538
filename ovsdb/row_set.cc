#include "ovsdb/row_set.h"

#include <bit>
#include <cstring>
#include <string_view>

namespace sluice::db {
namespace {

// Grow at 3/4 full; tables start at 16 slots.
size_t CapacityFor(size_t n) {
  size_t want = n + n / 3 + 1;
  return std::max<size_t>(16, std::bit_ceil(want));
}

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

uint64_t HashAtom(const Atom& a) {
  switch (a.index()) {
    case 0:
      return static_cast<uint64_t>(std::get<int64_t>(a));
    case 1: {
      double d = std::get<double>(a);
      if (d == 0) d = 0;  // -0.0 == 0.0
      uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      return bits;
    }
    case 2:
      return std::get<bool>(a) ? 1 : 0;
    case 3:
      return std::hash<std::string_view>()(std::get<std::string>(a));
    default:
      return HashUuid(std::get<Uuid>(a));
  }
}

}  // namespace

uint64_t HashDatum(const Datum& d, uint64_t basis) {
  uint64_t h = Mix(basis, d.keys.size());
  for (const Atom& a : d.keys) h = Mix(h, HashAtom(a));
  for (const Atom& a : d.values) h = Mix(h, HashAtom(a));
  return h;
}

void RowMap::Reserve(size_t n) {
  if (CapacityFor(n) > slots_.size()) Rehash(CapacityFor(n));
}

void RowMap::Rehash(size_t capacity) {
  std::vector<Row*> old = std::move(slots_);
  slots_.assign(capacity, nullptr);
  mask_ = capacity - 1;
  for (Row* r : old) {
    if (!r) continue;
    size_t i = HashUuid(r->uuid()) & mask_;
    while (slots_[i]) i = (i + 1) & mask_;
    slots_[i] = r;
  }
}

void RowMap::Insert(Row* row) {
  if ((size_ + 1) * 4 > slots_.size() * 3) Rehash(CapacityFor(size_ + 1));
  size_t i = HashUuid(row->uuid()) & mask_;
  while (slots_[i]) i = (i + 1) & mask_;
  slots_[i] = row;
  ++size_;
}

void RowMap::Replace(Row* row) {
  for (size_t i = HashUuid(row->uuid()) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i]->uuid() == row->uuid()) {
      slots_[i] = row;
      return;
    }
  }
}

Row* RowMap::Erase(const Uuid& uuid) {
  if (slots_.empty()) return nullptr;
  size_t i = HashUuid(uuid) & mask_;
  for (;; i = (i + 1) & mask_) {
    if (!slots_[i]) return nullptr;
    if (slots_[i]->uuid() == uuid) break;
  }
  Row* removed = slots_[i];
  // Backward-shift: move later members of the probe run into the hole when they may live there.
  for (size_t j = (i + 1) & mask_; slots_[j]; j = (j + 1) & mask_) {
    size_t home = HashUuid(slots_[j]->uuid()) & mask_;
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = nullptr;
  --size_;
  return removed;
}

uint64_t RowIndex::HashKey(const std::vector<const Datum*>& key) const {
  uint64_t h = 0;
  for (const Datum* d : key) h = HashDatum(*d, h);
  return h;
}

uint64_t RowIndex::HashRow(const Row& row) const {
  uint64_t h = 0;
  for (size_t c : columns_) h = HashDatum(*row.Value(c), h);
  return h;
}

const Row* RowIndex::Find(const std::vector<const Datum*>& key, uint64_t hash) const {
  if (slots_.empty()) return nullptr;
  for (size_t i = hash & mask_; slots_[i].row; i = (i + 1) & mask_) {
    if (slots_[i].hash != hash) continue;
    const Row* r = slots_[i].row;
    bool equal = true;
    for (size_t k = 0; k < columns_.size() && equal; ++k) {
      equal = *r->Value(columns_[k]) == *key[k];
    }
    if (equal) return r;
  }
  return nullptr;
}

void RowIndex::Rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (const Slot& s : old) {
    if (!s.row) continue;
    size_t i = s.hash & mask_;
    while (slots_[i].row) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void RowIndex::Insert(const Row* row) {
  if ((size_ + 1) * 4 > slots_.size() * 3) Rehash(CapacityFor(size_ + 1));
  uint64_t h = HashRow(*row);
  size_t i = h & mask_;
  while (slots_[i].row) i = (i + 1) & mask_;
  slots_[i] = Slot{row, h};
  ++size_;
}

size_t RowIndex::FindSlot(const Row* row, uint64_t hash) const {
  if (slots_.empty()) return SIZE_MAX;
  for (size_t i = hash & mask_; slots_[i].row; i = (i + 1) & mask_) {
    if (slots_[i].row == row) return i;
  }
  return SIZE_MAX;
}

void RowIndex::Replace(const Row* old, const Row* now) {
  size_t i = FindSlot(old, HashRow(*old));
  if (i != SIZE_MAX) slots_[i].row = now;
}

void RowIndex::Erase(const Row* row) {
  size_t i = FindSlot(row, HashRow(*row));
  if (i == SIZE_MAX) return;
  for (size_t j = (i + 1) & mask_; slots_[j].row; j = (j + 1) & mask_) {
    size_t home = slots_[j].hash & mask_;
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  --size_;
}

}  // namespace sluice::db
