// Table rows as the server stores them.
//
// A Row keeps _uuid and _version as plain fields and, of the declared columns, only those whose
// value differs from the column type's default (sparse, in column order): a vswitch Interface
// row has ~40 columns of which a handful are set. Rows are reference counted: the table holds
// one reference; a storage snapshot being written in the background or a congested monitor
// holds others. A shared row is never modified in place (the committer copies it first), so
// the holders see the value it had when they took it.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ovsdb/datum.h"
#include "ovsdb/schema.h"

namespace sluice::db {

class JsonNode;

// Per-table facts every row of the table shares.
struct TableShape {
  explicit TableShape(const TableSchema& schema);
  const TableSchema* schema;
  std::vector<Datum> defaults;   // Datum::Default of each column's type
  std::vector<size_t> declared;  // the columns other than _uuid and _version
};

// A column value that is either a reference into a row or, for _uuid and _version (which rows
// store as plain fields) and for values computed on demand, owned. Keep it alive while using
// the Datum it refers to.
class ColumnValue {
 public:
  static ColumnValue Ref(const Datum& d) { return ColumnValue(&d); }
  static ColumnValue Own(Datum d) { return ColumnValue(std::move(d)); }
  ColumnValue(const ColumnValue& o) : own_(o.own_), p_(o.p_ == &o.own_ ? &own_ : o.p_) {}
  ColumnValue(ColumnValue&& o) noexcept
      : own_(std::move(o.own_)), p_(o.p_ == &o.own_ ? &own_ : o.p_) {}
  ColumnValue& operator=(const ColumnValue&) = delete;
  const Datum& operator*() const { return *p_; }
  const Datum* operator->() const { return p_; }

 private:
  explicit ColumnValue(const Datum* d) : p_(d) {}
  explicit ColumnValue(Datum&& owned) : own_(std::move(owned)), p_(&own_) {}

  Datum own_;
  const Datum* p_;
};

class Row {
 public:
  // A row with every declared column at its default.
  Row(const TableShape& shape, Uuid uuid, Uuid version)
      : shape_(&shape), uuid_(uuid), version_(version) {}
  // Copies the value (not the references or the reference count).
  Row(const Row& other)
      : shape_(other.shape_),
        uuid_(other.uuid_),
        version_(other.version_),
        slots_(other.slots_),
        strong_refs_(other.strong_refs_) {}
  Row& operator=(const Row&) = delete;

  const TableShape& shape() const { return *shape_; }
  const TableSchema& schema() const { return *shape_->schema; }
  const Uuid& uuid() const { return uuid_; }
  const Uuid& version() const { return version_; }
  void set_version(const Uuid& v) { version_ = v; }

  // A declared column (index >= 2).
  const Datum& Get(size_t column) const {
    const Slot* s = FindSlot(column);
    return s ? *s : shape_->defaults[column];
  }
  // Any column, _uuid and _version included.
  ColumnValue Value(size_t column) const;
  // Stores `value` in a declared column (a default value is not stored).
  void Set(size_t column, Datum value);
  // A declared column for in-place modification; the caller must call Normalize(column) after.
  Datum& Mutable(size_t column);
  void Normalize(size_t column);

  // Equal in every column except _version.
  bool SameContents(const Row& other) const;

  // The declared columns holding non-default values, in column order.
  template <class F>
  void ForEachStored(F&& fn) const {
    for (const Slot& s : slots_) fn(size_t{s.column}, static_cast<const Datum&>(s));
  }

  // Strong references held by committed rows (bookkeeping of committed rows only).
  int32_t strong_refs() const { return strong_refs_; }
  void add_strong_refs(int64_t d) { strong_refs_ += static_cast<int32_t>(d); }

  // Shared ownership. A new row starts with one reference, its creator's.
  void Ref() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  static void Unref(const Row* row) {
    if (row && row->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete row;
  }
  // Someone besides the table holds it: it must not be modified in place.
  bool shared() const { return refs_.load(std::memory_order_acquire) > 1; }

 private:
  // A stored column: the Datum, with the column number in the Datum's tail padding (Itanium
  // ABI), so a slot costs no more than the Datum itself.
  struct Slot : Datum {
    Slot(uint32_t c, Datum d) : Datum(std::move(d)), column(c) {}
    uint32_t column;
  };
  static_assert(sizeof(Slot) == sizeof(Datum));

  const Slot* FindSlot(size_t column) const;
  std::vector<Slot>::iterator LowerBound(size_t column);

  const TableShape* shape_;
  Uuid uuid_;
  Uuid version_;
  std::vector<Slot> slots_;
  int32_t strong_refs_ = 0;
  mutable std::atomic<uint32_t> refs_{1};
};

// Holds one reference to a row.
class RowRef {
 public:
  RowRef() = default;
  explicit RowRef(const Row* r) : row_(r) {
    if (row_) row_->Ref();
  }
  RowRef(const RowRef& o) : RowRef(o.row_) {}
  RowRef(RowRef&& o) noexcept : row_(std::exchange(o.row_, nullptr)) {}
  RowRef& operator=(RowRef o) {
    std::swap(row_, o.row_);
    return *this;
  }
  ~RowRef() { Row::Unref(row_); }
  const Row* get() const { return row_; }
  const Row* operator->() const { return row_; }
  const Row& operator*() const { return *row_; }
  explicit operator bool() const { return row_ != nullptr; }

 private:
  const Row* row_ = nullptr;
};

// {"col": <datum>, ...} for `columns` (column indexes), or for every column including _uuid
// and _version when `columns` is null.
nlohmann::json RowToJson(const Row& row, const std::vector<size_t>* columns = nullptr);

// Indexes of the columns named in a JSON array (select/wait/monitor "columns").
DbResult<std::vector<size_t>> ParseColumnList(const nlohmann::json& names,
                                              const TableSchema& table);
template <std::same_as<JsonNode> J>
DbResult<std::vector<size_t>> ParseColumnList(const J& names, const TableSchema& table);

}  // namespace sluice::db
