#include "ovsdb/condition.h"

#include <gtest/gtest.h>

#include "ovsdb/mutation.h"
#include "tests/ovsdb/ovsdb_test_util.h"

namespace sluice::db {
namespace {

using nlohmann::json;

class ConditionTest : public ::testing::Test {
 protected:
  ConditionTest()
      : schema_(test::TestSchema()),
        table_(*schema_.FindTable("Root")),
        shape_(table_),
        row_(shape_, *Uuid::Parse("11111111-2222-3333-4444-555555555555"), Uuid{}) {
    Set("i", "5");
    Set("r", "2.5");
    Set("ints", R"(["set",[1,2]])");
    Set("smap", R"(["map",[["a","x"],["b","y"]]])");
    Set("name", "\"n\"");
    Set("b", "true");
  }
  void Set(const char* col, const char* value) {
    auto d = DatumFromJson(json::parse(value), table_.FindColumn(col)->type, nullptr);
    ASSERT_TRUE(d) << d.error().details;
    row_.Set(table_.FindColumn(col)->index, *d);
  }
  DbResult<bool> Eval(const char* where) {
    auto c = ParseCondition(json::parse(where), table_, nullptr);
    if (!c) return std::unexpected(c.error());
    return Matches(*c, row_);
  }
  bool True(const char* where) {
    auto r = Eval(where);
    EXPECT_TRUE(r) << where << ": " << (r ? "" : r.error().details);
    return r && *r;
  }
  DbResult<void> Mutate(const char* mutations) {
    auto m = ParseMutations(json::parse(mutations), table_, nullptr);
    if (!m) return std::unexpected(m.error());
    for (const Mutation& mu : *m) {
      auto r = ApplyMutation(mu, table_, row_.Mutable(mu.column));
      row_.Normalize(mu.column);
      if (!r) return r;
    }
    return {};
  }
  json Get(const char* col) { return row_.Value(table_.FindColumn(col)->index)->ToJson(); }

  DatabaseSchema schema_;
  const TableSchema& table_;
  TableShape shape_;
  Row row_;
};

TEST_F(ConditionTest, OrderingFunctionsOnIntegersAndReals) {
  EXPECT_TRUE(True(R"([["i","<",6]])"));
  EXPECT_FALSE(True(R"([["i","<",5]])"));
  EXPECT_TRUE(True(R"([["i","<=",5]])"));
  EXPECT_TRUE(True(R"([["i",">=",5]])"));
  EXPECT_FALSE(True(R"([["i",">",5]])"));
  EXPECT_TRUE(True(R"([["i",">",-1000]])"));  // arguments ignore value constraints
  EXPECT_TRUE(True(R"([["r",">",2.0]])"));
  EXPECT_TRUE(True(R"([["r","<",3]])"));
  Set("r", R"(["set",[]])");
  EXPECT_FALSE(True(R"([["r","<",3]])"));  // empty optional never orders
  EXPECT_FALSE(True(R"([["r",">=",3]])"));
}

TEST_F(ConditionTest, EqualityOnEveryType) {
  EXPECT_TRUE(True(R"([["i","==",5]])"));
  EXPECT_TRUE(True(R"([["i","!=",4]])"));
  EXPECT_TRUE(True(R"([["b","==",true]])"));
  EXPECT_TRUE(True(R"([["name","==","n"]])"));
  EXPECT_TRUE(True(R"([["ints","==",["set",[2,1]]]])"));
  EXPECT_FALSE(True(R"([["ints","==",1]])"));
  EXPECT_TRUE(True(R"([["smap","==",["map",[["a","x"],["b","y"]]]]])"));
  EXPECT_TRUE(True(R"([["smap","!=",["map",[]]]])"));
  EXPECT_TRUE(True(R"([["_uuid","==",["uuid","11111111-2222-3333-4444-555555555555"]]])"));
  EXPECT_TRUE(True(R"([["_uuid","!=",["uuid","11111111-2222-3333-4444-555555555556"]]])"));
  EXPECT_TRUE(True(R"([["color","==",["set",[]]]])"));
}

TEST_F(ConditionTest, IncludesExcludes) {
  EXPECT_TRUE(True(R"([["ints","includes",1]])"));
  EXPECT_TRUE(True(R"([["ints","includes",["set",[]]]])"));
  EXPECT_FALSE(True(R"([["ints","includes",["set",[1,3]]]])"));
  EXPECT_TRUE(True(R"([["ints","excludes",["set",[3,4,5,6,7]]]])"));  // beyond column max
  EXPECT_FALSE(True(R"([["ints","excludes",2]])"));
  EXPECT_TRUE(True(R"([["smap","includes",["map",[["a","x"]]]]])"));
  EXPECT_FALSE(True(R"([["smap","includes",["map",[["a","y"]]]]])"));
  EXPECT_TRUE(True(R"([["smap","excludes",["map",[["a","y"]]]]])"));
  EXPECT_TRUE(True(R"([["i","includes",5]])"));
  EXPECT_TRUE(True(R"([["_uuid","excludes",["uuid","11111111-2222-3333-4444-555555555556"]]])"));
}

TEST_F(ConditionTest, ConjunctionAndBooleans) {
  EXPECT_TRUE(True("[]"));
  EXPECT_TRUE(True("[true]"));
  EXPECT_FALSE(True("[false]"));
  EXPECT_FALSE(True(R"([["i","==",5],["b","==",false]])"));
  EXPECT_TRUE(True(R"([["i","==",5],["b","==",true]])"));
}

TEST_F(ConditionTest, Errors) {
  EXPECT_EQ(Eval(R"([["nope","==",1]])").error().error, "unknown column");
  EXPECT_EQ(Eval(R"([["nope","==",1]])").error().details, "No column nope in table Root.");
  EXPECT_EQ(Eval(R"([["i","~",1]])").error().error, "unknown function");
  EXPECT_EQ(Eval(R"([["i","==","x"]])").error().error, "syntax error");
  EXPECT_EQ(Eval(R"([["i","=="]])").error().error, "syntax error");
  EXPECT_EQ(Eval(R"({"i":1})").error().error, "syntax error");
  auto mismatch = Eval(R"([["name","<","x"]])");
  EXPECT_EQ(mismatch.error().error, "syntax error");
  EXPECT_NE(mismatch.error().details.find("Type mismatch"), std::string::npos);
  EXPECT_EQ(Eval(R"([["ints","<",1]])").error().error, "syntax error");
}

TEST_F(ConditionTest, ArithmeticMutators) {
  ASSERT_TRUE(Mutate(R"([["i","+=",3]])"));
  EXPECT_EQ(Get("i"), json(8));
  ASSERT_TRUE(Mutate(R"([["i","-=",10]])"));
  EXPECT_EQ(Get("i"), json(-2));
  ASSERT_TRUE(Mutate(R"([["i","*=",-5]])"));
  EXPECT_EQ(Get("i"), json(10));
  ASSERT_TRUE(Mutate(R"([["i","/=",3]])"));
  EXPECT_EQ(Get("i"), json(3));
  ASSERT_TRUE(Mutate(R"([["i","%=",2]])"));
  EXPECT_EQ(Get("i"), json(1));
  ASSERT_TRUE(Mutate(R"([["r","*=",2]])"));
  EXPECT_EQ(Get("r"), json(5.0));
  ASSERT_TRUE(Mutate(R"([["r","/=",4]])"));
  EXPECT_EQ(Get("r"), json(1.25));
  ASSERT_TRUE(Mutate(R"([["ints","+=",10]])"));  // applies to every set element
  EXPECT_EQ(Get("ints"), json::parse(R"(["set",[11,12]])"));
}

TEST_F(ConditionTest, ArithmeticErrors) {
  EXPECT_EQ(Mutate(R"([["i","/=",0]])").error().error, "domain error");
  EXPECT_EQ(Mutate(R"([["i","%=",0]])").error().error, "domain error");
  EXPECT_EQ(Mutate(R"([["r","/=",0]])").error().error, "domain error");
  auto over = Mutate(R"([["i","+=",200]])");
  EXPECT_EQ(over.error().error, "constraint violation");
  EXPECT_NE(over.error().details.find("not in the valid range"), std::string::npos);
  Set("reals", "1e308");
  EXPECT_EQ(Mutate(R"([["reals","*=",10]])").error().error, "range error");
  Set("ints", "9223372036854775807");
  EXPECT_EQ(Mutate(R"([["ints","+=",1]])").error().error, "range error");
  Set("ints", "-9223372036854775808");
  EXPECT_EQ(Mutate(R"([["ints","*=",-1]])").error().error, "range error");
  EXPECT_EQ(Mutate(R"([["ints","/=",-1]])").error().error, "range error");
  Set("ints", R"(["set",[1,2]])");
  EXPECT_EQ(Mutate(R"([["ints","*=",0]])").error().error, "constraint violation");  // duplicates
  EXPECT_EQ(Mutate(R"([["r","%=",2]])").error().error, "syntax error");
  EXPECT_EQ(Mutate(R"([["name","+=",1]])").error().error, "constraint violation");  // immutable
  EXPECT_EQ(Mutate(R"([["b","+=",1]])").error().error, "syntax error");
  EXPECT_EQ(Mutate(R"([["smap","+=",1]])").error().error, "syntax error");
  EXPECT_EQ(Mutate(R"([["i","^=",1]])").error().error, "unknown mutator");
  EXPECT_EQ(Mutate(R"([["nope","+=",1]])").error().error, "unknown column");
  EXPECT_EQ(Mutate(R"([["_uuid","insert",["set",[]]]])").error().error, "constraint violation");
  EXPECT_EQ(Mutate(R"([["_version","+=",1]])").error().error, "constraint violation");
  EXPECT_EQ(Mutate(R"([["i","+="]])").error().error, "syntax error");
}

TEST_F(ConditionTest, SetInsertDelete) {
  ASSERT_TRUE(Mutate(R"([["ints","insert",["set",[0,2]]]])"));
  EXPECT_EQ(Get("ints"), json::parse(R"(["set",[0,1,2]])"));
  auto full = Mutate(R"([["ints","insert",["set",[7]]]])");
  EXPECT_EQ(full.error().error, "constraint violation");  // max 3
  Set("ints", R"(["set",[0,1,2]])");  // a failed mutation leaves the row to be discarded
  ASSERT_TRUE(Mutate(R"([["ints","delete",["set",[0,1,9]]]])"));
  EXPECT_EQ(Get("ints"), json(2));
  ASSERT_TRUE(Mutate(R"([["color","insert","red"]])"));
  EXPECT_EQ(Mutate(R"([["color","insert","green"]])").error().error, "constraint violation");
  Set("color", "\"red\"");
  Set("ints", R"(["set",[]])");
  EXPECT_EQ(Mutate(R"([["ints","insert",["set",[1,2,3,4]]]])").error().error,
            "constraint violation");
  Set("color", R"(["set",[]])");
  EXPECT_EQ(Mutate(R"([["color","insert","blue"]])").error().error, "constraint violation");
  Set("color", "\"red\"");
  ASSERT_TRUE(Mutate(R"([["color","delete","blue"]])"));  // deleting absent values is fine
  ASSERT_TRUE(Mutate(R"([["color","delete","red"]])"));
  EXPECT_EQ(Get("color"), json::parse(R"(["set",[]])"));
  EXPECT_EQ(Mutate(R"([["i","delete",5]])").error().error, "constraint violation");  // min 1
}

TEST_F(ConditionTest, MapInsertDelete) {
  ASSERT_TRUE(Mutate(R"([["smap","insert",["map",[["a","CHANGED"],["c","z"]]]]])"));
  // Insert never replaces an existing key.
  EXPECT_EQ(Get("smap"), json::parse(R"(["map",[["a","x"],["b","y"],["c","z"]]])"));
  ASSERT_TRUE(Mutate(R"([["smap","delete",["map",[["a","x"],["b","nope"]]]]])"));
  EXPECT_EQ(Get("smap"), json::parse(R"(["map",[["b","y"],["c","z"]]])"));
  ASSERT_TRUE(Mutate(R"([["smap","delete",["set",["c","q"]]]])"));
  EXPECT_EQ(Get("smap"), json::parse(R"(["map",[["b","y"]]])"));
  ASSERT_TRUE(Mutate(R"([["smap","delete","b"]])"));
  EXPECT_EQ(Get("smap"), json::parse(R"(["map",[]])"));
  EXPECT_EQ(Mutate(R"([["smap","insert",["set",["a"]]]])").error().error, "syntax error");
}

}  // namespace
}  // namespace sluice::db
