// JsonDoc must read exactly what nlohmann::json reads (the server falls back to nlohmann for
// what it declines, so declining is allowed; accepting something nlohmann rejects, or reading
// it differently, is not).
#include "ovsdb/json_doc.h"

#include <random>

#include <gtest/gtest.h>

namespace sluice::db {
namespace {

using nlohmann::json;

// Parses with both; returns false if JsonDoc declined.
bool SameAsNlohmann(const std::string& text) {
  JsonDoc doc;
  bool ours = doc.Parse(text);
  json theirs = json::parse(text, nullptr, false);
  if (!ours) return false;
  EXPECT_FALSE(theirs.is_discarded()) << "JsonDoc accepted what nlohmann rejects: " << text;
  EXPECT_EQ(doc.root().ToJson(), theirs) << text;
  return true;
}

TEST(JsonDocTest, ReadsWhatNlohmannReads) {
  for (const char* text :
       {R"({"method":"transact","params":["Db",{"op":"insert","table":"T","row":{"a":1}}],"id":7})",
        R"([])", R"({})", R"([1,-2,3.5,-0.25,1e3,1E-2,0,-0,18446744073709551615])",
        R"(["\u00e9\ud83d\ude00\n\t\"\\\/\b\f\r","plain",""])", R"(  [true , false,null ] )",
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", R"({"a":{"b":[{"c":[]}]}})",
        R"([-9223372036854775808, 9223372036854775807, 9223372036854775808])",
        R"([123456789012345678901234567890, -123456789012345678901])"}) {
    EXPECT_TRUE(SameAsNlohmann(text)) << text;
  }
}

TEST(JsonDocTest, RejectsWhatNlohmannRejects) {
  for (const char* text : {"",
                           "[",
                           "]",
                           "{\"a\"}",
                           "{\"a\":}",
                           "[1,]",
                           "[1 2]",
                           "{\"a\":1,}",
                           "01",
                           "1.",
                           ".5",
                           "-",
                           "1e",
                           "tru",
                           "nul",
                           "\"unterminated",
                           "\"\\x\"",
                           "\"\\u12\"",
                           "\"\\ud800\"",
                           "\"\\udc00\"",
                           "\"a\x01\"",
                           "[1] x",
                           "\"\xc0\xaf\"",
                           "\"\xed\xa0\x80\"",
                           "\"\xf5\x80\x80\x80\"",
                           "\"\xe2\x82\"",
                           "{1:2}",
                           "[\"a\" \"b\"]"}) {
    JsonDoc doc;
    EXPECT_FALSE(doc.Parse(text)) << text;
    EXPECT_TRUE(json::parse(text, nullptr, false).is_discarded()) << text;
  }
}

TEST(JsonDocTest, LastDuplicateKeyWinsAsInNlohmann) {
  EXPECT_TRUE(SameAsNlohmann(R"({"a":1,"b":2,"a":3})"));
  std::string big = "{";
  for (int i = 0; i < 40; ++i)
    big += "\"k" + std::to_string(i % 25) + "\":" + std::to_string(i) + ",";
  big += "\"end\":0}";
  EXPECT_TRUE(SameAsNlohmann(big));
  JsonDoc doc;
  ASSERT_TRUE(doc.Parse(R"({"a":1,"a":2})"));
  EXPECT_EQ(doc.root().size(), 1u);
  EXPECT_EQ(IntOf(*doc.root().find("a")), 2);
}

TEST(JsonDocTest, AccessorsMatchNlohmannTypes) {
  JsonDoc doc;
  ASSERT_TRUE(doc.Parse(R"({"s":"x","u":5,"i":-5,"r":2.5,"b":true,"n":null,"a":[1,2]})"));
  const JsonNode& r = doc.root();
  json j = r.ToJson();
  for (const char* k : {"s", "u", "i", "r", "b", "n", "a"}) {
    const JsonNode& v = *r.find(k);
    EXPECT_EQ(v.is_string(), j[k].is_string()) << k;
    EXPECT_EQ(v.is_number(), j[k].is_number()) << k;
    EXPECT_EQ(v.is_number_integer(), j[k].is_number_integer()) << k;
    EXPECT_EQ(v.is_number_unsigned(), j[k].is_number_unsigned()) << k;
    EXPECT_EQ(v.is_boolean(), j[k].is_boolean()) << k;
    EXPECT_EQ(v.is_null(), j[k].is_null()) << k;
    EXPECT_EQ(v.is_array(), j[k].is_array()) << k;
    EXPECT_EQ(v.size(), j[k].size()) << k;
  }
  EXPECT_EQ(r.find("zz"), r.end());
  EXPECT_TRUE(r.contains("a") && !r.contains("zz"));
  EXPECT_EQ(r.find("a")->operator[](1).get<int64_t>(), 2);
  EXPECT_EQ(*r.find("s"), "x");
  int members = 0;
  for (const auto& [key, value] : r.items()) {
    EXPECT_EQ(value.ToJson(), j[std::string(key)]);
    ++members;
  }
  EXPECT_EQ(members, 7);
}

// Random documents (deep, wide, with every value kind and escapes) read the same both ways.
TEST(JsonDocTest, RandomDocumentsRoundTrip) {
  std::mt19937 rng(7);
  std::function<json(int)> gen = [&](int depth) -> json {
    switch (rng() % (depth > 4 ? 5 : 7)) {
      case 0:
        return static_cast<int64_t>(rng()) - (1 << 30);
      case 1:
        return std::ldexp(static_cast<double>(rng()), -static_cast<int>(rng() % 40));
      case 2:
        return rng() % 2 == 0;
      case 3:
        return nullptr;
      case 4: {
        std::string s;
        for (int i = rng() % 12; i > 0; --i) {
          static const char* pieces[] = {
              "a", "\"", "\\", "\n", "\x01", "\xc3\xa9", "\xf0\x9f\x98\x80", "/"};
          s += pieces[rng() % 8];
        }
        return s;
      }
      case 5: {
        json a = json::array();
        for (int i = rng() % 5; i > 0; --i) a.push_back(gen(depth + 1));
        return a;
      }
      default: {
        json o = json::object();
        for (int i = rng() % 5; i > 0; --i) o["k" + std::to_string(rng() % 6)] = gen(depth + 1);
        return o;
      }
    }
  };
  for (int i = 0; i < 500; ++i) {
    json j = gen(0);
    std::string text = j.dump(i % 2 ? 1 : -1);
    JsonDoc doc;
    ASSERT_TRUE(doc.Parse(text)) << text;
    EXPECT_EQ(doc.root().ToJson(), j) << text;
  }
}

}  // namespace
}  // namespace sluice::db
