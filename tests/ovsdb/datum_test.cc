#include "ovsdb/datum.h"

#include <gtest/gtest.h>

#include "tests/ovsdb/ovsdb_test_util.h"

namespace sluice::db {
namespace {

using nlohmann::json;

Type T(const char* text) {
  auto t = Type::FromJson(json::parse(text));
  EXPECT_TRUE(t) << text;
  return *t;
}

DbResult<Datum> Parse(const char* type, const char* value, SymbolTable* symtab = nullptr) {
  return DatumFromJson(json::parse(value), T(type), symtab);
}

TEST(UuidTest, ParseFormatAndOrder) {
  auto u = Uuid::Parse("01234567-89ab-cdef-0123-456789ABCDEF");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->ToString(), "01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_FALSE(Uuid::Parse("01234567-89ab-cdef-0123-456789abcde"));
  EXPECT_FALSE(Uuid::Parse("0123456789ab-cdef-0123-456789abcdef-"));
  EXPECT_FALSE(Uuid::Parse("g1234567-89ab-cdef-0123-456789abcdef"));
  Uuid a = Uuid::Random(), b = Uuid::Random();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.ToString()[14], '4');
  EXPECT_EQ(a < b, a.ToString() < b.ToString());
}

TEST(DatumTest, AtomsOfEveryType) {
  EXPECT_EQ(Parse("\"integer\"", "42")->ToJson(), json(42));
  EXPECT_EQ(Parse("\"real\"", "1.5")->ToJson(), json(1.5));
  EXPECT_EQ(Parse("\"real\"", "2")->ToJson().dump(), "2.0");  // integers are valid reals
  EXPECT_EQ(Parse("\"boolean\"", "true")->ToJson(), json(true));
  EXPECT_EQ(Parse("\"string\"", "\"x\"")->ToJson(), json("x"));
  const char* u = R"(["uuid","550e8400-e29b-41d4-a716-446655440000"])";
  EXPECT_EQ(Parse("\"uuid\"", u)->ToJson(), json::parse(u));
}

TEST(DatumTest, TypeMismatchesAreSyntaxErrors) {
  for (auto [type, value] : {std::pair{"\"integer\"", "1.5"},
                             {"\"integer\"", "\"1\""},
                             {"\"real\"", "true"},
                             {"\"boolean\"", "1"},
                             {"\"string\"", "1"},
                             {"\"uuid\"", "\"x\""},
                             {"\"uuid\"", R"(["uuid","nope"])"},
                             {"\"uuid\"", R"(["x","y"])"},
                             {"\"integer\"", "18446744073709551615"}}) {
    auto d = Parse(type, value);
    ASSERT_FALSE(d) << value;
    EXPECT_EQ(d.error().error, "syntax error") << value;
  }
  EXPECT_NE(Parse("\"integer\"", "\"1\"").error().details.find("expected integer"),
            std::string::npos);
}

TEST(DatumTest, SetsAndMapsAreCanonical) {
  const char* set = R"({"key":"integer","min":0,"max":"unlimited"})";
  auto d = Parse(set, R"(["set",[3,1,2]])");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ToJson(), json::parse(R"(["set",[1,2,3]])"));
  EXPECT_EQ(Parse(set, "7")->ToJson(), json(7));  // 1-element set is an atom
  EXPECT_EQ(Parse(set, R"(["set",[7]])")->ToJson(), json(7));
  EXPECT_EQ(Parse(set, R"(["set",[]])")->ToJson(), json::parse(R"(["set",[]])"));
  const char* map = R"({"key":"string","value":"integer","min":0,"max":"unlimited"})";
  auto m = Parse(map, R"(["map",[["b",2],["a",1]]])");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->ToJson(), json::parse(R"(["map",[["a",1],["b",2]]])"));
  EXPECT_EQ(Parse(map, R"(["map",[]])")->ToJson(), json::parse(R"(["map",[]])"));
  EXPECT_EQ(Parse(map, R"(["set",[]])").error().error, "syntax error");
  EXPECT_EQ(Parse(map, R"(["map",[["a"]]])").error().error, "syntax error");
  EXPECT_EQ(Parse(set, R"(["map",[]])").error().error, "syntax error");
  // Strings order bytewise, booleans false first, uuids by value.
  EXPECT_EQ(Parse(R"({"key":"string","max":3})", R"(["set",["b","B","a"]])")->ToJson(),
            json::parse(R"(["set",["B","a","b"]])"));
  EXPECT_EQ(Parse(R"({"key":"boolean","max":2})", R"(["set",[true,false]])")->ToJson(),
            json::parse(R"(["set",[false,true]])"));
}

TEST(DatumTest, DuplicatesAndCountsAreRejected) {
  auto dup = Parse(R"({"key":"integer","max":5})", R"(["set",[1,1]])");
  EXPECT_EQ(dup.error().error, "constraint violation");
  auto dupkey =
      Parse(R"({"key":"string","value":"string","max":5})", R"(["map",[["a","x"],["a","y"]]])");
  EXPECT_EQ(dupkey.error().error, "constraint violation");
  auto many = Parse(R"({"key":"integer","max":2})", R"(["set",[1,2,3]])");
  EXPECT_EQ(many.error().error, "syntax error");
  EXPECT_NE(many.error().details.find("must have 1 to 2 members but 3 are present"),
            std::string::npos);
  EXPECT_EQ(Parse("\"integer\"", R"(["set",[]])").error().error, "syntax error");
}

TEST(DatumTest, ConstraintViolations) {
  auto big = Parse(R"({"key":{"type":"integer","minInteger":0,"maxInteger":10}})", "11");
  EXPECT_EQ(big.error().error, "constraint violation");
  EXPECT_NE(big.error().details.find("11 is not in the valid range 0 to 10"), std::string::npos);
  EXPECT_TRUE(Parse(R"({"key":{"type":"integer","minInteger":0,"maxInteger":10}})", "10"));
  auto real = Parse(R"({"key":{"type":"real","maxReal":1.5}})", "1.6");
  EXPECT_EQ(real.error().error, "constraint violation");
  auto en = Parse(R"({"key":{"type":"string","enum":["set",["a","b"]]}})", "\"c\"");
  EXPECT_EQ(en.error().error, "constraint violation");
  EXPECT_NE(en.error().details.find("\"c\" is not one of the allowed values"), std::string::npos);
  EXPECT_TRUE(Parse(R"({"key":{"type":"string","enum":"a"}})", "\"a\""));
  auto shortstr = Parse(R"({"key":{"type":"string","minLength":2}})", "\"x\"");
  EXPECT_EQ(shortstr.error().error, "constraint violation");
  EXPECT_NE(shortstr.error().details.find("less than minimum allowed length 2"), std::string::npos);
  // Length counts characters, not bytes.
  EXPECT_TRUE(Parse(R"({"key":{"type":"string","maxLength":2}})", "\"\u00e9\u00e9\""));
  auto longstr = Parse(R"({"key":{"type":"string","maxLength":2}})", "\"abc\"");
  EXPECT_NE(longstr.error().details.find("greater than maximum allowed length 2"),
            std::string::npos);
  auto mapval = Parse(R"({"key":"string","value":{"type":"integer","maxInteger":1},"max":2})",
                      R"(["map",[["a",2]]])");
  EXPECT_EQ(mapval.error().error, "constraint violation");
}

TEST(DatumTest, Defaults) {
  EXPECT_EQ(Datum::Default(T("\"integer\"")).ToJson(), json(0));
  EXPECT_EQ(Datum::Default(T("\"real\"")).ToJson().dump(), "0.0");
  EXPECT_EQ(Datum::Default(T("\"boolean\"")).ToJson(), json(false));
  EXPECT_EQ(Datum::Default(T("\"string\"")).ToJson(), json(""));
  EXPECT_EQ(Datum::Default(T("\"uuid\"")).ToJson(),
            json::parse(R"(["uuid","00000000-0000-0000-0000-000000000000"])"));
  EXPECT_EQ(Datum::Default(T(R"({"key":"integer","min":0})")).ToJson(),
            json::parse(R"(["set",[]])"));
  EXPECT_EQ(
      Datum::Default(T(R"({"key":"string","value":"string","min":0,"max":"unlimited"})")).ToJson(),
      json::parse(R"(["map",[]])"));
  EXPECT_EQ(Datum::Default(T(R"({"key":"string","value":"integer"})")).ToJson(),
            json::parse(R"(["map",[["",0]]])"));
}

TEST(DatumTest, NamedUuidsNeedASymbolTable) {
  EXPECT_EQ(Parse("\"uuid\"", R"(["named-uuid","x"])").error().error, "syntax error");
  SymbolTable st;
  auto a = Parse("\"uuid\"", R"(["named-uuid","x"])", &st);
  auto b = Parse("\"uuid\"", R"(["named-uuid","x"])", &st);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(std::get<Uuid>(a->keys[0]), st.Find("x")->uuid);
  EXPECT_FALSE(st.Find("x")->created);
}

TEST(DatumTest, IncludesExcludes) {
  const char* map = R"({"key":"string","value":"integer","min":0,"max":"unlimited"})";
  Datum m = *Parse(map, R"(["map",[["a",1],["b",2]]])");
  EXPECT_TRUE(m.Includes(*Parse(map, R"(["map",[["a",1]]])")));
  EXPECT_FALSE(m.Includes(*Parse(map, R"(["map",[["a",2]]])")));
  EXPECT_TRUE(m.Excludes(*Parse(map, R"(["map",[["a",2]]])")));
  EXPECT_FALSE(m.Excludes(*Parse(map, R"(["map",[["b",2]]])")));
}

}  // namespace
}  // namespace sluice::db
