#include "ovsdb/datum_delta.h"

#include <algorithm>

namespace sluice::db {
namespace {

// Removes the elements at `idx` (ascending) from `d`.
void EraseAt(Datum& d, const std::vector<size_t>& idx) {
  if (idx.empty()) return;
  size_t out = idx[0], next = 0;
  for (size_t i = idx[0]; i < d.keys.size(); ++i) {
    if (next < idx.size() && idx[next] == i) {
      ++next;
      continue;
    }
    d.keys[out] = std::move(d.keys[i]);
    if (d.is_map) d.values[out] = std::move(d.values[i]);
    ++out;
  }
  d.keys.resize(out);
  if (d.is_map) d.values.resize(out);
}

// Merges sorted `src` into sorted `dst`; their keys are disjoint.
void MergeInto(Datum& dst, Datum&& src) {
  if (src.empty()) return;
  if (dst.empty()) {
    dst.keys = std::move(src.keys);
    dst.values = std::move(src.values);
    return;
  }
  if (src.keys.size() == 1) {
    auto pos = std::lower_bound(dst.keys.begin(), dst.keys.end(), src.keys[0]) - dst.keys.begin();
    dst.keys.insert(dst.keys.begin() + pos, std::move(src.keys[0]));
    if (dst.is_map) dst.values.insert(dst.values.begin() + pos, std::move(src.values[0]));
    return;
  }
  Datum out;
  out.is_map = dst.is_map;
  out.keys.reserve(dst.size() + src.size());
  if (out.is_map) out.values.reserve(dst.size() + src.size());
  size_t i = 0, j = 0;
  while (i < dst.size() || j < src.size()) {
    bool take_dst = j == src.size() || (i < dst.size() && dst.keys[i] < src.keys[j]);
    Datum& from = take_dst ? dst : src;
    size_t& k = take_dst ? i : j;
    out.keys.push_back(std::move(from.keys[k]));
    if (out.is_map) out.values.push_back(std::move(from.values[k]));
    ++k;
  }
  dst = std::move(out);
}

// Merges base (minus `removed`) with `added`; for a key in both, `added` wins.
template <class Out>
void Merge(const Datum& base, const DatumDelta& delta, Out&& emit) {
  const Datum& rem = delta.removed;
  const Datum& add = delta.added;
  size_t r = 0, a = 0;
  for (size_t b = 0; b <= base.size(); ++b) {
    // Emit the added elements that sort before base element b (or all that remain at the end).
    while (a < add.size() && (b == base.size() || add.keys[a] < base.keys[b])) {
      emit(add, a++);
    }
    if (b == base.size()) break;
    while (r < rem.size() && rem.keys[r] < base.keys[b]) ++r;
    bool removed = r < rem.size() && rem.keys[r] == base.keys[b];
    if (removed) {
      // A map key removed and added again sorts equal to base's: the added pair replaces it.
      if (a < add.size() && add.keys[a] == base.keys[b]) emit(add, a++);
      continue;
    }
    emit(base, b);
  }
}

}  // namespace

DatumDelta MakeDelta(bool is_map) {
  DatumDelta d;
  d.added.is_map = d.removed.is_map = is_map;
  return d;
}

void DeltaInsert(const Datum& base, DatumDelta& delta, const Datum& arg) {
  std::vector<size_t> restore;  // indexes into delta.removed
  Datum add;
  add.is_map = base.is_map;
  for (size_t i = 0; i < arg.size(); ++i) {
    const Atom& k = arg.keys[i];
    if (!base.is_map) {
      if (ptrdiff_t r = delta.removed.Find(k); r >= 0) {
        restore.push_back(static_cast<size_t>(r));
      } else if (!base.Contains(k) && !delta.added.Contains(k)) {
        add.keys.push_back(k);
      }
      continue;
    }
    if (delta.added.Contains(k)) continue;  // present: keeps its value
    ptrdiff_t b = base.Find(k);
    if (b >= 0) {
      ptrdiff_t r = delta.removed.Find(k);
      if (r < 0) continue;  // present: keeps its value
      if (base.values[b] == arg.values[i]) {
        restore.push_back(static_cast<size_t>(r));  // the pair comes back unchanged
        continue;
      }
    }
    add.keys.push_back(k);
    add.values.push_back(arg.values[i]);
  }
  EraseAt(delta.removed, restore);
  MergeInto(delta.added, std::move(add));
}

void DeltaDelete(const Datum& base, DatumDelta& delta, const Datum& arg) {
  bool pairs = base.is_map && arg.is_map;
  std::vector<size_t> unadd;  // indexes into delta.added
  Datum rem;
  rem.is_map = base.is_map;
  for (size_t i = 0; i < arg.size(); ++i) {
    const Atom& k = arg.keys[i];
    if (ptrdiff_t a = delta.added.Find(k); a >= 0) {
      if (!pairs || delta.added.values[a] == arg.values[i]) unadd.push_back(static_cast<size_t>(a));
      continue;
    }
    ptrdiff_t b = base.Find(k);
    if (b < 0 || delta.removed.Contains(k)) continue;
    if (pairs && base.values[b] != arg.values[i]) continue;
    rem.keys.push_back(k);
    if (base.is_map) rem.values.push_back(base.values[b]);
  }
  EraseAt(delta.added, unadd);
  MergeInto(delta.removed, std::move(rem));
}

void DeltaApplyDiff(const Datum& base, DatumDelta& delta, const Datum& diff) {
  Datum del, ins;
  del.is_map = false;
  ins.is_map = base.is_map;
  for (size_t i = 0; i < diff.size(); ++i) {
    const Atom& k = diff.keys[i];
    const Atom* cur = nullptr;  // current value (maps) or element (sets), if present
    if (ptrdiff_t a = delta.added.Find(k); a >= 0) {
      cur = base.is_map ? &delta.added.values[a] : &delta.added.keys[a];
    } else if (ptrdiff_t b = base.Find(k); b >= 0 && !delta.removed.Contains(k)) {
      cur = base.is_map ? &base.values[b] : &base.keys[b];
    }
    if (!base.is_map) {
      (cur ? del : ins).keys.push_back(k);
      continue;
    }
    if (cur) del.keys.push_back(k);
    if (!cur || *cur != diff.values[i]) {
      ins.keys.push_back(k);
      ins.values.push_back(diff.values[i]);
    }
  }
  DeltaDelete(base, delta, del);
  DeltaInsert(base, delta, ins);
}

size_t DeltaSize(const Datum& base, const DatumDelta& delta) {
  return base.size() - delta.removed.size() + delta.added.size();
}

Datum DeltaMaterialize(const Datum& base, const DatumDelta& delta) {
  Datum out;
  out.is_map = base.is_map;
  out.keys.reserve(DeltaSize(base, delta));
  if (out.is_map) out.values.reserve(DeltaSize(base, delta));
  Merge(base, delta, [&out](const Datum& from, size_t i) {
    out.keys.push_back(from.keys[i]);
    if (out.is_map) out.values.push_back(from.values[i]);
  });
  return out;
}

void DeltaApplyInPlace(Datum& base, const DatumDelta& delta) {
  size_t n = delta.added.size() + delta.removed.size();
  if (n * 16 > base.size()) {
    base = DeltaMaterialize(base, delta);
    return;
  }
  // A few elements in a large value: erase and insert where they belong.
  for (const Atom& k : delta.removed.keys) {
    auto it = std::lower_bound(base.keys.begin(), base.keys.end(), k);
    size_t pos = static_cast<size_t>(it - base.keys.begin());
    base.keys.erase(it);
    if (base.is_map) base.values.erase(base.values.begin() + static_cast<ptrdiff_t>(pos));
  }
  for (size_t i = 0; i < delta.added.size(); ++i) {
    auto it = std::lower_bound(base.keys.begin(), base.keys.end(), delta.added.keys[i]);
    size_t pos = static_cast<size_t>(it - base.keys.begin());
    base.keys.insert(it, delta.added.keys[i]);
    if (base.is_map) {
      base.values.insert(base.values.begin() + static_cast<ptrdiff_t>(pos), delta.added.values[i]);
    }
  }
}

Datum DeltaToDiff(const DatumDelta& delta) {
  Datum out;
  out.is_map = delta.added.is_map;
  const Datum& rem = delta.removed;
  const Datum& add = delta.added;
  size_t r = 0, a = 0;
  while (r < rem.size() || a < add.size()) {
    bool take_add = r == rem.size() || (a < add.size() && !(rem.keys[r] < add.keys[a]));
    if (take_add && r < rem.size() && rem.keys[r] == add.keys[a]) ++r;  // changed: new pair
    const Datum& from = take_add ? add : rem;
    size_t& i = take_add ? a : r;
    out.keys.push_back(from.keys[i]);
    if (out.is_map) out.values.push_back(from.values[i]);
    ++i;
  }
  return out;
}

}  // namespace sluice::db
