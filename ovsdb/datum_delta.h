// A pending change to a set or map column of a committed row, kept as the elements to add and
// to remove, so that an "insert" or "delete" mutation costs O(argument * log n) and the commit
// applies it in place instead of copying the column.
//
// Invariants (base = the committed value):
//   sets: `added` and `base` are disjoint, `removed` is a subset of `base`;
//   maps: `removed` holds pairs of `base`; a key of `added` is absent from `base` or also in
//         `removed` (its value changes, and then the two values differ).
// Both are sorted Datums of the column's kind (is_map as the column).
#pragma once

#include "ovsdb/datum.h"

namespace sluice::db {

struct DatumDelta {
  Datum added;
  Datum removed;

  bool empty() const { return added.empty() && removed.empty(); }
};

DatumDelta MakeDelta(bool is_map);

// The "insert" mutator: elements (pairs) of `arg` not present are added; for maps, present
// keys keep their value. `arg` is sorted.
void DeltaInsert(const Datum& base, DatumDelta& delta, const Datum& arg);
// The "delete" mutator: for sets and for maps with a set `arg`, elements (keys) are removed;
// for maps with a map `arg`, pairs whose key and value both match are removed.
void DeltaDelete(const Datum& base, DatumDelta& delta, const Datum& arg);
// Applies a diff (DiffDatum's form, as diff records and update2 carry it) on top of `delta`.
void DeltaApplyDiff(const Datum& base, DatumDelta& delta, const Datum& diff);

// Number of elements after the change.
size_t DeltaSize(const Datum& base, const DatumDelta& delta);
// The value after the change, as a new Datum.
Datum DeltaMaterialize(const Datum& base, const DatumDelta& delta);
// Turns `base` into the value after the change, in place.
void DeltaApplyInPlace(Datum& base, const DatumDelta& delta);
// The change in DiffDatum's form.
Datum DeltaToDiff(const DatumDelta& delta);

}  // namespace sluice::db
