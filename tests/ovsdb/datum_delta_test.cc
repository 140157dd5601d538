// DatumDelta against the reference: applying the same "insert"/"delete" mutations to a full copy
// of the value (mutation.cc), and DiffDatum / ApplyDatumDiff for the diff form.
#include "ovsdb/datum_delta.h"

#include <random>

#include <gtest/gtest.h>

#include "ovsdb/mutation.h"

namespace sluice::db {
namespace {

Datum Sorted(Datum d) {
  EXPECT_TRUE(d.Sort());
  return d;
}

class DatumDeltaTest : public ::testing::TestWithParam<bool> {
 protected:
  bool is_map() const { return GetParam(); }
  Type ColumnType() const {
    Type t;
    t.key.type = AtomicType::kInteger;
    if (is_map()) t.value.type = AtomicType::kString;
    t.min = 0;
    t.max = kUnlimited;
    return t;
  }
  // A random value (keys from a small range so that operations collide).
  Datum Random(size_t max_n, bool as_map) {
    Datum d;
    d.is_map = as_map;
    std::vector<int64_t> keys;
    for (size_t i = rng_() % (max_n + 1); i > 0; --i) keys.push_back(rng_() % 24);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (int64_t k : keys) {
      d.keys.push_back(IntAtom(k));
      if (as_map)
        d.values.push_back(StringAtom(std::string(1, static_cast<char>('a' + rng_() % 3))));
    }
    return d;
  }
  std::mt19937 rng_{42};
};

TEST_P(DatumDeltaTest, MutationsMatchFullCopies) {
  TableSchema ts;
  ts.name = "T";
  ColumnSchema col;
  col.name = "c";
  col.type = ColumnType();
  col.index = 0;
  ts.columns.push_back(col);
  for (int round = 0; round < 3000; ++round) {
    Datum base = Random(12, is_map());
    Datum full = base;
    DatumDelta delta = MakeDelta(is_map());
    for (int step = rng_() % 6; step >= 0; --step) {
      Mutation m;
      m.column = 0;
      m.mutator = rng_() % 2 ? Mutator::kInsert : Mutator::kDelete;
      // Maps: "delete" takes either pairs or a set of keys.
      m.arg = Random(5, is_map() && (m.mutator == Mutator::kInsert || rng_() % 2));
      ASSERT_TRUE(ApplyMutation(m, ts, full));
      if (m.mutator == Mutator::kInsert) {
        DeltaInsert(base, delta, m.arg);
      } else {
        DeltaDelete(base, delta, m.arg);
      }
      ASSERT_EQ(DeltaMaterialize(base, delta), full) << "round " << round;
      ASSERT_EQ(DeltaSize(base, delta), full.size());
      ASSERT_EQ(DeltaToDiff(delta), DiffDatum(col.type, base, full));
      ASSERT_EQ(delta.empty(), base == full);
    }
    Datum in_place = base;
    DeltaApplyInPlace(in_place, delta);
    EXPECT_EQ(in_place, full);
  }
}

TEST_P(DatumDeltaTest, DiffsApplyLikeApplyDatumDiff) {
  Type t = ColumnType();
  for (int round = 0; round < 2000; ++round) {
    Datum base = Random(12, is_map());
    DatumDelta delta = MakeDelta(is_map());
    Datum expected = base;
    for (int step = rng_() % 3; step >= 0; --step) {
      Datum target = Random(12, is_map());
      Datum diff = DiffDatum(t, expected, target);
      DeltaApplyDiff(base, delta, diff);
      expected = ApplyDatumDiff(t, expected, diff);
      ASSERT_EQ(expected, target);
      ASSERT_EQ(DeltaMaterialize(base, delta), expected) << "round " << round;
    }
  }
}

TEST_P(DatumDeltaTest, LargeValueChangesInPlace) {
  Datum big;
  big.is_map = is_map();
  for (int64_t k = 0; k < 10000; k += 2) {
    big.keys.push_back(IntAtom(k));
    if (is_map()) big.values.push_back(StringAtom("v"));
  }
  DatumDelta delta = MakeDelta(is_map());
  Datum add;
  add.is_map = is_map();
  add.keys = {IntAtom(5001)};
  if (is_map()) add.values = {StringAtom("n")};
  Datum del;
  del.keys = {IntAtom(42)};
  DeltaInsert(big, delta, add);
  DeltaDelete(big, delta, del);
  EXPECT_EQ(delta.added.size() + delta.removed.size(), 2u);  // only the change is kept
  Datum expected = DeltaMaterialize(big, delta);
  DeltaApplyInPlace(big, delta);
  EXPECT_EQ(big, expected);
  EXPECT_EQ(big.size(), 5000u);
  EXPECT_TRUE(big.Contains(IntAtom(5001)));
  EXPECT_FALSE(big.Contains(IntAtom(42)));
  EXPECT_EQ(big, Sorted(big));
}

INSTANTIATE_TEST_SUITE_P(SetsAndMaps, DatumDeltaTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Map" : "Set"; });

}  // namespace
}  // namespace sluice::db
